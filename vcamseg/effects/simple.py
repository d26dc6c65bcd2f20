"""Effects without parameters worth a module of their own: ``none`` and ``mirror``."""

from __future__ import annotations

import cv2
import numpy as np

from vcamseg.config.effects import MirrorConfig, NoneConfig
from vcamseg.effects.base import EffectBase
from vcamseg.segmentation.result import Segmentation


class NoneEffect(EffectBase[NoneConfig]):
    def apply(self, frame: np.ndarray, seg: Segmentation) -> tuple[np.ndarray, Segmentation]:
        return frame, seg


class MirrorEffect(EffectBase[MirrorConfig]):
    """Moves pixels: returns the flipped frame and the flipped segmentation, which the effects
    after it see."""

    def apply(self, frame: np.ndarray, seg: Segmentation) -> tuple[np.ndarray, Segmentation]:
        # cv2.flip works in place; the Segmentation's own flipped() flips its full-size arrays
        # lazily (only those a later effect asks for) and the matte at once.
        return cv2.flip(frame, 1, dst=frame), seg.flipped()
