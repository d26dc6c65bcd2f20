"""Effects without parameters worth a module of their own: ``none`` and ``mirror``."""

from __future__ import annotations

from typing import Literal

import cv2
import numpy as np

from vcamseg.effects.base import EffectConfig
from vcamseg.segmentation.result import Segmentation


class NoneConfig(EffectConfig):
    """Pass the camera image through unchanged (segmentation still runs for stats)."""

    type: Literal["none"] = "none"


class NoneEffect:
    def __init__(self, config: NoneConfig) -> None:
        self.config = config

    def apply(self, frame: np.ndarray, seg: Segmentation) -> np.ndarray:
        return frame


class MirrorConfig(EffectConfig):
    """Mirror the picture left-right (a selfie view). Later effects see the mirrored frame and
    the mirrored segmentation; effects before it are mirrored with the picture."""

    type: Literal["mirror"] = "mirror"


class MirrorEffect:
    """A geometry effect: returns the flipped frame and the flipped segmentation."""

    def __init__(self, config: MirrorConfig) -> None:
        self.config = config

    def transform(self, frame: np.ndarray, seg: Segmentation) -> tuple[np.ndarray, Segmentation]:
        # cv2.flip works in place; the Segmentation's own flipped() flips its full-size arrays
        # lazily (only those a later effect asks for) and the matte at once.
        return cv2.flip(frame, 1, dst=frame), seg.flipped()
