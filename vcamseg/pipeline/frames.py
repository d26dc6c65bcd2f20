"""What moves between the pipeline's threads: `Frame` and the one-item `Slot`."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Generic, TypeVar

import numpy as np


@dataclass(slots=True)
class Frame:
    image: np.ndarray  # BGR uint8, output size
    seq: int  # 1, 2, ... in capture order
    t_capture: float  # time.monotonic() when the source handed it over


T = TypeVar("T")


class Slot(Generic[T]):
    """Hands the newest item from one thread to another.

    Real time (``blocking=False``): ``put`` never waits; an item not yet taken is replaced and
    returned, so the caller can count it as dropped: late frames are dropped, never queued.
    Offline (``blocking=True``): ``put`` waits until the previous item was taken: every frame
    is processed. ``end()`` marks the end of the stream; ``close()`` wakes everyone for shutdown.
    """

    def __init__(self, *, blocking: bool = False) -> None:
        self.blocking = blocking
        self._cond = threading.Condition()
        self._item: T | None = None
        self._ended = False
        self._closed = False
        self._pokes = 0

    def put(self, item: T) -> T | None:
        """Store ``item``; returns the item it replaced (real-time mode), else None."""
        with self._cond:
            if self.blocking:
                while self._item is not None and not self._closed:
                    self._cond.wait()
            if self._closed:
                return None
            replaced, self._item = self._item, item
            self._cond.notify_all()
            return replaced

    def take(self, timeout: float | None = None) -> T | None:
        """The item (removed), or None after ``timeout`` / at the end / on close / on poke."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            pokes = self._pokes
            while self._item is None and not self._ended and not self._closed and self._pokes == pokes:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return None
                self._cond.wait(remaining)
            item, self._item = self._item, None
            self._cond.notify_all()
            return item

    def end(self) -> None:
        with self._cond:
            self._ended = True
            self._cond.notify_all()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def poke(self) -> None:
        """Make a waiting ``take`` return None early, so it re-checks outside state (idle, stop)."""
        with self._cond:
            self._pokes += 1
            self._cond.notify_all()

    @property
    def ended(self) -> bool:
        with self._cond:
            return self._ended and self._item is None
