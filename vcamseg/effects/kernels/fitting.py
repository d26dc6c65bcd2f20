"""Fitting a background picture to the frame: cover (crop), contain (letterbox) or stretch."""

from __future__ import annotations

import cv2
import numpy as np

from vcamseg.config.fields import Fit


def fit_to(image: np.ndarray, size: tuple[int, int], fit: Fit) -> np.ndarray:
    """A new BGR array of ``size`` = (width, height) showing ``image``:

    * cover — scaled to fill the frame, the overflow cropped equally on both sides;
    * contain — scaled to fit inside, black bars on the remaining sides;
    * stretch — scaled to the frame, ignoring the aspect ratio."""
    width, height = size
    h, w = image.shape[:2]
    if fit == "stretch" or (w, h) == size:
        return _resize(image, size)
    if fit == "cover":
        # Crop the source to the frame's aspect first, then resize only what is shown.
        scale = max(width / w, height / h)
        crop_w, crop_h = min(w, round(width / scale)), min(h, round(height / scale))
        x0, y0 = (w - crop_w) // 2, (h - crop_h) // 2
        return _resize(image[y0 : y0 + crop_h, x0 : x0 + crop_w], size)
    scale = min(width / w, height / h)
    inner = max(1, round(w * scale)), max(1, round(h * scale))
    out = np.zeros((height, width, 3), np.uint8)
    x0, y0 = (width - inner[0]) // 2, (height - inner[1]) // 2
    out[y0 : y0 + inner[1], x0 : x0 + inner[0]] = _resize(image, inner)
    return out


def _resize(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    h, w = image.shape[:2]
    if (w, h) == size:
        return image.copy()
    shrinking = size[0] < w and size[1] < h
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)
