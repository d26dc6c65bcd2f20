"""Pipeline statistics: counters, stage timings, latency percentiles, CPU per frame, states.

One `PipelineStats` per pipeline, written by its threads and read by anyone (the periodic log
line, the exit summary, a control socket serving ``snapshot()`` as JSON). All methods are
thread-safe; timings keep a recent window so percentiles follow the current load.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

import numpy as np

WINDOW = 600  # recent samples kept per timing (20 s at 30 fps)
FPS_WINDOW_S = 5.0


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
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.started = time.monotonic()
        self._cpu_started = time.process_time()
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
        self.source_state = "starting"  # starting | running | lost | released | ended
        self.sink_state = "starting"  # open | lost | closed
        self.idle_state = "active"  # active | idle
        self.readers = "n/a"  # yes | no | unknown | n/a (outputs nobody reads)
        self.detection = "off"
        self.inference_device = "not started"
        self.source = ""
        self.sink = ""
        self._segment_ms: deque[float] = deque(maxlen=WINDOW)
        self._composite_ms: deque[float] = deque(maxlen=WINDOW)
        self._latency_ms: deque[float] = deque(maxlen=WINDOW)
        self._sent_at: deque[float] = deque(maxlen=512)
        self._first_out: tuple[float, float] | None = None  # (monotonic, process CPU) at the first frame out
        self._mark = (time.monotonic(), time.process_time(), 0, 0, 0)

    # --- writers -------------------------------------------------------------------------------

    def count(self, name: str, n: int = 1) -> None:
        with self._lock:
            setattr(self, name, getattr(self, name) + n)

    def set(self, **states: str) -> None:
        with self._lock:
            for key, value in states.items():
                setattr(self, key, value)

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
            return Interval(seconds, frames, self.frames_dropped - dropped0, self.frames_repeated - repeated0,
                            (cpu - cpu0) * 1000.0 / frames if frames else None, frames / seconds)

    def snapshot(self) -> dict[str, Any]:
        """Everything, JSON-ready (numbers rounded; None where nothing was measured yet)."""
        cpu = self.cpu_ms_per_frame()
        fps_overall = self.wall_fps()
        now = time.monotonic()
        with self._lock:
            return {
                "uptime_s": round(now - self.started, 1),
                "state": {"source": self.source_state, "sink": self.sink_state, "idle": self.idle_state,
                          "readers": self.readers, "detection": self.detection},
                "source": self.source,
                "sink": self.sink,
                "inference_device": self.inference_device,
                "frames": {"in": self.frames_in, "composited": self.frames_composited, "out": self.frames_out,
                           "repeated": self.frames_repeated, "dropped": self.frames_dropped,
                           "placeholder": self.placeholder_frames, "idle": self.idle_frames,
                           "segmentations": self.segmentations},
                "errors": {"source": self.source_errors, "sink": self.sink_errors},
                "fps": {"now": round(self._fps_now(now), 2), "overall": round(fps_overall, 2)},
                "ms": {
                    "segment_mean": _round(float(np.mean(self._segment_ms)) if self._segment_ms else None),
                    "composite_mean": _round(float(np.mean(self._composite_ms)) if self._composite_ms else None),
                    "latency_p50": _round(_percentile(self._latency_ms, 50)),
                    "latency_p95": _round(_percentile(self._latency_ms, 95)),
                    "cpu_per_frame": _round(cpu),
                },
            }

    def log_line(self, interval: Interval | None = None) -> str:
        snap = self.snapshot()
        ms, frames, state = snap["ms"], snap["frames"], snap["state"]

        def fmt(value: float | None) -> str:
            return "-" if value is None else f"{value:.1f}"

        if interval is not None:
            head = (f"{interval.frames_out} frames in {interval.seconds:.2f} s ({interval.fps:.1f} fps), "
                    f"{interval.dropped} dropped, {interval.repeated} repeated, "
                    f"CPU {fmt(interval.cpu_ms_per_frame)} ms/frame")
        else:
            head = (f"{frames['out']} frames, {snap['fps']['overall']:.1f} fps, {frames['dropped']} dropped, "
                    f"{frames['repeated']} repeated, CPU {fmt(ms['cpu_per_frame'])} ms/frame")
        return (f"{head}; segment {fmt(ms['segment_mean'])} ms ({frames['segmentations']}x), composite "
                f"{fmt(ms['composite_mean'])} ms, latency p50 {fmt(ms['latency_p50'])} / p95 {fmt(ms['latency_p95'])} "
                f"ms; source {state['source']}, output {state['sink']}, {state['idle']} (readers: {state['readers']}), "
                f"inference on {snap['inference_device']}")
