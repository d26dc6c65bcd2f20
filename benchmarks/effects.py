"""Milliseconds per 1280x720 frame for the mask refiner and each effect at its defaults.

A real frame of sam2_bedroom.mp4 (two children, full body) upscaled to 1280x720 and its real
BodyPix segmentation (MobileNetV1 0.50, stride 16, multi-person so that per-person colours
have people); every row is the median (and 90th percentile) of N timed runs after warm-up, on a
fresh copy of the frame each run (the copy is not timed). The refiner alternates between two
segmentations so that its temporal state advances every frame, as with a live model. The
segmentation's own lazy full-size arrays (part map, people) are computed once per model
result by the Segmentation and are timed on their own row, not in the effects that use them.
``spotlight`` and ``frame`` locate people once per model result: they alternate between the two
results, so every timed frame pays for that (the worst case: a model result for every frame);
``frame`` is timed once its crop has settled (zoomed in, for each target: the picture and the
matte are warped every frame).

python benchmarks/effects.py [--runs 50] [--video PATH] [--frame 30]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import cv2
import numpy as np

from vcamseg.config import Config
from vcamseg.config.effects import (
    BlurConfig,
    BlurPartsConfig,
    FrameConfig,
    MaskViewConfig,
    MirrorConfig,
    NoneConfig,
    PartsConfig,
    PixelateConfig,
    PoseConfig,
    ReplaceConfig,
    SpotlightConfig,
)
from vcamseg.config.mask import MaskConfig
from vcamseg.effects.compositor import Compositor
from vcamseg.effects.refine import MaskRefiner
from vcamseg.effects.registry import build_effect
from vcamseg.pipeline.builder import segmenter_for

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
DATA = SHARED / "data"
MODEL = SHARED / "models" / "bodypix" / "mobilenet" / "float" / "050" / "model-stride16.json"
WIDTH, HEIGHT = 1280, 720


def read_frames(video: Path, index: int) -> tuple[np.ndarray, np.ndarray]:
    """Frames ``index`` and ``index + 1`` at 1280x720."""
    capture = cv2.VideoCapture(str(video))
    frames = []
    for i in range(index + 2):
        ok, frame = capture.read()
        if not ok:
            raise SystemExit(f"{video} has fewer than {index + 2} frames")
        if i >= index:
            frames.append(cv2.resize(frame, (WIDTH, HEIGHT), interpolation=cv2.INTER_LINEAR))
    capture.release()
    return frames[0], frames[1]


def timed(run: Callable[[np.ndarray], object], frame: np.ndarray, runs: int, warmup: int = 5) -> tuple[float, float]:
    """(median, p90) milliseconds of ``run(copy of frame)``."""
    scratch = frame.copy()
    samples = []
    for i in range(warmup + runs):
        np.copyto(scratch, frame)
        start = time.perf_counter()
        run(scratch)
        elapsed = (time.perf_counter() - start) * 1000.0
        if i >= warmup:
            samples.append(elapsed)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(0.9 * len(samples)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--video", type=Path, default=DATA / "videos" / "sam2_bedroom.mp4")
    parser.add_argument("--frame", type=int, default=30)
    args = parser.parse_args(argv)

    frame, next_frame = read_frames(args.video, args.frame)
    config = Config()
    config.segmentation.multi_person = True
    segmenter = segmenter_for(config.model, config.segmentation, model_json=MODEL)
    segs = [segmenter.segment(frame), segmenter.segment(next_frame)]
    for seg in segs:
        seg.scores  # noqa: B018  (the model's full-size scores are the segmenter's cost)

    rows: list[tuple[str, str, float, float]] = []

    def lazy_arrays(_: np.ndarray) -> None:
        seg = segmenter.segment(frame)
        seg.scores  # noqa: B018
        start = time.perf_counter()
        seg.part_ids  # noqa: B018
        seg.people  # noqa: B018
        lazy.append((time.perf_counter() - start) * 1000.0)

    lazy: list[float] = []
    timed(lazy_arrays, frame, min(args.runs, 20), warmup=2)
    rows.append(("(segmentation)", "part_ids + people, once per result", statistics.median(lazy), max(lazy)))

    for name, mask in [
        ("refine", MaskConfig()),
        ("refine", MaskConfig(edges="guided")),
        ("refine", MaskConfig(edges="none")),
        ("refine", MaskConfig(temporal_smoothing=0.0)),
    ]:
        refiner = MaskRefiner(mask)
        turn = iter(range(10**9))
        ms = timed(lambda f, r=refiner, t=turn: r.refine(f, segs[next(t) % 2]), frame, args.runs)
        rows.append((name, _describe(mask, MaskConfig()), *ms))

    seg = MaskRefiner(MaskConfig()).refine(frame, segs[0])
    seg.part_ids  # noqa: B018
    seg.people  # noqa: B018
    picture = next((DATA / "images" / "voc2011_labelme").glob("*.jpg"))
    effects = [
        BlurConfig(),
        ReplaceConfig(color="chroma_green"),
        ReplaceConfig(image=picture),
        ReplaceConfig(video=DATA / "videos" / "intel_asl_again.mp4"),
        PartsConfig(),
        PartsConfig(per_person=True),
        PartsConfig(mask_blur=5),
        PixelateConfig(),
        BlurPartsConfig(),
        MaskViewConfig(),
        MaskViewConfig(mode="parts"),
        MirrorConfig(),
        NoneConfig(),
    ]
    for effect_config in effects:
        effect = build_effect(effect_config)
        ms = timed(lambda f, e=effect: e.apply(f, seg), frame, args.runs)
        rows.append((effect_config.type, _describe(effect_config, type(effect_config).model_construct()), *ms))
        effect.close()

    # Effects that locate people once per model result: a new result every frame.
    other = MaskRefiner(MaskConfig()).refine(next_frame, segs[1])
    other.part_ids  # noqa: B018
    other.people  # noqa: B018
    for effect_config in [
        SpotlightConfig(),
        FrameConfig(),
        FrameConfig(target="head"),
        FrameConfig(target="group"),
        PoseConfig(),
    ]:
        effect = build_effect(effect_config)
        for i in range(200):  # the crop settles (frame)
            effect.apply(frame.copy(), (seg, other)[i % 2])
        turn = iter(range(10**9))
        ms = timed(lambda f, e=effect, t=turn: e.apply(f, (seg, other)[next(t) % 2]), frame, args.runs)
        rows.append((effect_config.type, _describe(effect_config, type(effect_config).model_construct()), *ms))
        effect.close()

    compositor = Compositor(config.mask, config.effects)
    turn = iter(range(10**9))
    ms = timed(lambda f: compositor.apply(f, segs[next(turn) % 2]), frame, args.runs)
    rows.append(("compositor", "default config (refine + blur)", *ms))

    print(
        f"ms per {WIDTH}x{HEIGHT} frame, {args.video.name} frame {args.frame}, median of {args.runs} runs; "
        f"{os.cpu_count()} CPUs, OpenCV {cv2.__version__} ({cv2.getNumThreads()} threads)"
    )
    print(f"{'effect':<16} {'config':<48} {'median':>8} {'p90':>8}")
    for name, described, median, p90 in rows:
        print(f"{name:<16} {described:<48} {median:8.2f} {p90:8.2f}")
    return 0


def _describe(config: object, defaults: object) -> str:
    """The settings that differ from the defaults, or 'defaults'."""
    changed = {k: v for k, v in vars(config).items() if k != "type" and getattr(defaults, k, None) != v}
    if not changed:
        return "defaults"
    text = ", ".join(f"{k}={v.name if isinstance(v, Path) else v}" for k, v in changed.items())
    return text if len(text) <= 48 else text[:45] + "..."


if __name__ == "__main__":
    sys.exit(main())
