"""The pipeline's sense of time: a `Clock` (monotonic seconds, sleep), injectable so the pacing
and idle rules can be tested without waiting (`FakeClock`).

Only the pipeline's own decisions run on it: the pacer's tokens, when a repeat or a filler is due,
the idle grace, how long a source has been away, a frame's capture time. Waiting for another
thread (a `Slot`, the `MaskBoard`) always takes real time.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    def monotonic(self) -> float:
        """Seconds, only ever increasing; comparable with ``Frame.t_capture``."""
        ...

    def sleep(self, seconds: float) -> None:
        """Return after ``seconds`` (0 or less: at once)."""
        ...


class SystemClock:
    """``time.monotonic`` and ``time.sleep``."""

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


SYSTEM_CLOCK = SystemClock()


class FakeClock:
    """A clock that moves only when told: ``advance(seconds)``, or ``sleep``, which advances it at
    once and records how long was slept. Thread-safe."""

    def __init__(self, start: float = 1000.0) -> None:
        self._now = start
        self._lock = threading.Lock()
        self.slept: list[float] = []

    def monotonic(self) -> float:
        with self._lock:
            return self._now

    def sleep(self, seconds: float) -> None:
        self.advance(max(0.0, seconds))
        self.slept.append(seconds)

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("a monotonic clock does not go back")
        with self._lock:
            self._now += seconds
