"""Lookup tables for ``cv2.LUT`` (indexed by part id or person label, 255 = background): the part
palettes of `vcamseg.body` in BGR, part selections, and the per-person hues."""

from __future__ import annotations

import colorsys

import numpy as np

from vcamseg.body import BACKGROUND, PART_NAMES, Palette

# The golden angle spreads any number of hues so that neighbours in label order differ most.
_GOLDEN = 0.381966


def part_lut(colors: Palette) -> np.ndarray:
    """(256, 1, 3) uint8 BGR table: part id -> colour, background (and any id > 23) -> black."""
    lut = np.zeros((256, 1, 3), np.uint8)
    lut[: len(colors), 0] = np.asarray(colors, np.uint8)[:, ::-1]
    return lut


def selection_lut(part_ids: set[int]) -> np.ndarray:
    """(256,) uint8 table: 255 for the selected part ids, 0 for other parts and the background."""
    lut = np.zeros(256, np.uint8)
    lut[sorted(part_ids)] = 255
    lut[BACKGROUND] = 0
    return lut


def person_hue(label: int) -> float:
    """Hue in [0, 1) for person ``label`` (1, 2, ...)."""
    return ((label - 1) * _GOLDEN + 0.02) % 1.0


def person_hue_lut() -> np.ndarray:
    """(256,) uint8 table for OpenCV's full-range HSV: person label -> hue (0..255)."""
    lut = np.zeros(256, np.uint8)
    for label in range(1, 256):
        lut[label] = round(person_hue(label) * 255) % 256
    return lut


def part_shade_luts() -> tuple[np.ndarray, np.ndarray]:
    """Saturation and value tables by part id, so parts stay distinguishable inside one hue:
    neighbouring ids alternate between light and dark, and saturation steps through three levels."""
    saturation = np.zeros(256, np.uint8)
    value = np.zeros(256, np.uint8)
    for part in range(len(PART_NAMES)):
        value[part] = (255, 175)[part % 2] - 6 * (part // 6)
        saturation[part] = (230, 170, 120)[(part // 2) % 3]
    return saturation, value


def people_lut() -> np.ndarray:
    """(256, 1, 3) uint8 BGR table: person label -> a fully saturated colour, 0 -> black."""
    lut = np.zeros((256, 1, 3), np.uint8)
    for label in range(1, 256):
        r, g, b = colorsys.hsv_to_rgb(person_hue(label), 0.85, 1.0)
        lut[label, 0] = (round(b * 255), round(g * 255), round(r * 255))
    return lut
