"""``pose`` — the skeleton: each person's keypoints and the limbs between them drawn over the
frame, as tf-bodypix's ``draw-pose`` does (PoseNet's drawKeypoints and drawSkeleton). Keypoints
scoring below ``min_score`` are left out, and so is every limb that ends in one. Poses are decoded
with ``segmentation.multi_person: true``; without them the frame passes through, with a warning
once."""

from __future__ import annotations

import colorsys
import logging

import cv2
import numpy as np

from vcamseg.body import KEYPOINT_NAMES
from vcamseg.config.effects import PoseConfig
from vcamseg.effects.base import EffectBase, WarnOnce
from vcamseg.effects.kernels.palettes import person_hue
from vcamseg.segmentation.result import Segmentation

log = logging.getLogger(__name__)

# PoseNet's connectedPartNames (the skeleton tf-bodypix draws): limbs and the torso's sides.
LIMBS: tuple[tuple[int, int], ...] = tuple(
    (KEYPOINT_NAMES.index(a), KEYPOINT_NAMES.index(b))
    for a, b in (
        ("left_hip", "left_shoulder"),
        ("left_elbow", "left_shoulder"),
        ("left_elbow", "left_wrist"),
        ("left_hip", "left_knee"),
        ("left_knee", "left_ankle"),
        ("right_hip", "right_shoulder"),
        ("right_elbow", "right_shoulder"),
        ("right_elbow", "right_wrist"),
        ("right_hip", "right_knee"),
        ("right_knee", "right_ankle"),
        ("left_shoulder", "right_shoulder"),
        ("left_hip", "right_hip"),
    )
)
# Sub-pixel positions for OpenCV's drawing (coordinates in 1/16 pixel).
_SHIFT = 4
_SCALE = 1 << _SHIFT


def _bgr(rgb: tuple[int, int, int]) -> tuple[int, int, int]:
    return rgb[2], rgb[1], rgb[0]


def person_color(label: int) -> tuple[int, int, int]:
    """BGR of person ``label`` (1..N): the hue the parts effect gives them, full saturation."""
    r, g, b = colorsys.hsv_to_rgb(person_hue(label), 1.0, 1.0)
    return int(b * 255), int(g * 255), int(r * 255)


class PoseEffect(EffectBase[PoseConfig]):
    def __init__(self, config: PoseConfig) -> None:
        super().__init__(config)
        self._warn = WarnOnce()

    def apply(self, frame: np.ndarray, seg: Segmentation) -> tuple[np.ndarray, Segmentation]:
        cfg = self.config
        if not seg.poses:
            if seg.people is None:
                self._warn(log, "pose effect: no poses to draw: poses are decoded with segmentation.multi_person: true")
            return frame, seg
        for number, pose in enumerate(seg.poses, start=1):
            keypoints = pose.keypoints
            seen = keypoints[:, 2] >= cfg.min_score
            points = np.rint(keypoints[:, :2] * _SCALE).astype(np.int64)
            if cfg.per_person:
                limb_color = keypoint_color = person_color(number)
            else:
                limb_color, keypoint_color = _bgr(cfg.limb_color), _bgr(cfg.keypoint_color)
            if cfg.thickness:
                for a, b in LIMBS:
                    if seen[a] and seen[b]:
                        start, end = (int(points[a, 0]), int(points[a, 1])), (int(points[b, 0]), int(points[b, 1]))
                        cv2.line(frame, start, end, limb_color, cfg.thickness, cv2.LINE_AA, _SHIFT)
            for k in np.flatnonzero(seen):
                centre = (int(points[k, 0]), int(points[k, 1]))
                cv2.circle(frame, centre, cfg.radius * _SCALE, keypoint_color, -1, cv2.LINE_AA, _SHIFT)
        return frame, seg
