"""What all sources share: their two exceptions, the context-manager plumbing, frame checks and
frame-rate pacing."""

from __future__ import annotations

import time
from types import TracebackType
from typing import Self

import cv2
import numpy as np


class SourceError(Exception):
    """The source stopped delivering (unplugged, read error, bad frames); reopening may help."""


class EndOfStream(Exception):
    """A finite source (a video without loop, an image in offline mode) has no more frames."""


class SourceBase:
    """The shared half of the concrete sources: ``with source:`` closes it, ``close`` acts once
    (subclasses implement ``_release``), and ``frame_count`` is None unless a source knows it."""

    frame_count: int | None = None
    _closed = False

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._release()

    def _release(self) -> None:
        """Release the device or file; called once, by the first ``close``."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def check_frame(frame: np.ndarray | None, width: int, height: int) -> np.ndarray:
    """A BGR uint8 frame of the expected size, or SourceError. Grey frames are expanded to BGR."""
    if frame is None or not isinstance(frame, np.ndarray) or frame.size == 0:
        raise SourceError("the source returned no frame")
    if frame.dtype != np.uint8:
        raise SourceError(f"the source returned {frame.dtype} pixels instead of uint8")
    if frame.ndim == 2 or (frame.ndim == 3 and frame.shape[2] == 1):
        frame = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
    elif frame.ndim != 3 or frame.shape[2] not in (3, 4):
        raise SourceError(f"the source returned a frame of shape {frame.shape}")
    elif frame.shape[2] == 4:
        frame = cv2.cvtColor(frame, cv2.COLOR_BGRA2BGR)
    if frame.shape[0] != height or frame.shape[1] != width:
        raise SourceError(f"the source returned a {frame.shape[1]}x{frame.shape[0]} frame, expected {width}x{height}")
    return frame


def is_blank(frame: np.ndarray) -> bool:
    """A perfectly uniform frame (what some cameras send on USB errors); sampled, so it is cheap.
    A covered lens still has sensor noise and is not blank."""
    sample = frame[::8, ::8]
    return bool(sample.min() == sample.max())


class FrameClock:
    """Sleeps until each frame is due at ``fps``. Falling behind by more than a frame resets the
    clock instead of bursting to catch up (the source then runs at the rate it can)."""

    def __init__(self, fps: float) -> None:
        self.interval = 1.0 / fps
        self._next: float | None = None

    def wait(self) -> None:
        now = time.monotonic()
        if self._next is None or now - self._next > self.interval:
            self._next = now
        elif self._next > now:
            time.sleep(self._next - now)
        self._next += self.interval
