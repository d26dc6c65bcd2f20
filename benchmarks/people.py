"""Per-person accuracy over ../shared/data/instances.csv for any config (multi-person on):
recall and precision at IoU 0.5, mean IoU per true person, exact person count, and the binary
person mask's IoU on the same images. Definitions: vcamseg/bench/people.py.

python benchmarks/people.py [--config FILE] [--set KEY=VALUE]... [--instances PATH] [--per-image]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from vcamseg.bench.people import evaluate_people
from vcamseg.cli.common import add_config_args, load_cli_config
from vcamseg.logs import setup_logging

DEFAULT_INSTANCES = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "instances.csv"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_config_args(parser)
    parser.add_argument("--instances", type=Path, default=DEFAULT_INSTANCES, help="instances.csv of the image set")
    parser.add_argument("--limit", type=int, help="only the first N images")
    parser.add_argument("--per-image", action="store_true", help="also a row per image")
    args = parser.parse_args(argv)
    setup_logging("WARNING")
    cfg = load_cli_config(args)
    report = evaluate_people(cfg, args.instances, limit=args.limit)
    m = cfg.model
    print(
        f"config: {m.architecture} {m.effective_multiplier:.2f} stride {m.output_stride} quant {m.quant_bytes}, "
        f"selfie {m.selfie}, multi_person on, edges {cfg.mask.edges}"
    )
    print(report.table())
    if args.per_image:
        print()
        print(report.per_image())
    print(f"({report.seconds:.1f} s; inference on {report.device})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
