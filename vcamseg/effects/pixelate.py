"""``pixelate`` — BodyPix's drawPixelatedMask pixelation, applied to the person: every cell of
``cell_size`` pixels that the person touches is filled with the cell's mean colour.

On its own it is a privacy mosaic of the person; after ``parts`` it gives drawPixelatedMask's
look (the coloured part map in cells). Cells are all-or-nothing, so the outline is made of
whole cells too and the person's exact shape is not revealed.
"""

from __future__ import annotations

import cv2
import numpy as np

from vcamseg.config.effects import PixelateConfig
from vcamseg.effects.base import EffectBase
from vcamseg.effects.kernels.blend import Blender, scale_weight
from vcamseg.effects.kernels.buffers import Buffers
from vcamseg.segmentation.result import Segmentation

# A cell belongs to the person when the person covers more than ~1.5 % of it (mean matte > 4):
# privacy first, while the matte's faint feathered fringe does not pull whole cells in.
_CELL_COVERAGE = 4


class PixelateEffect(EffectBase[PixelateConfig]):
    def __init__(self, config: PixelateConfig) -> None:
        super().__init__(config)
        self._blender = Blender()
        self._buffers = Buffers()

    def apply(self, frame: np.ndarray, seg: Segmentation) -> tuple[np.ndarray, Segmentation]:
        cfg = self.config
        buf = self._buffers
        h, w = frame.shape[:2]
        size = cfg.cell_size
        # Whole cells from the top-left corner; the last row/column of cells may be partial.
        cells_w, cells_h = cells = -(-w // size), -(-h // size)
        coverage = _cell_means(seg.alpha, size, cells, buf.get("coverage", (cells_h, cells_w)))
        cv2.threshold(coverage, _CELL_COVERAGE, 255, cv2.THRESH_BINARY, dst=coverage)
        # Only the box of cells the person touches is worked on (cell-aligned, so cells match).
        x, y, box_w, box_h = cv2.boundingRect(coverage)
        if box_w == 0 or box_h == 0:
            return frame, seg
        roi = frame[y * size : min(h, (y + box_h) * size), x * size : min(w, (x + box_w) * size)]
        roi_size = roi.shape[:2]
        means = _cell_means(roi, size, (box_w, box_h), buf.get("means", (box_h, box_w, 3)))
        mosaic = _cells_to_pixels(means, size, roi_size, buf.get("mosaic", (*roi_size, 3)))
        weight = _cells_to_pixels(coverage[y : y + box_h, x : x + box_w], size, roi_size, buf.get("weight", roi_size))
        if cfg.opacity < 1.0:
            scale_weight(weight, cfg.opacity, out=weight)
        self._blender.blend(mosaic, roi, weight, out=roi)
        return frame, seg


def _cell_means(image: np.ndarray, cell_size: int, cells: tuple[int, int], dst: np.ndarray) -> np.ndarray:
    """Mean colour of each cell (exact box averages: halvings only while the cell size is even)."""
    h, w = image.shape[:2]
    pad_w, pad_h = cells[0] * cell_size - w, cells[1] * cell_size - h
    if pad_w or pad_h:
        # A partial edge cell is padded with its own edge pixels, so its mean stays its own.
        image = cv2.copyMakeBorder(image, 0, pad_h, 0, pad_w, cv2.BORDER_REPLICATE)
    factor = cell_size
    while factor % 2 == 0 and factor > 2:
        image = cv2.resize(image, (image.shape[1] // 2, image.shape[0] // 2), interpolation=cv2.INTER_AREA)
        factor //= 2
    return cv2.resize(image, cells, dst=dst, interpolation=cv2.INTER_AREA)


def _cells_to_pixels(cells: np.ndarray, cell_size: int, size: tuple[int, int], dst: np.ndarray) -> np.ndarray:
    """Nearest-neighbour upscaling by exactly ``cell_size``, cropped to ``size`` = (h, w)."""
    h, w = size
    ch, cw = cells.shape[:2]
    if (ch * cell_size, cw * cell_size) == (h, w):
        return cv2.resize(cells, (w, h), dst=dst, interpolation=cv2.INTER_NEAREST)
    full = cv2.resize(cells, (cw * cell_size, ch * cell_size), interpolation=cv2.INTER_NEAREST)
    np.copyto(dst, full[:h, :w])
    return dst
