"""The send stage: delivers each new frame as soon as it is ready, paced so the output never
exceeds its frame rate, and never starves.

Pacing (`Pacer`) is a token bucket: one token per frame interval, at most ``BURST_TOKENS`` saved
up, so a late frame may be followed closely by the next one, while tokens come ``RATE_MARGIN``
(10 %) faster than the output rate, which caps the rate over time at 110 %. With nothing new for
``REPEAT_AFTER`` (2) frame intervals the last frame is sent again, then once per interval:
repeats take no token, so a hiccup never leaves later frames waiting behind a schedule. In place
of a repeat the sender shows a placeholder when the source is lost or stalled, a "starting"
card before the first frame, and an idle card at ``output.idle.fps`` while nobody reads the
virtual camera.

Sending as soon as a frame is ready, instead of on a fixed clock (pyvirtualcam's
``sleep_until_next_frame``), saves half a frame of latency on average and avoids the drop/repeat
pairs a fixed clock produces when processing jitter straddles its tick.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum

import numpy as np

from vcamseg.pipeline.cards import Fillers
from vcamseg.pipeline.clock import Clock
from vcamseg.pipeline.frames import Frame, Slot
from vcamseg.pipeline.idle import IdleController
from vcamseg.pipeline.output import Output
from vcamseg.pipeline.settings import PipelineSettings
from vcamseg.pipeline.stage import POLL_S, Stage, StageContext
from vcamseg.pipeline.stats import SourceState

REPEAT_AFTER = 2.0  # frame intervals without anything new before the last frame is sent again
BURST_TOKENS = 1.5  # frames' worth of sending the pacer may save up
# Tokens come 10% faster than the output rate: with a source at exactly the output rate, a wait
# once imposed would otherwise persist as latency for ever; this way it fades within a few frames.
RATE_MARGIN = 1.1


class SendKind(StrEnum):
    """What one delivery was (the ``on_frame_sent`` hook's first argument)."""

    FRAME = "frame"  # a new camera frame
    REPEAT = "repeat"  # the last frame again
    STARTING = "starting"  # the "starting" card (no frame yet)
    PLACEHOLDER = "placeholder"  # the source is lost or stalled
    IDLE = "idle"  # nobody reads the virtual camera


FrameSentHook = Callable[[SendKind, Frame | None], None]  # called after each successful delivery


class Pacer:
    """The send rules on a `Clock`: ``take()`` spends a token for a new frame (or says how long
    until there is one); ``filler_due()`` is when, with nothing new, the next filler goes out;
    ``delivered(kind)`` records each send."""

    def __init__(self, fps: float, clock: Clock) -> None:
        self.interval = 1.0 / fps
        self.clock = clock
        self.tokens = BURST_TOKENS
        self._tokens_at = clock.monotonic()
        self.last_send = clock.monotonic()
        self.last_kind = SendKind.PLACEHOLDER

    def take(self) -> float:
        """Spend a token when one is there (returns 0), else the seconds until one will be."""
        now = self.clock.monotonic()
        self.tokens = min(BURST_TOKENS, self.tokens + (now - self._tokens_at) * RATE_MARGIN / self.interval)
        self._tokens_at = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) * self.interval / RATE_MARGIN

    def filler_due(self) -> float:
        """2 intervals after a new frame, then one interval between fillers (clock time)."""
        gap = REPEAT_AFTER if self.last_kind is SendKind.FRAME else 1.0
        return self.last_send + gap * self.interval

    def delivered(self, kind: SendKind) -> None:
        self.last_send = self.clock.monotonic()
        self.last_kind = kind


