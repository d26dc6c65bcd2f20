"""ResNet50 inference speed on this machine, with synthetic weights (the real ~90 MB shards are
not available here, only the official topology): the same rows as ``vcamseg bench speed``
(TensorFlow vs TFLite float vs TFLite int8, median model ms at the input the configured
internal_resolution gives for 640x480 and 1280x720 frames), for output strides 16 and 32.

A convolution costs the same whatever its weights' values, so these are ResNet50's real
costs; only its accuracy cannot be measured without the real weights. The MobileNetV1 rows of
the same table come from `vcamseg bench speed --variants local`; run both in one session to
compare them.

python benchmarks/resnet50_speed.py [--runs 7] [--set KEY=VALUE]... [--topology DIR] [--video PATH]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from daemon_harness import DEFAULT_VIDEO, SHARED
from lib.synthetic import synthesise_resnet50

from vcamseg.bench.speed import graph_rows, inference_table
from vcamseg.cli.common import add_config_args, load_cli_config
from vcamseg.logs import setup_logging
from vcamseg.models.files import model_digest
from vcamseg.segmentation.graph import load_graph
from vcamseg.segmentation.loader import LoadedModel, cache_dir_for
from vcamseg.segmentation.segmenter import Segmenter


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_config_args(parser)
    parser.add_argument("--runs", type=int, default=7, help="timed runs per measurement (median reported)")
    parser.add_argument(
        "--topology",
        type=Path,
        default=SHARED / "models" / "bodypix-topology-only" / "resnet50",
        help="folder with <quant>/model-stride16.json (the official ResNet50 topology)",
    )
    parser.add_argument(
        "--video", type=Path, default=DEFAULT_VIDEO, help="real video whose frames calibrate the int8 model"
    )
    args = parser.parse_args(argv)
    setup_logging("WARNING")
    cfg = load_cli_config(args)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for stride in (16, 32):
            model_json = synthesise_resnet50(args.topology, "float", Path(tmp) / f"s{stride}", stride)
            model = type(cfg.model).model_validate(
                {
                    **cfg.model.model_dump(),
                    "architecture": "ResNet50",
                    "output_stride": stride,
                    "multiplier": None,
                    "cache_dir": Path(tmp) / "cache",
                }
            )
            graph = load_graph(model_json, "ResNet50", stride, digest=model_digest(model_json))
            # No selfie model: these rows time the BodyPix graph alone.
            segmenter = Segmenter(LoadedModel(model, graph, {}, cache_dir_for(model)), cfg.segmentation)
            rows += graph_rows(f"resnet50-s{stride} (synthetic weights)", segmenter, args.video, runs=args.runs)
    print(inference_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
