"""Temporal quality of the masks a config produces on a video, frame after frame as the daemon
makes them: one refiner per clip (its temporal state kept), the model run every
``pipeline.segment_every_n_frames``-th frame and its result reused in between.

* ``iou``: the mean per-frame IoU against a ground-truth mask per frame (when the clip has one);
* ``flicker``: the mean, over consecutive frame pairs, of the share of pixels whose predicted label
  changes although the ground truth's does not (without ground truth: every change counts);
* ``changed_iou``: the IoU pooled over the pixels whose ground truth changed between the two
  frames (the moving edges: a mask that lags behind the person scores low there);
* ``flicker_still``: without ground truth, the flicker where the picture itself is still (grey
  change under `STILL_GREY` after a blur): changes there are the mask's, not the person's.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from vcamseg.config import Config
from vcamseg.effects.refine import MaskRefiner
from vcamseg.imaging import mask_iou
from vcamseg.segmentation.result import Segmentation
from vcamseg.segmentation.segmenter import Segmenter

STILL_GREY = 6  # grey-level change (0-255, 5x5 blur, half size) below which a pixel is still


@dataclass(frozen=True)
class TemporalScore:
    frames: int
    flicker: float
    iou: float | None = None
    changed_iou: float | None = None
    flicker_still: float | None = None


def video_frames(path: Path) -> Iterator[np.ndarray]:
    capture = cv2.VideoCapture(str(path))
    try:
        while (got := capture.read())[0]:
            yield got[1]
    finally:
        capture.release()


def predicted_masks(config: Config, segmenter: Segmenter, frames: Sequence[np.ndarray]) -> list[np.ndarray]:
    """The refined matte (>= 128) of every frame, as the daemon's compose stage makes them."""
    refiner = MaskRefiner(config.mask)
    every = config.pipeline.segment_every_n_frames
    seg: Segmentation | None = None
    masks = []
    for i, frame in enumerate(frames):
        if seg is None or i % every == 0:
            seg = segmenter.segment(frame)
        masks.append(refiner.refine(frame, seg).alpha >= 128)
    return masks


def score(
    masks: Sequence[np.ndarray], truth: Sequence[np.ndarray] | None, frames: Sequence[np.ndarray]
) -> TemporalScore:
    """The figures of one clip (``truth``: a boolean mask per frame, or None)."""
    if truth is not None:
        if len(truth) != len(masks):
            raise ValueError(f"{len(truth)} ground-truth masks for {len(masks)} frames")
        flicker, inter, union = [], 0, 0
        for t in range(1, len(masks)):
            truth_changed = truth[t] != truth[t - 1]
            changed = masks[t] != masks[t - 1]
            flicker.append(np.count_nonzero(changed & ~truth_changed) / changed.size)
            inter += np.count_nonzero(truth_changed & masks[t] & truth[t])
            union += np.count_nonzero(truth_changed & (masks[t] | truth[t]))
        return TemporalScore(
            len(masks),
            float(np.mean(flicker)) if flicker else 0.0,
            float(np.mean([mask_iou(m, g) for m, g in zip(masks, truth, strict=True)])),
            inter / max(union, 1),
        )
    grey = [cv2.blur(cv2.cvtColor(cv2.resize(f, None, fx=0.5, fy=0.5), cv2.COLOR_BGR2GRAY), (5, 5)) for f in frames]
    flicker, still = [], []
    for t in range(1, len(masks)):
        changed = masks[t] != masks[t - 1]
        flicker.append(np.count_nonzero(changed) / changed.size)
        quiet = cv2.absdiff(grey[t], grey[t - 1]) < STILL_GREY
        quiet = cv2.resize(quiet.astype(np.uint8), changed.shape[::-1], interpolation=cv2.INTER_NEAREST) > 0
        still.append(np.count_nonzero(changed & quiet) / changed.size)
    return TemporalScore(len(masks), float(np.mean(flicker)) if flicker else 0.0, flicker_still=float(np.mean(still)))
