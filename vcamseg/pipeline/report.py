"""THE one formatter of a stats snapshot (`StatsSnapshot`, also the ``pipeline`` object of
``vcamseg status --json``): the periodic log line, the status line systemd shows (sd_notify), and
the pipeline's lines of ``vcamseg status``; and `Reporter`, the one component that emits the
periodic ones.

Formatting works on the snapshot alone (a dict: the same whether it comes from `PipelineStats` or
over the control socket as JSON), so this module imports nothing heavy: ``vcamseg status`` uses it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from vcamseg.pipeline.stats import Interval, PipelineStats, StatsSnapshot

log = logging.getLogger(__name__)


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def log_line(snap: StatsSnapshot, interval: Interval | None = None) -> str:
    """The stats log line: since the previous one (``interval``), else since the start (at exit)."""
    ms, frames, state = snap["ms"], snap["frames"], snap["state"]
    if interval is not None:
        head = (
            f"{interval.frames_out} frames in {interval.seconds:.2f} s ({interval.fps:.1f} fps), "
            f"{interval.dropped} dropped, {interval.repeated} repeated, "
            f"CPU {_num(interval.cpu_ms_per_frame)} ms/frame"
        )
    else:
        head = (
            f"{frames['out']} frames, {snap['fps']['overall']:.1f} fps, {frames['dropped']} dropped, "
            f"{frames['repeated']} repeated, CPU {_num(ms['cpu_per_frame'])} ms/frame"
        )
    return (
        f"{head}; segment {_num(ms['segment_mean'])} ms ({frames['segmentations']}x), composite "
        f"{_num(ms['composite_mean'])} ms, latency p50 {_num(ms['latency_p50'])} / p95 {_num(ms['latency_p95'])} "
        f"ms; source {state['source']}, output {state['sink']}, {state['idle']} (readers: {state['readers']}), "
        f"inference on {snap['inference_device']}"
    )


def status_line(snap: StatsSnapshot, dropped: int) -> str:
    """The one line systemd shows (``systemctl --user status vcamseg``); ``dropped``: since the last one."""
    state = snap["state"]
    if state["idle"] == "idle":
        head = "idle: no application reads the camera"
    elif snap["frames"]["out"] == 0:
        head = "starting: loading the model"
    else:
        head = f"{snap['fps']['now']:.1f} fps, {dropped} dropped"
    return (
        f"{head}; source {state['source']}, output {state['sink']}, readers {state['readers']}, "
        f"inference on {snap['inference_device']}"
    )


def status_lines(snap: StatsSnapshot, idle: bool) -> list[str]:
    """The pipeline's lines of ``vcamseg status`` (state, source, output, inference, frames, timings)."""
    state, frames, ms = snap["state"], snap["frames"], snap["ms"]
    return [
        f"  state:      {'idle (nobody reads the camera)' if idle else 'active'}; "
        f"source {state['source']}, output {state['sink']}, readers {state['readers']}",
        f"  source:     {snap['source'] or '-'}",
        f"  output:     {snap['sink'] or '-'}",
        f"  inference:  {snap['inference_device']}",
        f"  frames:     {snap['fps']['now']:.1f} fps now, {frames['out']} sent, {frames['dropped']} dropped, "
        f"{frames['repeated']} repeated",
        f"  timings:    segment {_num(ms['segment_mean'])} ms, composite {_num(ms['composite_mean'])} ms, latency p50 "
        f"{_num(ms['latency_p50'])} / p95 {_num(ms['latency_p95'])} ms, CPU {_num(ms['cpu_per_frame'])} ms/frame",
        *stages_line(snap),
    ]


def stages_line(snap: StatsSnapshot) -> list[str]:
    """``stages:`` with each stage's mean ms per call (none from a daemon too old to report them)."""
    stages = snap.get("stages_ms")
    if not stages:
        return []
    text = ", ".join(f"{name.replace('_', ' ')} {_num(ms)}" for name, ms in stages.items())
    return [f"  stages:     {text} ms per call (model stages once per segmentation)"]


StatusHook = Callable[[str], None]


class Reporter:
    """Periodic reporting of one pipeline's stats, in one place: the log line every
    ``log_interval_s`` (``pipeline.stats_interval_s``; 0: never) and the status line to
    ``on_status`` (sd_notify) every ``status_interval_s`` (``service.notify_status_interval_s``).
    ``tick`` is called often (the daemon's main loop: every 0.1 s) with the current intervals, so a
    change to either applies at once; the first status goes out at the first tick, the first log
    line one interval after the start."""

    def __init__(
        self, stats: PipelineStats, on_status: StatusHook | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.stats = stats
        self._on_status = on_status
        self._clock = clock
        self._started = clock()
        self._last_log: float | None = None
        self._next_status = 0.0
        self._dropped_at_status = 0

    def tick(self, log_interval_s: float, status_interval_s: float) -> None:
        now = self._clock()
        since = self._started if self._last_log is None else self._last_log
        if log_interval_s > 0 and now - since >= log_interval_s:
            self._last_log = now
            interval = self.stats.interval()
            log.info("stats: %s", log_line(self.stats.snapshot(), interval))
        if self._on_status is not None and now >= self._next_status:
            self._next_status = now + status_interval_s
            dropped = self.stats.frames_dropped
            self._on_status(status_line(self.stats.snapshot(), dropped - self._dropped_at_status))
            self._dropped_at_status = dropped

    def final_line(self) -> str:
        """The summary since the start (the daemon logs it when it stops)."""
        return log_line(self.stats.snapshot())
