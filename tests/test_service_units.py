"""The reloader's policy and the status reply, without a daemon process or a model: changes are
applied by their `config.live` marks, what runs is kept apart from what was written, and the
status reply keeps its public keys."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from vcamseg.config import Config
from vcamseg.errors import ConfigError
from vcamseg.pipeline import builder
from vcamseg.pipeline.settings import PipelineSettings, settings_from
from vcamseg.service.config_file import ConfigFile
from vcamseg.service.handlers import ControlHandlers
from vcamseg.service.notify import Notifier
from vcamseg.service.reload import Reloader, differences
from vcamseg.service.reload_loop import ReloadLoop

pytestmark = pytest.mark.pure  # no ../shared, no TensorFlow


class FakePipeline:
    width, height = 320, 240

    def __init__(self) -> None:
        self.settings = PipelineSettings()
        self.sources: list[object] = []
        self.segmenter: object | None = None
        self.switched = threading.Event()
        self.idle = False
        self.stats = None

    def set_settings(self, settings: PipelineSettings) -> None:
        self.settings = settings

    def set_source(self, factory: object) -> None:
        self.sources.append(factory)

    def set_segmenter(self, segmenter: object) -> None:
        self.segmenter = segmenter
        self.switched.set()


class FakeCompositor:
    def __init__(self, fail: bool = False) -> None:
        self.staged: list[tuple[object, object]] = []
        self.fail = fail

    def stage(self, mask: object, effects: object) -> None:
        if self.fail:
            raise ValueError("background image 'x.png' cannot be read as an image")
        self.staged.append((mask, effects))


def _reloader(compositor: FakeCompositor | None = None) -> tuple[Reloader, FakePipeline, FakeCompositor]:
    pipeline, compositor = FakePipeline(), compositor or FakeCompositor()
    config = Config()
    config.source.device = "test"
    return Reloader(pipeline, compositor, config, lambda service: None), pipeline, compositor  # type: ignore[arg-type]


def _changed(config: Config, **values: Any) -> Config:
    new = config.model_copy(deep=True)
    for key, value in values.items():
        *path, name = key.split("__")
        target: Any = new
        for part in path:
            target = getattr(target, part)
        setattr(target, name, value)
    return new


def test_keys_read_while_running_apply_through_the_settings() -> None:
    reloader, pipeline, compositor = _reloader()
    new = _changed(
        reloader.running, output__idle__grace_s=9.0, source__retry_interval_s=0.5, pipeline__segment_every_n_frames=3
    )
    result = reloader.apply(new, "set")
    assert result.ok and result.applied == ["source", "output", "pipeline"] and not result.restart_needed
    assert pipeline.settings == settings_from(new) and pipeline.settings.idle_grace_s == 9.0
    assert not pipeline.sources, "a live source key does not switch the source"
    assert not compositor.staged


def test_an_output_key_waits_for_a_restart_and_what_runs_says_so() -> None:
    reloader, _, _ = _reloader()
    new = _changed(reloader.running, output__device="/tmp/elsewhere.mp4", output__idle__grace_s=9.0)
    result = reloader.apply(new, "set")
    assert result.restart_needed == ["output.device"] and result.applied == ["output"]
    assert reloader.running.output.device == "label:vcamseg", "the virtual camera stays open"
    assert reloader.running.output.idle.grace_s == 9.0
    assert differences(reloader.running, new) == ["output.device"], "what was written and does not run"


def test_effects_are_staged_and_a_failure_changes_nothing() -> None:
    reloader, pipeline, compositor = _reloader()
    new = _changed(reloader.running, mask__feather_px=3)
    assert reloader.apply(new, "file").applied == ["mask"] and len(compositor.staged) == 1

    failing, pipeline, _ = _reloader(FakeCompositor(fail=True))
    before = failing.running
    with pytest.raises(ConfigError, match="effects: cannot be built: background image"):
        failing.apply(_changed(before, mask__feather_px=3, pipeline__segment_every_n_frames=5), "file")
    assert failing.running is before and pipeline.settings == PipelineSettings(), "all or nothing"


def test_a_new_source_is_opened_before_it_is_switched_to() -> None:
    reloader, pipeline, _ = _reloader()
    new = _changed(reloader.running, source__width=160, source__height=120)
    assert reloader.apply(new, "set").applied == ["source"]
    (factory,) = pipeline.sources
    with factory() as source:  # type: ignore[operator]  # the probed pattern, handed out first
        assert (source.width, source.height) == (160, 120)
    with pytest.raises(ConfigError, match=r"source\.device: source .* does not exist"):
        reloader.apply(_changed(reloader.running, source__device="/no/such/video.mp4"), "set")
    assert len(pipeline.sources) == 1


def test_a_model_change_runs_only_once_the_new_model_is_ready(monkeypatch: pytest.MonkeyPatch) -> None:
    release = threading.Event()

    class Loaded:
        device = "CPU (fake)"

        def prepare(self, frame_h: int, frame_w: int) -> None:
            release.wait(5)

    built: list[Config] = []

    def build(config: Config, running: object = None) -> Loaded:
        built.append(config)
        return Loaded()

    monkeypatch.setattr(builder, "build_segmenter", build)
    reloader, pipeline, _ = _reloader()
    new = _changed(reloader.running, model__multiplier=0.75)
    result = reloader.apply(new, "set")
    assert result.segmenter == "loading" and result.segmenter_change == "model" and not result.applied
    assert reloader.running.model.multiplier is None, "the running model stays while the new one loads"
    assert differences(reloader.running, new) == ["model.multiplier"]
    release.set()
    assert pipeline.switched.wait(5)
    for _ in range(100):
        if result.segmenter == "switched":
            break
        threading.Event().wait(0.01)
    assert result.segmenter == "switched" and reloader.running.model.multiplier == 0.75
    assert built[0].model.multiplier == 0.75 and differences(reloader.running, new) == []


def test_the_status_reply_keeps_its_public_keys(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text('output:\n  device: "null"\n')
    config_file = ConfigFile(path, required=True)
    loaded = config_file.load(path.read_text())

    class Daemon:
        pipeline = None
        last_frame = None
        started = 0.0

        def __init__(self) -> None:
            self.config_file = config_file
            self.reloads = ReloadLoop(config_file, loaded, Notifier())
            self.running_config = loaded.config

    status = ControlHandlers(Daemon())({"cmd": "status"})["status"]  # type: ignore[arg-type]
    assert set(status) >= {
        "pid",
        "version",
        "uptime_s",
        "config_file",
        "config_file_exists",
        "runtime_changes",
        "last_reload",
        "idle",
        "pipeline",
        "config",
    }
    assert status["pipeline"] is None and status["config"]["output"]["device"] == "null"
    assert status["config_pending"] == [] and status["last_reload"]["trigger"] == "start"
