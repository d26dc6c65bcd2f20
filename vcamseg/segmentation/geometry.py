"""How a frame maps onto the model's input and output grid, and back.

BodyPix wants an input of ``k*stride + 1`` pixels per side (toValidInputResolution); output cell
``i`` then sits exactly on input pixel ``i*stride``. The frame is resized to the input with
OpenCV's pixel-centre convention, so results go back the same two ways: grid -> input (corner
aligned, exact) -> frame (OpenCV resize, the inverse of the preprocessing resize).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np


def valid_size(size: float, stride: int) -> int:
    """BodyPix's toValidInputResolution: ``size`` itself when it is ``k*stride + 1``, else
    ``floor(size / stride) * stride + 1`` (at least ``stride + 1``)."""
    if float(size).is_integer() and (int(size) - 1) % stride == 0 and size > stride:
        return int(size)
    return max(1, math.floor(size / stride)) * stride + 1


@dataclass(frozen=True)
class Geometry:
    frame_h: int
    frame_w: int
    input_h: int
    input_w: int
    stride: int

    @classmethod
    def for_frame(cls, frame_h: int, frame_w: int, scale: float, stride: int) -> Geometry:
        return cls(frame_h, frame_w, valid_size(frame_h * scale, stride), valid_size(frame_w * scale, stride), stride)

    @property
    def grid_shape(self) -> tuple[int, int]:
        return (self.input_h - 1) // self.stride + 1, (self.input_w - 1) // self.stride + 1

    def grid_to_input(self, grid: np.ndarray, factor: int = 1, nearest: bool = False) -> np.ndarray:
        """Upsample a grid array (h, w[, c]) corner-aligned to the input size divided by ``factor``."""
        step = self.stride / factor
        out_w = (self.input_w - 1) // factor + 1
        out_h = (self.input_h - 1) // factor + 1
        m = np.array([[1.0 / step, 0, 0], [0, 1.0 / step, 0]], np.float32)
        flags = (cv2.INTER_NEAREST if nearest else cv2.INTER_LINEAR) | cv2.WARP_INVERSE_MAP
        return cv2.warpAffine(grid, m, (out_w, out_h), flags=flags, borderMode=cv2.BORDER_REPLICATE)

    def labels_to_frame(self, labels: np.ndarray, factor: int) -> np.ndarray:
        """A label map on the grid of input pixels ``factor * i`` (corner aligned) -> frame size.
        Nearest neighbour both ways: labels must not blend."""
        m = np.array([[1.0 / factor, 0, 0], [0, 1.0 / factor, 0]], np.float32)
        flags = cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP
        at_input = cv2.warpAffine(labels, m, (self.input_w, self.input_h), flags=flags, borderMode=cv2.BORDER_REPLICATE)
        return self.input_to_frame(at_input, nearest=True)

    def input_to_frame(self, image: np.ndarray, nearest: bool = False) -> np.ndarray:
        interp = cv2.INTER_NEAREST if nearest else cv2.INTER_LINEAR
        return cv2.resize(image, (self.frame_w, self.frame_h), interpolation=interp)

    def input_points_to_frame(self, xy: np.ndarray) -> np.ndarray:
        """Input-pixel coordinates (..., 2) as (x, y) -> frame pixels (pixel-centre convention)."""
        out = np.empty_like(xy, dtype=np.float32)
        out[..., 0] = (xy[..., 0] + 0.5) * (self.frame_w / self.input_w) - 0.5
        out[..., 1] = (xy[..., 1] + 0.5) * (self.frame_h / self.input_h) - 0.5
        return out
