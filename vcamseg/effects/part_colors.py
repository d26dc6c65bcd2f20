"""``parts`` — BodyPix's drawMask with the coloured part map (toColoredPartMask): each of the 24
body parts painted in its palette colour over the picture, or one hue per person with the parts
shaded within it."""

from __future__ import annotations

import logging

import cv2
import numpy as np

from vcamseg.config.effects import PartsConfig
from vcamseg.config.fields import palette_colors, part_id_set
from vcamseg.effects.base import EffectBase, WarnOnce
from vcamseg.effects.kernels.blend import Blender, scale_weight
from vcamseg.effects.kernels.buffers import Buffers
from vcamseg.effects.kernels.palettes import part_lut, part_shade_luts, person_hue_lut, selection_lut
from vcamseg.segmentation.result import Segmentation

log = logging.getLogger(__name__)


class PartsEffect(EffectBase[PartsConfig]):
    def __init__(self, config: PartsConfig) -> None:
        super().__init__(config)
        self._palette_lut = part_lut(palette_colors(config.palette))
        self._selected = selection_lut(part_id_set(config.parts))
        self._hue_lut = person_hue_lut()
        self._saturation_lut, self._value_lut = part_shade_luts()
        self._blender = Blender()
        self._buffers = Buffers()
        self._warn = WarnOnce()

    def apply(self, frame: np.ndarray, seg: Segmentation) -> tuple[np.ndarray, Segmentation]:
        cfg = self.config
        if not seg.has_parts:
            self._warn(log, "parts effect: this segmentation has no body-part map; showing the picture unchanged")
            return frame, seg
        buf = self._buffers
        h, w = frame.shape[:2]
        ids = seg.part_ids
        # Coverage = matte on the selected parts (background and other parts: 0).
        coverage = cv2.LUT(ids, self._selected, dst=buf.get("coverage", (h, w)))
        cv2.min(coverage, seg.alpha, dst=coverage)
        # Only the box around the coloured parts (plus what the mask blur spreads) is worked on.
        x, y, box_w, box_h = cv2.boundingRect(coverage)
        if box_w == 0 or box_h == 0:
            return frame, seg
        reach = cfg.mask_blur + 1 if cfg.mask_blur else 0
        x0, y0 = max(0, x - reach), max(0, y - reach)
        x1, y1 = min(w, x + box_w + reach), min(h, y + box_h + reach)
        box = (slice(y0, y1), slice(x0, x1))
        roi, ids = frame[box], ids[box]
        size = roi.shape[:2]
        weight = scale_weight(coverage[box], cfg.opacity, out=buf.get("weight", size))
        if cfg.per_person and seg.people is not None:
            colors = self._person_colors(ids, seg.people[box])
        else:
            if cfg.per_person:
                self._warn(log, "parts effect: per_person needs segmentation.multi_person: true; using the palette")
            ids3 = cv2.cvtColor(ids, cv2.COLOR_GRAY2BGR, dst=buf.get("ids3", (*size, 3)))
            colors = cv2.LUT(ids3, self._palette_lut, dst=buf.get("colors", (*size, 3)))
        if cfg.mask_blur:
            # Like a canvas blur of the RGBA mask: premultiplied colour and coverage blur together,
            # so the colours fade out at the edges instead of darkening.
            premultiplied = self._blender.premultiply(colors, weight)
            k = 2 * cfg.mask_blur + 1
            cv2.blur(premultiplied, (k, k), dst=premultiplied)
            cv2.blur(weight, (k, k), dst=weight)
            self._blender.over(roi, premultiplied, weight)
        else:
            self._blender.blend(colors, roi, weight, out=roi)
        return frame, seg

    def _person_colors(self, ids: np.ndarray, people: np.ndarray) -> np.ndarray:
        """BGR colours from HSV: hue by person label, saturation and value by part id."""
        buf = self._buffers
        size = ids.shape
        hsv = buf.get("hsv", (*size, 3))
        cv2.merge(
            [cv2.LUT(people, self._hue_lut), cv2.LUT(ids, self._saturation_lut), cv2.LUT(ids, self._value_lut)], dst=hsv
        )
        return cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR_FULL, dst=buf.get("colors", (*size, 3)))
