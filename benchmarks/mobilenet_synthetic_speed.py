"""MobileNetV1 0.75 and 1.00 float inference speed on this machine, with synthetic weights (their
real shards are not available here, only the official model.json files in
shared/models/bodypix-topology-only): the rows of ``vcamseg bench speed`` (TensorFlow vs TFLite
float vs TFLite int8, median model ms at the input ``internal_resolution`` gives for 640x480 and
1280x720 frames), for output strides 8 and 16.

A convolution costs the same whatever its weights' values. To show it on this machine, the run
also times mobilenet-050-float-s16 twice, with its real weights and with synthetic ones built
from its own model.json; the real-weights row is measured first and last, as the baseline the
other rows are compared with.

python benchmarks/mobilenet_synthetic_speed.py [--runs 7] [--strides 16 8] [--set KEY=VALUE]...
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from daemon_harness import DEFAULT_VIDEO, SHARED
from lib.synthetic import synthesise_from

from vcamseg.bench.speed import graph_rows, inference_rows, inference_table
from vcamseg.cli.common import add_config_args, load_cli_config
from vcamseg.logs import setup_logging
from vcamseg.models.catalogue import parse_variant_key
from vcamseg.models.files import model_digest
from vcamseg.segmentation.graph import load_graph
from vcamseg.segmentation.loader import LoadedModel, cache_dir_for
from vcamseg.segmentation.segmenter import Segmenter

TOPOLOGY = SHARED / "models" / "bodypix-topology-only" / "mobilenet" / "float"
BASELINE = "mobilenet-050-float-s16"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_config_args(parser)
    parser.add_argument("--runs", type=int, default=7, help="timed runs per measurement (median reported)")
    parser.add_argument("--strides", type=int, nargs="+", default=[16, 8], choices=[8, 16])
    parser.add_argument(
        "--video", type=Path, default=DEFAULT_VIDEO, help="real video whose frames calibrate the int8 model"
    )
    args = parser.parse_args(argv)
    setup_logging("WARNING")
    cfg = load_cli_config(args)
    cfg.model.selfie = "off"  # these rows time the BodyPix graph alone
    baseline = [parse_variant_key(BASELINE)]
    rows = inference_rows(cfg, baseline, args.video, runs=args.runs)
    with tempfile.TemporaryDirectory() as tmp:
        real_json = SHARED / "models" / baseline[0].relpath
        synthetic = [(f"{BASELINE} (synthetic weights)", real_json, 0.5, 16)]
        synthetic += [
            (
                f"mobilenet-{folder}-float-s{stride} (synthetic weights)",
                TOPOLOGY / folder / f"model-stride{stride}.json",
                m,
                stride,
            )
            for folder, m in (("075", 0.75), ("100", 1.0))
            for stride in args.strides
        ]
        for key, topology, multiplier, stride in synthetic:
            model_json = synthesise_from(topology, Path(tmp) / key.split()[0])
            model = type(cfg.model).model_validate(
                {
                    **cfg.model.model_dump(),
                    "architecture": "MobileNetV1",
                    "output_stride": stride,
                    "multiplier": multiplier,
                    "quant_bytes": 4,
                    "cache_dir": Path(tmp) / "cache",
                }
            )
            graph = load_graph(model_json, "MobileNetV1", stride, digest=model_digest(model_json))
            segmenter = Segmenter(LoadedModel(model, graph, {}, cache_dir_for(model)), cfg.segmentation)
            rows += graph_rows(key, segmenter, args.video, runs=args.runs)
    rows += inference_rows(cfg, baseline, args.video, runs=args.runs)
    print(inference_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
