"""The pipeline's rules on their own, with a fake clock: no model, no video, no threads of the
pipeline. The pacer (tokens, the 110 % cap, the burst, when repeats are due), the idle
controller (the grace, waking at once), the mask board, the settings and their live marks, the
typed stats and their one formatter, and the periodic reporter."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import fields

import numpy as np
import pytest

from vcamseg.config import Config, live
from vcamseg.config.live import Live
from vcamseg.pipeline.clock import FakeClock
from vcamseg.pipeline.costs import STAGES, StageCosts
from vcamseg.pipeline.idle import IdleController
from vcamseg.pipeline.masks import MaskBoard
from vcamseg.pipeline.report import Reporter, log_line, status_line, status_lines
from vcamseg.pipeline.send import BURST_TOKENS, RATE_MARGIN, Pacer, SendKind
from vcamseg.pipeline.settings import CONFIG_KEYS, PipelineSettings, settings_from
from vcamseg.pipeline.stats import IdleState, PipelineStats, Readers, SinkState, SourceState
from vcamseg.segmentation.result import Segmentation

pytestmark = pytest.mark.pure  # no ../shared, no TensorFlow

FPS = 30.0
INTERVAL = 1.0 / FPS


# --- the pacer -------------------------------------------------------------------------------------


def test_the_pacer_starts_with_a_burst_and_then_waits_for_a_token() -> None:
    clock = FakeClock()
    pacer = Pacer(FPS, clock)
    assert pacer.tokens == BURST_TOKENS == 1.5
    assert pacer.take() == 0.0, "a token is there at the start"
    wait = pacer.take()  # 0.5 token left: half a token to go, at 110 % of the output rate
    assert wait == pytest.approx(0.5 * INTERVAL / RATE_MARGIN)
    clock.advance(wait)
    assert pacer.take() < 1e-9, "after the wait a token is there"


def test_the_burst_is_capped_at_one_and_a_half_frames() -> None:
    clock = FakeClock()
    pacer = Pacer(FPS, clock)
    clock.advance(60.0)  # a minute without frames saves no more than 1.5 tokens
    assert pacer.take() == 0.0
    assert pacer.take() > 0.0, "the second frame right behind waits"
    assert pacer.tokens == pytest.approx(0.5)


def test_the_rate_over_time_is_capped_at_110_percent() -> None:
    clock = FakeClock()
    pacer = Pacer(FPS, clock)
    start, sent = clock.monotonic(), 0
    while clock.monotonic() - start < 10.0:  # a frame is always ready: send as fast as allowed (as Sender)
        wait = pacer.take()
        if wait > 0:
            clock.sleep(wait + 1e-6)  # a real sleep never returns early
            assert pacer.take() == 0.0, "the wait it named is enough"
        sent += 1
    rate = sent / (clock.monotonic() - start)
    assert rate == pytest.approx(RATE_MARGIN * FPS, rel=0.01)  # 33 fps for a 30 fps output


def test_a_late_frame_may_be_followed_closely_by_the_next() -> None:
    clock = FakeClock()
    pacer = Pacer(FPS, clock)
    assert pacer.take() == 0.0
    clock.advance(1.5 * INTERVAL)  # half a frame late
    assert pacer.take() == 0.0
    clock.advance(0.5 * INTERVAL)  # the next one on schedule, only half an interval later
    assert pacer.take() == 0.0, "no wait imposed: it would persist as latency"


def test_a_source_at_exactly_the_output_rate_never_waits() -> None:
    clock = FakeClock()
    pacer = Pacer(FPS, clock)
    for _ in range(300):
        assert pacer.take() == 0.0
        clock.advance(INTERVAL)


def test_repeats_are_due_two_intervals_after_a_frame_then_every_interval() -> None:
    clock = FakeClock()
    pacer = Pacer(FPS, clock)
    assert pacer.filler_due() == pytest.approx(clock.monotonic() + INTERVAL), "nothing sent yet: one interval"
    pacer.delivered(SendKind.FRAME)
    sent_at = clock.monotonic()
    assert pacer.filler_due() == pytest.approx(sent_at + 2 * INTERVAL)
    clock.advance(2 * INTERVAL)
    pacer.delivered(SendKind.REPEAT)
    assert pacer.filler_due() == pytest.approx(clock.monotonic() + INTERVAL)
    clock.advance(INTERVAL)
    pacer.delivered(SendKind.PLACEHOLDER)
    assert pacer.filler_due() == pytest.approx(clock.monotonic() + INTERVAL)


def test_repeats_take_no_token() -> None:
    clock = FakeClock()
    pacer = Pacer(FPS, clock)
    for _ in range(5):
        pacer.delivered(SendKind.REPEAT)  # fillers go out without spending tokens
    assert pacer.take() == 0.0


# --- idle --------------------------------------------------------------------------------------


class Monitor:
    method = "event"

    def __init__(self) -> None:
        self.state: bool | None = True

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass


def _idle(grace_s: float = 5.0) -> tuple[IdleController, Monitor, FakeClock, PipelineStats]:
    clock, stats, monitor = FakeClock(), PipelineStats(), Monitor()
    controller = IdleController(stats, clock)
    controller.watch(monitor)
    return controller, monitor, clock, stats


def test_idle_comes_after_the_grace_without_a_reader() -> None:
    controller, monitor, clock, stats = _idle()
    controller.update(5.0, 2.0)
    assert not controller.idle and stats.readers is Readers.YES
    monitor.state = False
    controller.update(5.0, 2.0)
    clock.advance(4.9)
    controller.update(5.0, 2.0)
    assert not controller.idle, "within the grace (a browser reopening the camera)"
    assert stats.readers is Readers.NO
    clock.advance(0.2)
    controller.update(5.0, 2.0)
    assert controller.idle and not controller.active.is_set()
    assert stats.idle_state is IdleState.IDLE


def test_a_reader_wakes_it_at_once_and_the_grace_starts_over() -> None:
    controller, monitor, clock, stats = _idle()
    monitor.state = False
    controller.update(1.0, 2.0)
    clock.advance(1.0)
    controller.update(1.0, 2.0)
    assert controller.idle
    monitor.state = True
    controller.update(1.0, 2.0)  # no time passes
    assert not controller.idle and controller.active.is_set() and stats.idle_state is IdleState.ACTIVE
    monitor.state = False
    clock.advance(0.5)
    controller.update(1.0, 2.0)
    clock.advance(0.9)
    controller.update(1.0, 2.0)
    assert not controller.idle, "a new absence gets the whole grace again"


def test_an_unknown_reader_state_counts_as_watched() -> None:
    controller, monitor, clock, stats = _idle(1.0)
    monitor.state = False
    controller.update(1.0, 2.0)
    clock.advance(2.0)
    controller.update(1.0, 2.0)
    assert controller.idle
    monitor.state = None  # the detection failed: a doubt never blanks a camera someone watches
    controller.update(1.0, 2.0)
    assert not controller.idle and stats.readers is Readers.UNKNOWN
    clock.advance(3600)
    controller.update(1.0, 2.0)
    assert not controller.idle


def test_an_output_without_a_monitor_never_idles() -> None:
    clock, stats = FakeClock(), PipelineStats()
    controller = IdleController(stats, clock)
    assert not controller.watched
    clock.advance(3600)
    controller.update(0.0, 2.0)
    assert not controller.idle and stats.readers is Readers.NA


# --- the mask board ----------------------------------------------------------------------------


def _seg() -> Segmentation:
    return Segmentation.from_arrays(np.zeros((4, 4), bool))


def test_the_board_is_empty_until_a_mask_is_posted() -> None:
    board = MaskBoard()
    assert board.latest is None and board.wait_for(1, 0.0) is None
    seg = _seg()
    board.publish(3, seg)
    latest = board.wait_for(3, 0.0)
    assert latest is not None and latest.seq == 3 and latest.seg is seg
    assert board.wait_for(1, None) == latest, "an older frame's request is served by the newest mask"


def test_waiting_for_a_frames_mask_returns_when_it_is_posted() -> None:
    board = MaskBoard()
    board.publish(1, _seg())
    seg = _seg()
    timer = threading.Timer(0.05, board.publish, (2, seg))
    timer.start()
    start = time.monotonic()
    latest = board.wait_for(2, 5.0)
    timer.join()
    assert latest is not None and latest.seq == 2 and latest.seg is seg
    assert time.monotonic() - start < 2.0


def test_waiting_gives_up_after_the_timeout_with_the_newest_mask() -> None:
    board = MaskBoard()
    board.publish(1, _seg())
    start = time.monotonic()
    latest = board.wait_for(2, 0.05)
    assert latest is not None and latest.seq == 1, "the newest one it has"
    assert 0.04 <= time.monotonic() - start < 2.0


def test_closing_the_board_wakes_an_unbounded_wait() -> None:
    board = MaskBoard()
    threading.Timer(0.05, board.close).start()
    start = time.monotonic()
    assert board.wait_for(1, None) is None
    assert time.monotonic() - start < 2.0


# --- settings and their live marks --------------------------------------------------------------


def test_every_setting_comes_from_a_key_marked_live_at_once() -> None:
    """A key the pipeline's threads read must apply at once; `set_settings` is how it does."""
    policy = live.policy()
    assert set(CONFIG_KEYS) == {f.name for f in fields(PipelineSettings)}
    for field, (key, _) in CONFIG_KEYS.items():
        assert policy[key] is Live.AT_ONCE, f"{field} is read from {key}, which is not marked live at once"


