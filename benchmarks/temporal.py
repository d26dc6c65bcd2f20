"""Temporal quality of a config's masks on the real clips, beside the same config without
temporal smoothing (`mask.temporal_smoothing: 0`), in the same run. Definitions:
vcamseg/bench/temporal.py. The DAVIS clip has a ground-truth mask per frame (IoU, flicker where
the truth does not change, IoU on the changed pixels); the talking-head clips have none (flicker
over all pixels and where the picture is still).

python benchmarks/temporal.py [--config FILE] [--set KEY=VALUE]... [--clips NAME...]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2

from vcamseg.bench.accuracy import calibrate
from vcamseg.bench.temporal import TemporalScore, predicted_masks, score, video_frames
from vcamseg.cli.common import add_config_args, load_cli_config
from vcamseg.logs import setup_logging
from vcamseg.pipeline.builder import segmenter_for

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
CLIPS = ("davis2016_parkour", "intel_headpose_female", "intel_headpose_male", "intel_asl_again")


def _fmt(value: float | None, percent: bool = False) -> str:
    if value is None:
        return ""
    return f"{100 * value:.3f} %" if percent else f"{value:.3f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_config_args(parser)
    parser.add_argument("--data", type=Path, default=DATA, help="the shared data folder")
    parser.add_argument("--clips", nargs="*", default=list(CLIPS), help="video names (without .mp4)")
    args = parser.parse_args(argv)
    setup_logging("WARNING")
    cfg = load_cli_config(args)
    unsmoothed = cfg.model_copy(deep=True)
    unsmoothed.mask.temporal_smoothing = 0.0
    segmenter = segmenter_for(cfg.model, cfg.segmentation)
    print(
        f"config: temporal_smoothing {cfg.mask.temporal_smoothing}, motion_threshold {cfg.mask.motion_threshold}, "
        f"segment every {cfg.pipeline.segment_every_n_frames} frames"
    )
    print("| clip | masks | frames | IoU | flicker | IoU on changed pixels | flicker where still |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for clip in args.clips:
        frames = list(video_frames(args.data / "videos" / f"{clip}.mp4"))
        calibrate(segmenter, frames)
        truth_dir = args.data / "video_masks" / clip
        truth = (
            [cv2.imread(str(truth_dir / f"{i:06d}.png"), cv2.IMREAD_GRAYSCALE) > 127 for i in range(len(frames))]
            if truth_dir.is_dir()
            else None
        )
        for name, config in (("config", cfg), ("unsmoothed", unsmoothed)):
            s: TemporalScore = score(predicted_masks(config, segmenter, frames), truth, frames)
            print(
                f"| {clip} | {name} | {s.frames} | {_fmt(s.iou)} | {_fmt(s.flicker, True)} | {_fmt(s.changed_iou)} "
                f"| {_fmt(s.flicker_still, True)} |"
            )
    print(f"(inference on {segmenter.device})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
