"""``mask`` — show what the segmentation sees instead of the picture: the refined person matte,
the part map (BodyPix's rainbow) or one colour per person. For tuning and debugging."""

from __future__ import annotations

import logging

import cv2
import numpy as np

from vcamseg.body import RAINBOW
from vcamseg.config.effects import MaskViewConfig
from vcamseg.effects.base import EffectBase, WarnOnce
from vcamseg.effects.kernels.buffers import Buffers
from vcamseg.effects.kernels.palettes import part_lut, people_lut
from vcamseg.segmentation.result import Segmentation

log = logging.getLogger(__name__)


class MaskViewEffect(EffectBase[MaskViewConfig]):
    def __init__(self, config: MaskViewConfig) -> None:
        super().__init__(config)
        self._parts_lut = part_lut(RAINBOW)
        self._people_lut = people_lut()
        self._buffers = Buffers()
        self._warn = WarnOnce()

    def apply(self, frame: np.ndarray, seg: Segmentation) -> tuple[np.ndarray, Segmentation]:
        mode = self.config.mode
        if mode == "people" and seg.people is None:
            self._warn(log, "mask effect: mode people needs segmentation.multi_person: true; showing the person mask")
            mode = "person"
        if mode == "parts" and not seg.has_parts:
            self._warn(log, "mask effect: this segmentation has no body-part map; showing the person mask")
            mode = "person"
        if mode == "person":
            return cv2.cvtColor(seg.alpha, cv2.COLOR_GRAY2BGR, dst=frame), seg
        labels = seg.part_ids if mode == "parts" else seg.people
        assert labels is not None
        lut = self._parts_lut if mode == "parts" else self._people_lut
        labels3 = cv2.cvtColor(labels, cv2.COLOR_GRAY2BGR, dst=self._buffers.like("labels3", frame))
        return cv2.LUT(labels3, lut, dst=frame), seg
