"""What limits person mIoU: a config's measured score beside oracle ceilings, each of which fixes
one kind of error with the ground truth (see benchmarks/lib/ceiling.py): the best threshold per
image, no far false positives (unlabelled bystanders, bags), perfect edges, no missed regions.

python benchmarks/accuracy_ceiling.py [--config FILE] [--set KEY=VALUE]... [--index PATH]
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import defaultdict
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
from accuracy import DEFAULT_INDEX
from lib.ceiling import NAMES, ceilings

from vcamseg.bench.accuracy import calibrate, load_index, read_gray
from vcamseg.cli.common import add_config_args, load_cli_config
from vcamseg.logs import setup_logging
from vcamseg.pipeline.builder import segmenter_for


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_config_args(parser)
    parser.add_argument("--index", type=Path, default=DEFAULT_INDEX, help="index.csv of the image set")
    args = parser.parse_args(argv)
    setup_logging("WARNING")
    cfg = load_cli_config(args)
    root = args.index.parent
    rows, images = load_index(args.index)
    segmenter = segmenter_for(cfg.model, cfg.segmentation)
    calibrate(segmenter, images)  # int8: score the model a running daemon would use
    per_source: dict[str, list[list[float]]] = defaultdict(list)
    for row, image in zip(rows, images, strict=True):
        values = list(ceilings(image, read_gray(root / row["mask"]) > 127, segmenter, cfg.mask).values())
        per_source[row["source"]].append(values)
        per_source["**all**"].append(values)
    print("| source | images | " + " | ".join(NAMES) + " |")
    print("|---|---:|" + "---:|" * len(NAMES))
    for source, values in sorted(per_source.items(), key=lambda item: item[0] == "**all**"):
        print(f"| {source} | {len(values)} | " + " | ".join(f"{m:.3f}" for m in np.mean(values, axis=0)) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
