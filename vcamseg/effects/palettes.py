"""Body-part colour palettes (RGB, one colour per BodyPix part in channel order) and the per-person
hues, as lookup tables for ``cv2.LUT`` (indexed by part id, 255 = background)."""

from __future__ import annotations

import colorsys

import numpy as np

from vcamseg.segmentation.parts import BACKGROUND, PART_NAMES

Palette = tuple[tuple[int, int, int], ...]

# From BodyPix 2.0 (tfjs-models body-pix, Apache-2.0): RAINBOW_PART_COLORS in
# output_rendering_util.ts; warm and spectral from the demo's part_color_scales.js (d3-scale-chromatic).
RAINBOW: Palette = (
    (110, 64, 170), (143, 61, 178), (178, 60, 178), (210, 62, 167),
    (238, 67, 149), (255, 78, 125), (255, 94, 99), (255, 115, 75),
    (255, 140, 56), (239, 167, 47), (217, 194, 49), (194, 219, 64),
    (175, 240, 91), (135, 245, 87), (96, 247, 96), (64, 243, 115),
    (40, 234, 141), (28, 219, 169), (26, 199, 194), (33, 176, 213),
    (47, 150, 224), (65, 125, 224), (84, 101, 214), (99, 81, 195),
)
WARM: Palette = (
    (110, 64, 170), (106, 72, 183), (100, 81, 196), (92, 91, 206),
    (84, 101, 214), (75, 113, 221), (66, 125, 224), (56, 138, 226),
    (48, 150, 224), (40, 163, 220), (33, 176, 214), (29, 188, 205),
    (26, 199, 194), (26, 210, 182), (28, 219, 169), (33, 227, 155),
    (41, 234, 141), (51, 240, 128), (64, 243, 116), (79, 246, 105),
    (96, 247, 97), (115, 246, 91), (134, 245, 88), (155, 243, 88),
)
SPECTRAL: Palette = (
    (158, 1, 66), (181, 26, 71), (202, 50, 74), (219, 73, 74),
    (232, 94, 73), (242, 117, 75), (248, 142, 83), (251, 167, 96),
    (253, 190, 112), (254, 210, 129), (254, 227, 149), (254, 240, 166),
    (251, 248, 176), (243, 249, 172), (231, 245, 163), (213, 238, 159),
    (190, 229, 160), (164, 218, 163), (137, 207, 165), (110, 192, 168),
    (86, 173, 174), (70, 150, 179), (67, 127, 180), (77, 103, 173),
)
PALETTES: dict[str, Palette] = {"rainbow": RAINBOW, "warm": WARM, "spectral": SPECTRAL}

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
