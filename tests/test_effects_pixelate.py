"""``pixelate`` (drawPixelatedMask's cells) on a real image with its ground-truth mask: the
person becomes uniform cells of their mean colour, everything else is untouched."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from vcamseg.config.effects import PixelateConfig
from vcamseg.effects.pixelate import PixelateEffect
from vcamseg.segmentation.result import Segmentation


@pytest.fixture(scope="module")
def person(data_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    image = cv2.imread(str(data_dir / "images" / "cihp_multiperson" / "0000026.jpg"))  # 416 x 320
    mask = cv2.imread(str(data_dir / "masks" / "cihp_multiperson" / "0000026.png"), cv2.IMREAD_GRAYSCALE) > 127
    return image, mask


def _with_matte(mask: np.ndarray) -> Segmentation:
    seg = Segmentation.from_arrays(mask)
    seg = seg.with_alpha(mask.astype(np.uint8) * 255)
    return seg


def _cells(array: np.ndarray, size: int) -> np.ndarray:
    """(rows, cols, size, size, ...) view of a frame whose sides are multiples of ``size``."""
    h, w = array.shape[:2]
    return array.reshape(h // size, size, w // size, size, *array.shape[2:]).swapaxes(1, 2)


def test_person_cells_are_uniform_and_the_rest_is_untouched(person: tuple[np.ndarray, np.ndarray]) -> None:
    image, mask = person
    size = 8
    out = PixelateEffect(PixelateConfig(cell_size=size)).apply(image.copy(), _with_matte(mask))[0]
    coverage = _cells(mask, size).mean(axis=(2, 3))
    person_cells = coverage > 4 / 255
    assert person_cells.sum() > 100
    out_cells, in_cells = _cells(out, size), _cells(image, size)
    for r, c in zip(*np.nonzero(person_cells), strict=True):
        cell = out_cells[r, c].reshape(-1, 3)
        assert (cell == cell[0]).all()
        # The mean of the cell's pixels, up to the rounding of the three halvings it is computed by.
        assert np.abs(cell[0].astype(float) - in_cells[r, c].reshape(-1, 3).mean(axis=0)).max() <= 1.5
    np.testing.assert_array_equal(out_cells[~person_cells], in_cells[~person_cells])


def test_opacity_mixes_the_mosaic_with_the_picture(person: tuple[np.ndarray, np.ndarray]) -> None:
    image, mask = person
    full = PixelateEffect(PixelateConfig(cell_size=8)).apply(image.copy(), _with_matte(mask))[0]
    half = PixelateEffect(PixelateConfig(cell_size=8, opacity=0.5)).apply(image.copy(), _with_matte(mask))[0]
    changed = (full != image).any(axis=2)
    expected = (full[changed].astype(float) + image[changed]) / 2
    assert np.abs(half[changed] - expected).max() <= 1.5


def test_partial_cells_at_the_frame_edge(person: tuple[np.ndarray, np.ndarray]) -> None:
    """416 x 320 with 10-pixel cells: the last column of cells is 6 pixels wide and still uniform."""
    image, mask = person
    out = PixelateEffect(PixelateConfig(cell_size=10)).apply(image.copy(), _with_matte(mask))[0]
    assert out.shape == image.shape
    last = out[:, 410:]
    touched = mask[:, 410:].any()
    for row in range(0, 320, 10):
        block = last[row : row + 10].reshape(-1, 3)
        if touched and mask[row : row + 10, 410:].any():
            assert (block == block[0]).all()
