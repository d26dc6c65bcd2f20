"""The capture stage: reads the source continuously and keeps only the newest frame (a frame not
yet taken is replaced and counted as dropped). It owns reconnecting a lost source (`Outage`),
switching to a new one (live reload) and releasing the camera while idle."""

from __future__ import annotations

import contextlib
import logging
import threading
import time

import cv2
import numpy as np

from vcamseg.io.sources import EndOfStream, Source, SourceError, SourceFactory
from vcamseg.pipeline.clock import Clock
from vcamseg.pipeline.frames import Frame, Slot
from vcamseg.pipeline.idle import IdleController
from vcamseg.pipeline.stage import POLL_S, Stage, StageContext
from vcamseg.pipeline.stats import PipelineStats, SourceState

log = logging.getLogger(__name__)

PAUSE_SLICE_S = 0.05  # a retry pause re-checks stop, idle and a new source this often


class Outage:
    """The capture thread's account of a lost source: when it went, and why. The loss and the
    return are logged once each; while it is away, each new reason it cannot be opened is logged
    once (a removed file, then an empty one), never every retry."""

    def __init__(self, stats: PipelineStats, clock: Clock) -> None:
        self.stats = stats
        self.clock = clock
        self.since: float | None = None
        self.reason = ""

    def lost(self, exc: SourceError, retry_s: float) -> None:
        """A running source failed."""
        self.since, self.reason = self.clock.monotonic(), str(exc)
        log.warning("source lost: %s; showing a placeholder, retrying every %g s", exc, retry_s)
        self.stats.source_is(SourceState.LOST)
        self.stats.source_failed()

    def unavailable(self, exc: SourceError, retry_s: float) -> None:
        """The source could not be (re)opened, or failed before its first frame."""
        if self.since is None:
            self.since = self.clock.monotonic()
            self.stats.source_is(SourceState.LOST)
        if str(exc) != self.reason:
            self.reason = str(exc)
            log.warning("source unavailable: %s; retrying every %g s", exc, retry_s)

    def back(self, description: str) -> None:
        """A (re)opened source delivered its first frame."""
        if self.since is not None:
            log.info("source back after %.1f s: %s", self.clock.monotonic() - self.since, description)
            self.since, self.reason = None, ""
        self.stats.source_is(SourceState.RUNNING)


class CaptureLoop(Stage):
    """``first``: the source opened by the builder (None: not there at start, retried here).
    Offline (not paced) reading waits until ``model_ready``: no frame waits for the model (its
    latency would count the load). ``max_frames``: end after that many."""

    name = "capture"

    def __init__(
        self,
        context: StageContext,
        source: SourceFactory,
        first: Source | None,
        frames: Slot[Frame],
        idle: IdleController,
        model_ready: threading.Event,
        max_frames: int | None = None,
    ) -> None:
        super().__init__(context)
        self._factory = source
        self._source = first
        self._frames = frames
        self._idle = idle
        self._model_ready = model_ready
        self._max_frames = max_frames
        self._changed = threading.Event()
        self._outage = Outage(context.stats, context.clock)
        self._fresh = False  # a source just (re)opened: it counts as back once it delivers a frame
        self._seq = 0
        # When the last frame came (the sender tells a stalled source from a slow one by it);
        # None: none since the start or since the camera was released while idle.
        self.last_frame_at: float | None = None

    def set_source(self, factory: SourceFactory) -> None:
        """Switch to the source ``factory`` opens (the old one is closed first: a camera may not
        be opened twice)."""
        self._factory = factory
        self._changed.set()

    def run(self) -> None:
        ctx = self.context
        if self._source is not None:
            ctx.stats.source_is(SourceState.RUNNING, self._source.description)
        while not ctx.paced and ctx.running.is_set() and not self._model_ready.wait(POLL_S):
            pass
        try:
            while ctx.running.is_set():
                if not self._idle.active.is_set() or self._changed.is_set():
                    self._release()
                    continue
                source = self._source if self._source is not None else self._open()
                if source is None:
                    continue
                started = time.thread_time()  # CPU: a webcam's wait for its next frame is not a cost
                try:
                    image = source.read()
                except EndOfStream:
                    self._end()
                    return
                except SourceError as exc:
                    self._failed(source, exc)
                    continue
                if self._deliver(source, image, started):
                    return
        finally:
            if self._source is not None:
                self._source.close()

    def _release(self) -> None:
        """Close the source while idle or for a switch; while idle, wait to be active again."""
        if self._source is not None:
            self._source.close()
            self._source = None
            if not self._idle.active.is_set():
                log.info("camera released")
                self.context.stats.source_is(SourceState.RELEASED)
                self.last_frame_at = None
        if self._changed.is_set():
            self._changed.clear()
            return
        self._idle.active.wait(POLL_S)

    def _open(self) -> Source | None:
        retry_s = self.context.settings.source_retry_interval_s
        try:
            source = self._factory()
        except SourceError as exc:
            self._outage.unavailable(exc, retry_s)
            self._pause(retry_s)
            return None
        self._source, self._fresh = source, True
        self.context.stats.source_opened(source.description)
        return source

    def _failed(self, source: Source, exc: SourceError) -> None:
        retry_s = self.context.settings.source_retry_interval_s
        # A source that opens but fails at once (an empty video) is still the same outage: no
        # "back"/"lost" pair in the log at every retry.
        if self._fresh:
            self._outage.unavailable(exc, retry_s)
        else:
            self._outage.lost(exc, retry_s)
        with contextlib.suppress(Exception):
            source.close()
        self._source = None
        self._pause(retry_s)

    def _deliver(self, source: Source, image: np.ndarray, started: float) -> bool:
        """Hand ``image`` (scaled to the output size) to compose; True once ``max_frames`` were read.
        ``started``: the thread's CPU time before the read (the capture stage's cost)."""
        ctx = self.context
        if self._fresh:
            self._outage.back(source.description)
            self._fresh = False
        now = ctx.clock.monotonic()
        self.last_frame_at = now
        if image.shape[1] != ctx.width or image.shape[0] != ctx.height:
            shrink = image.shape[1] > ctx.width
            image = cv2.resize(
                image, (ctx.width, ctx.height), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
            )
        self._seq += 1
        ctx.stats.costs.record("capture", (time.thread_time() - started) * 1000.0)
        ctx.stats.captured()
        if self._frames.put(Frame(image, self._seq, now)) is not None and ctx.streaming.is_set():
            ctx.stats.dropped()
        if self._max_frames is not None and self._seq >= self._max_frames:
            self._end()
            return True
        return False

    def _end(self) -> None:
        self.context.stats.source_is(SourceState.ENDED)
        self._frames.end()

    def _pause(self, seconds: float) -> None:
        """Sleep, but return early on stop, idle or a new source."""
        ctx = self.context
        end = ctx.clock.monotonic() + seconds
        while ctx.running.is_set() and self._idle.active.is_set() and not self._changed.is_set():
            left = end - ctx.clock.monotonic()
            if left <= 0:
                return
            ctx.clock.sleep(min(left, PAUSE_SLICE_S))
