"""Idling while nobody reads the virtual camera: the reader monitor's state -> active or idle.

Idle comes after ``grace_s`` without a reader (a browser closes and reopens the camera while it
negotiates: the webcam must not bounce); active comes back at once when a reader appears, or
when the state becomes unknown (a doubt never blanks a camera someone watches). While idle the
capture thread releases the camera, no inference runs and the sender shows the idle card.
"""

from __future__ import annotations

import logging
import threading

from vcamseg.io.loopback import AlwaysWatched, ReaderMonitor
from vcamseg.pipeline.clock import SYSTEM_CLOCK, Clock
from vcamseg.pipeline.stats import IdleState, PipelineStats, Readers

log = logging.getLogger(__name__)

_READERS = {True: Readers.YES, False: Readers.NO, None: Readers.UNKNOWN}


class IdleController:
    """``update`` is called by the send thread at every turn; ``active`` is the event the capture
    thread waits on while idle. The monitor is the virtual camera's (`watch`); without one the
    output is always watched and never idles."""

    def __init__(self, stats: PipelineStats, clock: Clock = SYSTEM_CLOCK) -> None:
        self.stats = stats
        self.clock = clock
        self.active = threading.Event()
        self.active.set()
        self.monitor: ReaderMonitor = AlwaysWatched()
        self._absent_since: float | None = None

    def watch(self, monitor: ReaderMonitor) -> None:
        """Follow ``monitor`` (before the pipeline starts)."""
        self.monitor = monitor

    @property
    def watched(self) -> bool:
        """False for outputs nobody reads (files, null): their readers are "n/a"."""
        return not isinstance(self.monitor, AlwaysWatched)

    @property
    def idle(self) -> bool:
        return not self.active.is_set()

    def readers(self) -> Readers:
        return _READERS[self.monitor.state] if self.watched else Readers.NA

    def update(self, grace_s: float, idle_fps: float) -> None:
        """Go idle after ``grace_s`` without a reader; wake at once when one appears."""
        state = self.monitor.state
        self.stats.readers_are(self.readers())
        now = self.clock.monotonic()
        if state is False:
            if self._absent_since is None:
                self._absent_since = now
            if not self.idle and now - self._absent_since >= grace_s:
                log.info(
                    "no application has read the virtual camera for %.0f s: idle (camera released, inference "
                    "paused, %g fps idle picture)",
                    now - self._absent_since,
                    idle_fps,
                )
                self.active.clear()
                self.stats.idle_is(IdleState.IDLE)
            return
        self._absent_since = None
        if self.idle:
            log.info("an application reads the virtual camera: resuming")
            self.stats.idle_is(IdleState.ACTIVE)
            self.active.set()

    def wake(self) -> None:
        """Let a thread waiting for ``active`` go on (at shutdown); the state is not changed."""
        self.active.set()
