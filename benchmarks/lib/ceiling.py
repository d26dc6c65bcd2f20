"""Oracle ceilings of person IoU: each fixes one kind of error of a segmentation with the ground
truth and keeps the model's output everywhere else, so a ceiling below a target says that no
method working on that model's output, in that respect, reaches the target. They use the truth:
bounds, not results (``benchmarks/accuracy_ceiling.py`` prints them for a config).

* threshold — the best segmentation threshold for the image (0.05 steps) instead of one for all;
* far false positives — predicted person pixels farther than 2 % of the image diagonal from any
  labelled person are dropped (unlabelled bystanders, bags, umbrellas, mirrors);
* edges — within 1 % of the diagonal of the predicted outline (either side) the truth is copied:
  the best any edge refinement of this mask could do;
* missed regions — labelled pixels farther than 1 % of the diagonal from the prediction are added;
* edges + far false positives, and all three fixes together.
"""

from __future__ import annotations

import cv2
import numpy as np

from vcamseg.config.mask import MaskConfig
from vcamseg.effects.refine import MaskRefiner
from vcamseg.imaging import mask_iou as iou
from vcamseg.segmentation.segmenter import Segmenter

FAR_FALSE_POSITIVE = 0.02  # shares of the image diagonal
EDGE_BAND = 0.01
MISSED_REGION = 0.01
THRESHOLDS = np.round(np.arange(0.05, 0.96, 0.05), 2)
NAMES = ("measured", "threshold", "far false positives", "edges", "missed regions", "edges + far FP", "all three")


def distance_to(mask: np.ndarray) -> np.ndarray:
    """Distance in pixels from every pixel to the nearest pixel of ``mask`` (0 on it)."""
    return cv2.distanceTransform((~mask).astype(np.uint8), cv2.DIST_L2, 3)


def ceilings(image: np.ndarray, truth: np.ndarray, segmenter: Segmenter, mask: MaskConfig) -> dict[str, float]:
    """Person IoU of ``image`` as segmented and refined, and its oracle ceilings (NAMES order)."""
    seg = segmenter.segment(image)
    pred = MaskRefiner(mask).refine(image, seg).alpha >= 128
    best_threshold = 0.0
    for threshold in THRESHOLDS:
        at_threshold = seg.with_threshold(float(threshold))
        best_threshold = max(best_threshold, iou(MaskRefiner(mask).refine(image, at_threshold).alpha >= 128, truth))
    diagonal = float(np.hypot(*truth.shape))
    near_truth = distance_to(truth) <= FAR_FALSE_POSITIVE * diagonal
    # The band either side of the outline: background pixels near the mask, mask pixels near the background.
    band = np.where(pred, distance_to(~pred), distance_to(pred)) <= EDGE_BAND * diagonal
    missed = truth & (distance_to(pred) > MISSED_REGION * diagonal)
    edges = np.where(band, truth, pred)
    values = (
        iou(pred, truth),
        best_threshold,
        iou(pred & near_truth, truth),
        iou(edges, truth),
        iou(pred | missed, truth),
        iou(edges & near_truth, truth),
        iou((edges & near_truth) | missed, truth),
    )
    return dict(zip(NAMES, values, strict=True))
