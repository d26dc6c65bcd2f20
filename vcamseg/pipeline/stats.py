"""Pipeline statistics: counters, stage timings, latency percentiles, CPU per frame, states.

One `PipelineStats` per pipeline, written by its threads through named methods (a typo is an
AttributeError, not a new counter) and read by anyone: the periodic log line, the exit summary,
the control socket serving ``snapshot()`` as JSON (`report` formats it). All methods are
thread-safe; timings keep a recent window so percentiles follow the current load. States are
str Enums: they compare equal to, and serialise as, their text (``"running"``).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass
from enum import StrEnum
from typing import TypedDict

import numpy as np

from vcamseg.pipeline.costs import StageCosts, StagesSnapshot

WINDOW = 600  # recent samples kept per timing (20 s at 30 fps)
FPS_WINDOW_S = 5.0


class SourceState(StrEnum):
    STARTING = "starting"  # not opened yet (or not there at start)
    RUNNING = "running"
    LOST = "lost"  # failed or cannot be opened: retried, the output shows a placeholder
    RELEASED = "released"  # closed while idle
    ENDED = "ended"  # a finite source is done


class SinkState(StrEnum):
    STARTING = "starting"
    OPEN = "open"
    LOST = "lost"  # sending failed: reopened every output.retry_interval_s
    CLOSED = "closed"


class IdleState(StrEnum):
    ACTIVE = "active"
    IDLE = "idle"  # nobody reads the virtual camera: camera released, inference paused


class Readers(StrEnum):
    YES = "yes"
    NO = "no"
    UNKNOWN = "unknown"  # treated as "in use"
    NA = "n/a"  # an output nobody reads (file, null), or reader detection off


class StateSnapshot(TypedDict):
    source: SourceState
    sink: SinkState
    idle: IdleState
    readers: Readers
    detection: str  # the reader monitor's method: off | event | inotify


# Functional form: "in" is a Python keyword.
FramesSnapshot = TypedDict(
    "FramesSnapshot",
    {
        "in": int,
        "composited": int,
        "out": int,
        "repeated": int,
        "dropped": int,
        "placeholder": int,
        "idle": int,
        "segmentations": int,
    },
)


class ErrorsSnapshot(TypedDict):
    source: int
    sink: int


class FpsSnapshot(TypedDict):
    now: float
    overall: float


class MsSnapshot(TypedDict):
    segment_mean: float | None
    composite_mean: float | None
    latency_p50: float | None
    latency_p95: float | None
    cpu_per_frame: float | None


class StatsSnapshot(TypedDict):
    """``PipelineStats.snapshot()``: the ``pipeline`` object of ``vcamseg status --json``. External
    tools read it by key (``frames.out``, ``ms.cpu_per_frame``, ``state.idle``): add keys, never
    rename or move one."""

    uptime_s: float
    state: StateSnapshot
    source: str
    sink: str
    inference_device: str
    frames: FramesSnapshot
    errors: ErrorsSnapshot
    fps: FpsSnapshot
    ms: MsSnapshot
    stages_ms: StagesSnapshot  # mean ms per call of each stage (pipeline/costs.py)


def _percentile(values: deque[float], q: float) -> float | None:
    return float(np.percentile(np.fromiter(values, float), q)) if values else None


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


@dataclass
class Interval:
    """What happened since the previous `PipelineStats.interval()` call."""

    seconds: float
    frames_out: int
    dropped: int
    repeated: int
    cpu_ms_per_frame: float | None
    fps: float


class PipelineStats:
    """Counters are plain attributes to read (``frames_out``, ``frames_dropped``, ...); they are
    written only through the methods below."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.started = time.monotonic()
        self.frames_in = 0  # frames the source delivered
        self.frames_composited = 0
        self.frames_out = 0  # distinct camera frames sent
        self.frames_repeated = 0  # the last frame sent again (nothing new in time)
        self.frames_dropped = 0  # camera frames replaced by a newer one before they were sent
        self.placeholder_frames = 0  # "camera unavailable" / "starting" cards sent
        self.idle_frames = 0
        self.segmentations = 0
        self.source_errors = 0
        self.sink_errors = 0
        self.source_state = SourceState.STARTING
        self.sink_state = SinkState.STARTING
        self.idle_state = IdleState.ACTIVE
        self.readers = Readers.NA
        self.detection = "off"
        self.inference_device = "not started"
        self.source = ""
        self.sink = ""
        self.costs = StageCosts()  # per-stage costs: recorded by the stages, read by status
        self._segment_ms: deque[float] = deque(maxlen=WINDOW)
        self._composite_ms: deque[float] = deque(maxlen=WINDOW)
        self._latency_ms: deque[float] = deque(maxlen=WINDOW)
        self._sent_at: deque[float] = deque(maxlen=512)
        self._first_out: tuple[float, float] | None = None  # (monotonic, process CPU) at the first frame out
        self._mark = (time.monotonic(), time.process_time(), 0, 0, 0)

    # --- counters ------------------------------------------------------------------------------

    def captured(self) -> None:
        with self._lock:
            self.frames_in += 1

    def dropped(self) -> None:
        with self._lock:
            self.frames_dropped += 1

    def repeated(self) -> None:
        with self._lock:
            self.frames_repeated += 1

    def placeholder_sent(self) -> None:
        with self._lock:
            self.placeholder_frames += 1

    def idle_sent(self) -> None:
        with self._lock:
            self.idle_frames += 1

    def source_failed(self) -> None:
        with self._lock:
            self.source_errors += 1

    def sink_failed(self) -> None:
        """Sending failed: counted, and the output is lost until it is reopened."""
        with self._lock:
            self.sink_errors += 1
            self.sink_state = SinkState.LOST

    def segmented(self, ms: float) -> None:
        with self._lock:
            self.segmentations += 1
            self._segment_ms.append(ms)

    def composited(self, ms: float) -> None:
        with self._lock:
            self.frames_composited += 1
            self._composite_ms.append(ms)

    def sent(self, latency_ms: float) -> None:
        now = time.monotonic()
        with self._lock:
            if self._first_out is None:
                self._first_out = (now, time.process_time())
            self.frames_out += 1
            self._latency_ms.append(latency_ms)
            self._sent_at.append(now)

    # --- states --------------------------------------------------------------------------------

    def source_is(self, state: SourceState, description: str | None = None) -> None:
        with self._lock:
            self.source_state = state
            if description is not None:
                self.source = description

    def source_opened(self, description: str) -> None:
        """A source was (re)opened: its description, its state unchanged until it delivers."""
        with self._lock:
            self.source = description

    def sink_is(self, state: SinkState, description: str | None = None) -> None:
        with self._lock:
            self.sink_state = state
            if description is not None:
                self.sink = description

    def idle_is(self, state: IdleState) -> None:
        with self._lock:
            self.idle_state = state

    def readers_are(self, readers: Readers) -> None:
        with self._lock:
            self.readers = readers

    def detection_is(self, method: str, readers: Readers) -> None:
        with self._lock:
            self.detection = method
            self.readers = readers

    def inference_on(self, device: str) -> None:
        with self._lock:
            self.inference_device = device

    # --- readers -------------------------------------------------------------------------------

    def _fps_now(self, now: float) -> float:
        recent = [t for t in self._sent_at if now - t <= FPS_WINDOW_S]
        if len(recent) < 2:
            return 0.0
        return (len(recent) - 1) / max(1e-6, recent[-1] - recent[0])

    def cpu_ms_per_frame(self) -> float | None:
        """Process CPU time per frame sent since the first frame (model loading excluded)."""
        with self._lock:
            if self._first_out is None or self.frames_out < 2:
                return None
            return (time.process_time() - self._first_out[1]) * 1000.0 / (self.frames_out - 1)

    def wall_fps(self) -> float:
        with self._lock:
            if self._first_out is None or self.frames_out < 2:
                return 0.0
            return (self.frames_out - 1) / max(1e-6, time.monotonic() - self._first_out[0])

    def latency_ms(self, q: float) -> float | None:
        with self._lock:
            return _percentile(self._latency_ms, q)

    def interval(self) -> Interval:
        """Counts since the previous call (the periodic log line)."""
        now, cpu = time.monotonic(), time.process_time()
        with self._lock:
            t0, cpu0, out0, dropped0, repeated0 = self._mark
            self._mark = (now, cpu, self.frames_out, self.frames_dropped, self.frames_repeated)
            frames = self.frames_out - out0
            seconds = max(1e-6, now - t0)
            return Interval(
                seconds,
                frames,
                self.frames_dropped - dropped0,
                self.frames_repeated - repeated0,
                (cpu - cpu0) * 1000.0 / frames if frames else None,
                frames / seconds,
            )

    def snapshot(self) -> StatsSnapshot:
        """Everything, JSON-ready (numbers rounded; None where nothing was measured yet)."""
        cpu = self.cpu_ms_per_frame()
        fps_overall = self.wall_fps()
        now = time.monotonic()
        with self._lock:
            return {
                "uptime_s": round(now - self.started, 1),
                "state": {
                    "source": self.source_state,
                    "sink": self.sink_state,
                    "idle": self.idle_state,
                    "readers": self.readers,
                    "detection": self.detection,
                },
                "source": self.source,
                "sink": self.sink,
                "inference_device": self.inference_device,
                "frames": {
                    "in": self.frames_in,
                    "composited": self.frames_composited,
                    "out": self.frames_out,
                    "repeated": self.frames_repeated,
                    "dropped": self.frames_dropped,
                    "placeholder": self.placeholder_frames,
                    "idle": self.idle_frames,
                    "segmentations": self.segmentations,
                },
                "errors": {"source": self.source_errors, "sink": self.sink_errors},
                "fps": {"now": round(self._fps_now(now), 2), "overall": round(fps_overall, 2)},
                "ms": {
                    "segment_mean": _round(float(np.mean(self._segment_ms)) if self._segment_ms else None),
                    "composite_mean": _round(float(np.mean(self._composite_ms)) if self._composite_ms else None),
                    "latency_p50": _round(_percentile(self._latency_ms, 50)),
                    "latency_p95": _round(_percentile(self._latency_ms, 95)),
                    "cpu_per_frame": _round(cpu),
                },
                "stages_ms": self.costs.snapshot(),
            }
