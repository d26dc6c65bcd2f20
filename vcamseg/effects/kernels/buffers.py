"""Per-effect scratch arrays reused from frame to frame.

At 1280x720 a fresh 2.7 MB array costs more in page faults than the OpenCV call that fills it,
so every effect keeps its temporaries here. Each name owns a flat block that only grows; a
request returns a C-contiguous view of its start, so sizes that change every frame (a
region of interest around a face) do not reallocate either. The arrays are scratch space only:
nothing handed to the pipeline (the output frame, ``Segmentation.alpha``) lives here.
"""

from __future__ import annotations

import math

import numpy as np


class Buffers:
    """Named scratch arrays; a request for a name invalidates its previous contents' shape."""

    def __init__(self) -> None:
        self._blocks: dict[tuple[str, np.dtype], np.ndarray] = {}

    def get(self, name: str, shape: tuple[int, ...], dtype: type | np.dtype = np.uint8) -> np.ndarray:
        kind = np.dtype(dtype)
        size = math.prod(shape)
        block = self._blocks.get((name, kind))
        if block is None or block.size < size:
            block = np.empty(size, kind)
            self._blocks[name, kind] = block
        return block[:size].reshape(shape)

    def like(self, name: str, template: np.ndarray) -> np.ndarray:
        return self.get(name, template.shape, template.dtype)

    def clear(self) -> None:
        self._blocks.clear()
