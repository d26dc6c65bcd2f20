"""``blur_parts`` — BodyPix's blurBodyPart: blur chosen body parts (by default the face) for
privacy, leaving the rest of the picture sharp.

Only the bounding box of the chosen parts (plus the blur's reach) is processed. The blur uses
the same masked, reduced-resolution blur as ``blur``, with the roles swapped: the parts are
blurred from their own pixels only, so the sharp surroundings do not leak into them and the
face does not smear over the background.
"""

from __future__ import annotations

import logging

import cv2
import numpy as np

from vcamseg.config.effects import BlurPartsConfig
from vcamseg.config.fields import part_id_set
from vcamseg.effects.base import EffectBase, WarnOnce
from vcamseg.effects.blur import BackgroundBlur
from vcamseg.effects.kernels.blend import Blender
from vcamseg.effects.kernels.buffers import Buffers
from vcamseg.effects.kernels.palettes import selection_lut
from vcamseg.segmentation.result import Segmentation

log = logging.getLogger(__name__)


class BlurPartsEffect(EffectBase[BlurPartsConfig]):
    def __init__(self, config: BlurPartsConfig) -> None:
        super().__init__(config)
        self._selected = selection_lut(part_id_set(config.parts))
        self._grow = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * config.grow_px + 1, 2 * config.grow_px + 1))
        self._inside = BackgroundBlur()
        self._blender = Blender()
        self._buffers = Buffers()
        self._warn = WarnOnce()

    def apply(self, frame: np.ndarray, seg: Segmentation) -> tuple[np.ndarray, Segmentation]:
        cfg = self.config
        if not seg.has_parts:
            self._warn(log, "blur_parts effect: this segmentation has no body-part map; showing the picture unchanged")
            return frame, seg
        h, w = frame.shape[:2]
        region = cv2.LUT(seg.part_ids, self._selected, dst=self._buffers.get("region", (h, w)))
        x, y, bw, bh = cv2.boundingRect(region)
        if bw == 0 or bh == 0:
            return frame, seg
        # The box grows by what the dilation and the edge blur add around the parts.
        margin = cfg.grow_px + cfg.edge_blur + 2
        x0, y0 = max(0, x - margin), max(0, y - margin)
        x1, y1 = min(w, x + bw + margin), min(h, y + bh + margin)
        roi = frame[y0:y1, x0:x1]
        mask = region[y0:y1, x0:x1]
        if cfg.grow_px:
            mask = cv2.dilate(mask, self._grow)
        if cfg.edge_blur:
            k = 2 * cfg.edge_blur + 1
            mask = cv2.blur(mask, (k, k))
        # Blur the region from its own pixels: pass "everything but the region" as the cut-out.
        outside = cv2.bitwise_not(mask)
        blurred = self._inside.render(roi, outside, cfg.blur, self._buffers.like("blurred", roi))
        self._blender.blend(blurred, roi, mask, out=roi)
        return frame, seg
