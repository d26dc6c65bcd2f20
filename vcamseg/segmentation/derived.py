"""The lazy arrays of results derived by moving or cutting another result (see result.py):
`zoomed` (a crop of the frame scaled back to its size: the ``frame`` effect) and `kept` (only one
region of the frame stays person: the ``spotlight`` effect). Each array is computed from the
parent's only when a consumer asks for it, like every `Segmentation` array."""

from __future__ import annotations

import cv2
import numpy as np

from vcamseg.body import BACKGROUND
from vcamseg.segmentation.lazy import LazyArrays, LazyScores, read_only

Box = tuple[float, float, float, float]  # x, y, width, height in frame pixels (floats: sub-pixel crops)


def zoom_matrix(shape: tuple[int, int], box: Box) -> np.ndarray:
    """The 2x3 affine map from frame pixels to the output pixels of ``box`` scaled to the frame's
    ``shape`` (h, w), in OpenCV's pixel-centre convention."""
    h, w = shape
    x, y, box_w, box_h = box
    sx, sy = w / box_w, h / box_h
    return np.array([[sx, 0.0, (0.5 - x) * sx - 0.5], [0.0, sy, (0.5 - y) * sy - 0.5]], np.float64)


def warp(image: np.ndarray, matrix: np.ndarray, nearest: bool = False, dst: np.ndarray | None = None) -> np.ndarray:
    """``image`` moved by ``matrix`` into an array of its own size (edge pixels repeated where the
    map reaches a hair past the border: a crop inside the frame never shows a border)."""
    h, w = image.shape[:2]
    flags = cv2.INTER_NEAREST if nearest else cv2.INTER_LINEAR
    return cv2.warpAffine(image, matrix, (w, h), dst=dst, flags=flags, borderMode=cv2.BORDER_REPLICATE)


def zoomed(parent: LazyArrays, alpha: np.ndarray | None, matrix: np.ndarray) -> tuple[LazyArrays, np.ndarray | None]:
    """The arrays of ``parent`` moved by ``matrix`` (`zoom_matrix`), and the matte at once."""

    def scores() -> np.ndarray:
        return warp(parent.scores.full, matrix)

    def part_ids(mask: np.ndarray) -> np.ndarray:
        ids = warp(parent.part_ids, matrix, nearest=True)
        ids[~mask] = BACKGROUND
        return ids

    def people(mask: np.ndarray) -> np.ndarray:
        assert parent.people is not None
        labels = warp(parent.people, matrix, nearest=True)
        labels[~mask] = 0
        return labels

    arrays = LazyArrays(
        parent.shape,
        parent.threshold,
        LazyScores(scores, None),
        part_ids if parent.part_ids_of is not None else None,
        people if parent.people_of is not None else None,
    )
    return arrays, None if alpha is None else read_only(warp(alpha, matrix))


def kept(
    parent: LazyArrays, alpha: np.ndarray | None, region: np.ndarray, label: int | None
) -> tuple[LazyArrays, np.ndarray | None]:
    """The arrays of ``parent`` with everything outside ``region`` (bool, the frame's h x w) made
    background: scores 0 there, so the mask, the matte and the maps lose it; the people map keeps
    only person ``label`` (renumbered 1), or nobody when None. The matte is cut at once."""
    inside = region.astype(np.uint8) * 255

    def scores() -> np.ndarray:
        return cv2.min(parent.scores.full, inside)

    small = None
    if parent.scores.has_small:

        def small() -> np.ndarray:
            assert parent.scores.small is not None
            size = parent.scores.small.shape[1], parent.scores.small.shape[0]
            return cv2.min(parent.scores.small, cv2.resize(inside, size, interpolation=cv2.INTER_AREA))

    people = None
    if parent.people_of is not None:
        people_of = parent.people_of

        def people(mask: np.ndarray) -> np.ndarray:
            labels = people_of(mask)
            return (labels == label).astype(np.uint8) if label is not None else np.zeros_like(labels)

    arrays = LazyArrays(parent.shape, parent.threshold, LazyScores(scores, small), parent.part_ids_of, people)
    return arrays, None if alpha is None else read_only(cv2.min(alpha, inside))
