"""segmentPerson / segmentPersonParts: person scores and the 24-part map at frame size."""

from __future__ import annotations

import cv2
import numpy as np

from vcamseg.body import BACKGROUND
from vcamseg.segmentation.geometry import Geometry

# Part maps are decided at a quarter of the model input: fine enough for part borders (the
# person's outline comes from the full-size mask) and ~16x cheaper than 24 channels at full size.
PART_FACTOR = 4


def sigmoid_u8(logits: np.ndarray) -> np.ndarray:
    """255 * sigmoid(logits) as uint8."""
    e = cv2.exp(-np.clip(logits, -30, 30))
    return (255.0 / (1.0 + e) + 0.5).astype(np.uint8)


def input_scores(segment_logits: np.ndarray, geom: Geometry) -> np.ndarray:
    """Grid logits (gh, gw) -> uint8 person probability x 255 at the model input size. Logits
    are interpolated before the sigmoid, which keeps edges sharp."""
    logits = geom.grid_to_input(np.ascontiguousarray(segment_logits, dtype=np.float32))
    return sigmoid_u8(logits)


def part_ids(part_logits: np.ndarray, geom: Geometry, mask: np.ndarray) -> np.ndarray:
    """Grid part logits (gh, gw, 24) -> uint8 part id at frame size, 255 outside ``mask``."""
    fine = geom.grid_to_input(np.ascontiguousarray(part_logits, dtype=np.float32), factor=PART_FACTOR)
    ids = np.argmax(fine, axis=2).astype(np.uint8)
    full = geom.labels_to_frame(ids, PART_FACTOR)
    full[~mask] = BACKGROUND
    return full