def test_every_key_marked_live_at_once_is_applied() -> None:
    """The other way round: a key marked AT_ONCE that nothing reads while running would be a lie
    in the README's table. Outside the settings, the daemon reads these from what runs."""
    read_by_the_daemon = {"pipeline.stats_interval_s", "service.notify_status_interval_s", "service.log_level"}
    read_by_the_pipeline = {key for key, _ in CONFIG_KEYS.values()}
    assert live.keys(Live.AT_ONCE) == read_by_the_pipeline | read_by_the_daemon


def test_settings_default_to_the_configs_defaults_and_convert_units() -> None:
    assert settings_from(Config()) == PipelineSettings()
    config = Config()
    config.pipeline.max_mask_wait_ms = 45
    config.output.idle.grace_s = 0.3
    config.source.retry_interval_s = 0.25
    settings = settings_from(config)
    assert settings.max_mask_wait_s == pytest.approx(0.045)
    assert settings.idle_grace_s == 0.3 and settings.source_retry_interval_s == 0.25
    with pytest.raises(AttributeError):
        settings.idle_fps = 5.0  # type: ignore[misc]  # frozen: swapped as a whole


# --- typed stats and the one formatter ------------------------------------------------------------


def test_the_snapshot_keeps_its_public_shape_and_is_json() -> None:
    """External tools read `vcamseg status --json` by key: these must stay (more may be added)."""
    stats = PipelineStats()
    stats.captured()
    stats.sent(12.0)
    stats.dropped()
    stats.source_is(SourceState.RUNNING, "test pattern 320x240")
    stats.sink_is(SinkState.OPEN, "null")
    snap = json.loads(json.dumps(stats.snapshot()))
    assert set(snap) >= {"uptime_s", "state", "source", "sink", "inference_device", "frames", "errors", "fps", "ms"}
    assert set(snap["state"]) >= {"source", "sink", "idle", "readers", "detection"}
    assert set(snap["frames"]) >= {
        "in",
        "composited",
        "out",
        "repeated",
        "dropped",
        "placeholder",
        "idle",
        "segmentations",
    }
    assert set(snap["errors"]) >= {"source", "sink"} and set(snap["fps"]) >= {"now", "overall"}
    assert set(snap["ms"]) >= {"segment_mean", "composite_mean", "latency_p50", "latency_p95", "cpu_per_frame"}
    assert snap["state"] == {
        "source": "running",
        "sink": "open",
        "idle": "active",
        "readers": "n/a",
        "detection": "off",
    }
    assert snap["frames"]["in"] == snap["frames"]["out"] == snap["frames"]["dropped"] == 1


