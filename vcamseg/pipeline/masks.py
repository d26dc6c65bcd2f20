"""The mask board: where the segment thread posts the newest mask and the compose thread finds
it, waiting a little, when it has asked for its own frame's mask, for that one to arrive."""

from __future__ import annotations

import threading
import time
from typing import NamedTuple

from vcamseg.segmentation.result import Segmentation

WAIT_SLICE_S = 0.2  # an unbounded wait re-checks this often (a safety net: close() wakes it anyway)


class Mask(NamedTuple):
    seq: int  # the frame it was computed on
    seg: Segmentation


class MaskBoard:
    """Holds the mask posted last (one segment thread posts them in frame order). ``close()`` wakes
    every waiter for shutdown; after it, waits return at once."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._latest: Mask | None = None
        self._closed = False

    def publish(self, seq: int, seg: Segmentation) -> None:
        with self._cond:
            self._latest = Mask(seq, seg)
            self._cond.notify_all()

    @property
    def latest(self) -> Mask | None:
        with self._cond:
            return self._latest

    def wait_for(self, seq: int, timeout: float | None) -> Mask | None:
        """The newest mask, after waiting up to ``timeout`` seconds (None: until it comes or the
        board closes; 0: not at all) for one computed on frame ``seq`` or a later one. None while
        there is no mask at all."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while not self._closed and (self._latest is None or self._latest.seq < seq):
                remaining = WAIT_SLICE_S if deadline is None else min(WAIT_SLICE_S, deadline - time.monotonic())
                if remaining <= 0:
                    break
                self._cond.wait(remaining)
            return self._latest

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
