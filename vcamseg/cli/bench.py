"""``vcamseg bench``: speed (per variant, TF vs TFLite, and the full segmentation of a frame)
and accuracy (person mIoU on an image set with ground truth). Figures are medians; run on an
otherwise idle machine."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from vcamseg.cli.common import add_config_args, load_cli_config
from vcamseg.errors import InputError

# The data to measure on is the user's (the project's own lives in the checkout's ../shared, which an
# installed package knows nothing of): $VCAMSEG_SHARED gives a folder laid out like it.
_SHARED = Path(os.environ["VCAMSEG_SHARED"]) if os.environ.get("VCAMSEG_SHARED") else None


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="measure inference speed and mask accuracy", description=__doc__)
    add_config_args(p)
    p.add_argument("what", nargs="?", choices=["speed", "accuracy"], default="speed")
    p.add_argument(
        "--variants",
        choices=["configured", "local"],
        default="configured",
        help="speed: only the configured variant, or every variant found locally",
    )
    p.add_argument("--runs", type=int, default=30, help="timed runs per measurement (median reported)")
    p.add_argument(
        "--video",
        type=Path,
        default=_SHARED / "data" / "videos" / "sam2_bedroom.mp4" if _SHARED else None,
        help="speed: a real video with people, whose frames are segmented "
        "(default: $VCAMSEG_SHARED/data/videos/sam2_bedroom.mp4)",
    )
    p.add_argument(
        "--index",
        type=Path,
        default=_SHARED / "data" / "index.csv" if _SHARED else None,
        help="accuracy: index.csv of images with ground-truth masks (columns image, mask, source; "
        "default: $VCAMSEG_SHARED/data/index.csv)",
    )
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    cfg = load_cli_config(args)
    needed = "index" if args.what == "accuracy" else "video"
    if getattr(args, needed) is None:
        raise InputError(
            f"bench {args.what} needs --{needed}",
            fix=f"give --{needed} PATH, or set VCAMSEG_SHARED to a folder laid out like the "
            "project's ../shared (data/videos, data/index.csv)",
        )
    if args.what == "accuracy":
        from vcamseg.bench.accuracy import evaluate

        report = evaluate(cfg, args.index)
        print(report.table())
        return 0
    from vcamseg.bench import speed
    from vcamseg.models.catalogue import variant_for

    variants = speed.local_variants(cfg) if args.variants == "local" else [variant_for(cfg.model)]
    print(speed.inference_table(speed.inference_rows(cfg, variants, args.video, runs=args.runs)))
    print()
    print("| config | frame | total ms | preprocess | model | decode | full-size mask | device |")
    print("|---|---|---:|---:|---:|---:|---:|---|")
    for h, w in speed.FRAME_SIZES:
        frames = [speed.video_frame(args.video, (h, w), i) for i in range(30, 200, 2)]
        t = speed.segmentation_ms(cfg, frames, runs=args.runs)
        selfie = "" if cfg.model.selfie == "off" else f" + selfie {cfg.model.selfie}"
        print(
            f"| {variant_for(cfg.model).key} {cfg.segmentation.internal_resolution}{selfie} | {w}x{h} | "
            f"**{t.total_ms:.1f}** | {t.preprocess_ms:.1f} | {t.model_ms:.1f} | {t.decode_ms:.1f} | "
            f"{t.upsample_ms:.1f} | {t.device} |"
        )
    return 0
