"""The interfaces every effect shares.

An effect gets the frame (BGR uint8, H x W x 3) and the frame's `Segmentation` (with
``alpha``, the refined matte, already set) and returns the frame it produced. It may write into
the frame it was given (the pipeline hands over a frame it owns) and should, to avoid copies;
what it returns must not be one of its own reused buffers (the pipeline may still hold the
frame while the next one is composited). Effects compose in the order of the config's
``effects`` list.

Effects that move pixels (``mirror``) implement `GeometryEffect` instead: they return the
moved frame *and* the moved segmentation, and the compositor hands that segmentation to the
effects after them, so masks stay aligned with the picture.
"""

from __future__ import annotations

import logging
from typing import Protocol, runtime_checkable

import numpy as np

from vcamseg.segmentation.result import Segmentation


@runtime_checkable
class Effect(Protocol):
    def apply(self, frame: np.ndarray, seg: Segmentation) -> np.ndarray:
        """Return the composited frame (may be ``frame`` itself, modified in place)."""
        ...


@runtime_checkable
class GeometryEffect(Protocol):
    def transform(self, frame: np.ndarray, seg: Segmentation) -> tuple[np.ndarray, Segmentation]:
        """Return the moved frame and the segmentation moved the same way."""
        ...


@runtime_checkable
class Closable(Protocol):
    def close(self) -> None:
        """Release threads or files; called when the effect is removed (live reload, shutdown)."""
        ...


class WarnOnce:
    """Logs a message once per effect instance: an effect that cannot do its work on a frame
    (no part map, no people) passes the frame through rather than stopping the camera."""

    def __init__(self) -> None:
        self._said: set[str] = set()

    def __call__(self, logger: logging.Logger, message: str) -> None:
        if message not in self._said:
            self._said.add(message)
            logger.warning(message)