class Sender(Stage):
    """``last_frame_at()``: when the source last delivered (the capture stage's), to tell a
    stalled source from a slow one. ``heartbeat``: the clock time of the loop's last turn (the
    daemon's watchdog reads it)."""

    name = "send"

    def __init__(
        self,
        context: StageContext,
        outputs: Slot[Frame],
        output: Output,
        idle: IdleController,
        *,
        fps: float,
        last_frame_at: Callable[[], float | None],
        on_frame_sent: FrameSentHook | None = None,
    ) -> None:
        super().__init__(context)
        self._outputs = outputs
        self.output = output
        self._idle = idle
        self._last_frame_at = last_frame_at
        self._on_frame_sent = on_frame_sent
        self.pacer = Pacer(fps, context.clock)
        self.fillers = Fillers(context.width, context.height)
        self.last: Frame | None = None
        self.heartbeat = context.clock.monotonic()

    def run(self) -> None:
        try:
            self._loop()
        finally:
            self.output.close()  # files are finished here, before the pipeline counts as finished
            if not self.context.paced or self._outputs.ended:
                self.context.finished.set()

    def _loop(self) -> None:
        ctx = self.context
        while ctx.running.is_set():
            self.heartbeat = ctx.clock.monotonic()
            settings = ctx.settings
            if ctx.paced:
                self._idle.update(settings.idle_grace_s, settings.idle_fps)
            if self._idle.idle:
                self._send_idle(settings)
                continue
            if not ctx.paced:
                frame = self._outputs.take(None)
                if frame is None:
                    if self._outputs.ended:
                        return
                    continue
                self._send_frame(frame, settings)
                continue
            # Real time: wait for a new frame until a filler is due.
            due = self.pacer.filler_due()
            frame = self._outputs.take(max(0.0, min(due - ctx.clock.monotonic(), POLL_S)))
            if frame is None:
                if self._outputs.ended:
                    return
                if ctx.clock.monotonic() >= due:
                    self._send_filler(settings)
                continue
            wait = self.pacer.take()
            if wait > 0:
                ctx.clock.sleep(wait)
                newer = self._outputs.take(0.0)  # something newer arrived while we waited: it wins
                if newer is not None:
                    ctx.stats.dropped()
                    frame = newer
                self.pacer.take()
            self._send_frame(frame, settings)

    def _send_frame(self, frame: Frame, settings: PipelineSettings) -> None:
        if self._deliver(frame.image, SendKind.FRAME, frame, settings):
            self.context.stats.sent((self.context.clock.monotonic() - frame.t_capture) * 1000.0)
            self.context.streaming.set()
        self.last = frame

    def _deliver(self, image: np.ndarray, kind: SendKind, frame: Frame | None, settings: PipelineSettings) -> bool:
        """Send one picture; False when the output is down."""
        self.pacer.delivered(kind)
        if not self.output.send(image, settings.output_retry_interval_s):
            return False
        if self._on_frame_sent is not None:
            self._on_frame_sent(kind, frame)
        return True

    def _send_filler(self, settings: PipelineSettings) -> None:
        """Nothing new in time: repeat the last frame, or a placeholder when the source is gone."""
        stats = self.context.stats
        last_frame_at = self._last_frame_at()
        stalled = (
            last_frame_at is None or self.context.clock.monotonic() - last_frame_at > settings.source_stall_timeout_s
        )
        if stats.source_state is SourceState.LOST or (stalled and self.last is not None):
            self._deliver(self.fillers.placeholder(self.last), SendKind.PLACEHOLDER, None, settings)
            stats.placeholder_sent()
        elif self.last is not None:
            self._deliver(self.last.image, SendKind.REPEAT, self.last, settings)
            stats.repeated()
        else:
            self._deliver(self.fillers.starting, SendKind.STARTING, None, settings)
            stats.placeholder_sent()

    def _send_idle(self, settings: PipelineSettings) -> None:
        self._deliver(self.fillers.idle, SendKind.IDLE, None, settings)
        self.context.stats.idle_sent()
        self.last = None
        # Sleep one idle frame, but wake at once when a reader appears (the monitor pokes the slot).
        self._outputs.take(1.0 / settings.idle_fps)
