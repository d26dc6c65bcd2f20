"""Effects without parameters worth a module of their own: ``none`` and ``mirror``."""

from __future__ import annotations

import cv2
import numpy as np

from vcamseg.config.effects import MirrorConfig, NoneConfig
from vcamseg.segmentation.result import Segmentation


class NoneEffect:
    def __init__(self, config: NoneConfig) -> None:
        self.config = config

    def apply(self, frame: np.ndarray, seg: Segmentation) -> np.ndarray:
        return frame


class MirrorEffect:
    """A geometry effect: returns the flipped frame and the flipped segmentation."""

    def __init__(self, config: MirrorConfig) -> None:
        self.config = config

    def transform(self, frame: np.ndarray, seg: Segmentation) -> tuple[np.ndarray, Segmentation]:
        # cv2.flip works in place; the Segmentation's own flipped() flips its full-size arrays
        # lazily (only those a later effect asks for) and the matte at once.
        return cv2.flip(frame, 1, dst=frame), seg.flipped()
