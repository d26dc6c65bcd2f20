"""Person mIoU per source over ../shared/data/index.csv for any config.

python benchmarks/accuracy.py [--config FILE] [--set KEY=VALUE]... [--index PATH]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from vcamseg.bench.accuracy import evaluate
from vcamseg.cli.common import add_config_args, load_cli_config
from vcamseg.logs import setup_logging

DEFAULT_INDEX = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "index.csv"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_config_args(parser)
    parser.add_argument("--index", type=Path, default=DEFAULT_INDEX, help="index.csv of the image set")
    parser.add_argument("--limit", type=int, help="only the first N images")
    args = parser.parse_args(argv)
    setup_logging("WARNING")
    cfg = load_cli_config(args)
    report = evaluate(cfg, args.index, limit=args.limit)
    m = cfg.model
    print(
        f"config: {m.architecture} {m.effective_multiplier:.2f} stride {m.output_stride} quant {m.quant_bytes}, "
        f"internal_resolution {cfg.segmentation.internal_resolution}, threshold {cfg.segmentation.threshold}, "
        f"edges {cfg.mask.edges}"
    )
    print(report.table())
    print(f"({report.seconds:.1f} s; inference on {report.device})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