def test_stats_are_written_through_named_methods_only() -> None:
    stats = PipelineStats()
    stats.sink_failed()
    assert stats.sink_errors == 1 and stats.sink_state is SinkState.LOST
    with pytest.raises(AttributeError):
        stats.count("frames_dropped")  # type: ignore[attr-defined]  # no writing by name any more


def test_the_log_line_and_the_status_lines_come_from_one_snapshot() -> None:
    stats = PipelineStats()
    for _ in range(3):
        stats.sent(20.0)
    stats.segmented(15.0)
    stats.inference_on("CPU (TFLite)")
    stats.source_is(SourceState.RUNNING, "camera")
    snap = stats.snapshot()
    line = log_line(snap, stats.interval())
    assert line.startswith("3 frames in ") and "dropped, 0 repeated, CPU " in line
    assert "segment 15.0 ms (1x)" in line and "latency p50 20.0 / p95 20.0 ms" in line
    assert line.endswith("source running, output starting, active (readers: n/a), inference on CPU (TFLite)")
    assert log_line(snap).startswith("3 frames, ")
    assert status_line(snap, 2).startswith(f"{snap['fps']['now']:.1f} fps, 2 dropped; source running")
    stats.idle_is(IdleState.IDLE)
    assert status_line(stats.snapshot(), 0).startswith("idle: no application reads the camera")
    assert status_line(PipelineStats().snapshot(), 0).startswith("starting: loading the model")
    lines = status_lines(snap, idle=False)
    assert lines[0].startswith("  state:      active; source running") and "  inference:  CPU (TFLite)" in lines


