"""The sender's hold on the output: the open sink, losing it and reopening it.

Real time, a failed send is not fatal: the sink is closed, counted as lost, and reopened every
``output.retry_interval_s`` (why it cannot be reopened is logged once per reason); frames made
meanwhile are not delivered. Offline a failed send is the end (SinkError raises)."""

from __future__ import annotations

import logging
import time

import numpy as np

from vcamseg.errors import VcamsegError, one_line
from vcamseg.io.sinks import Sink, SinkError, SinkFactory
from vcamseg.pipeline.clock import Clock
from vcamseg.pipeline.stats import PipelineStats, SinkState

log = logging.getLogger(__name__)


class Output:
    def __init__(self, factory: SinkFactory, stats: PipelineStats, clock: Clock, *, paced: bool) -> None:
        self.factory = factory
        self.stats = stats
        self.clock = clock
        self.paced = paced
        self.sink: Sink | None = None
        self._next_retry = 0.0
        self._reopen_error = ""  # the last reason reopening failed (logged once)

    def open(self) -> Sink:
        """The first open, before the threads start: errors raise."""
        self.sink = self.factory()
        self.stats.sink_is(SinkState.OPEN, self.sink.description)
        return self.sink

    def send(self, image: np.ndarray, retry_s: float) -> bool:
        """Send one picture; False when the output is down (reopened here, at most every ``retry_s``)."""
        if self.sink is None and not self._reopen(retry_s):
            return False
        assert self.sink is not None
        start = time.thread_time()  # CPU: a sink's wait is not a cost
        try:
            self.sink.send(image)
            self.stats.costs.record("output", (time.thread_time() - start) * 1000.0)
        except SinkError as exc:
            if not self.paced:
                raise
            log.error("%s; reopening every %g s", exc, retry_s)
            self.stats.sink_failed()
            self._close(SinkState.LOST)
            self._next_retry = self.clock.monotonic() + retry_s
            return False
        return True

    def _reopen(self, retry_s: float) -> bool:
        if self.clock.monotonic() < self._next_retry:
            return False
        try:
            self.sink = self.factory()
        except VcamsegError as exc:
            # Why it cannot be reopened may differ from why it was lost: say it once per outage.
            reason = one_line(exc)
            if reason != self._reopen_error:
                log.warning("output still unavailable: %s; retrying every %g s", reason, retry_s)
                self._reopen_error = reason
            else:
                log.debug("output still unavailable: %s", reason)
            self._next_retry = self.clock.monotonic() + retry_s
            return False
        self._reopen_error = ""
        log.info("output back: %s", self.sink.description)
        self.stats.sink_is(SinkState.OPEN, self.sink.description)
        return True

    def close(self) -> None:
        """Close the sink (finishing a file); idempotent."""
        self._close(SinkState.CLOSED)

    def _close(self, state: SinkState) -> None:
        if self.sink is not None:
            try:
                self.sink.close()
            except Exception as exc:
                log.warning("closing the output failed: %s", exc)
            self.sink = None
            self.stats.sink_is(state)