def test_the_reporter_sends_the_status_at_once_and_logs_each_interval(caplog: pytest.LogCaptureFixture) -> None:
    stats, statuses, now = PipelineStats(), [], [100.0]
    stats.sent(10.0)
    stats.sent(10.0)
    reporter = Reporter(stats, on_status=statuses.append, clock=lambda: now[0])
    caplog.set_level("INFO", logger="vcamseg.pipeline.report")
    reporter.tick(10.0, 5.0)
    assert len(statuses) == 1 and ", 0 dropped;" in statuses[0]
    assert not caplog.records, "the status at once, the first log line one interval after the start"
    stats.dropped()
    now[0] += 4.0
    reporter.tick(10.0, 5.0)
    assert len(statuses) == 1
    now[0] += 1.0
    reporter.tick(10.0, 5.0)
    assert len(statuses) == 2 and ", 1 dropped;" in statuses[1], "drops since the last status"
    now[0] += 5.0
    reporter.tick(10.0, 5.0)
    assert len(statuses) == 3 and ", 0 dropped;" in statuses[2]
    assert [r.getMessage()[:22] for r in caplog.records] == ["stats: 2 frames in 0.0"]
    now[0] += 100.0
    reporter.tick(0.0, 5.0)
    assert len(caplog.records) == 1, "0: no periodic log line"
    assert len(statuses) == 4


def test_stage_costs_are_means_per_stage_and_reported_in_status() -> None:
    costs = StageCosts()
    for ms in (2.0, 4.0):
        costs.record("capture", ms)

    class Reporting:
        def stage_costs(self) -> dict[str, float]:
            return {"model": 9.0, "decoding": 1.5}

    costs.record_all(Reporting())
    costs.record_all(object())  # a stand-in that reports nothing: nothing recorded, no error
    snap = costs.snapshot()
    assert snap["capture"] == 3.0 and snap["model"] == 9.0 and snap["decoding"] == 1.5
    assert snap["output"] is None and list(snap) == list(STAGES)
    with pytest.raises(ValueError, match="unknown stage 'decode': one of capture, model_input"):
        costs.record("decode", 1.0)
    stats = PipelineStats()
    stats.costs.record("model", 7.25)
    (line,) = [ln for ln in status_lines(stats.snapshot(), idle=False) if "stages:" in ln]
    assert "model 7.2" in line and "capture -" in line
