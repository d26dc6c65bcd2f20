"""Faults around the model, on real daemons: files corrupted before the start (a clear error naming
the file and the fix, exit code 2) and during a live model switch (a clear error, the running model
stays, frames keep flowing), and SIGTERM while a model loads (stopped cleanly, without waiting for
the load: the time is printed, and measured by benchmarks/stop_latency.py)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.daemon_process import DaemonProcess, log_lines
from tests.helpers import flip_byte

pytestmark = pytest.mark.slow

MODEL = Path("bodypix/mobilenet/float/050")
SHARD = MODEL / "group1-shard1of1.bin"
MODEL_JSON = MODEL / "model-stride16.json"
OFFICIAL = "https://storage.googleapis.com/tfjs-models/savedmodel/"


def model_copy(models_dir: Path, folder: Path) -> Path:
    (folder / MODEL).mkdir(parents=True)
    for name in ("model-stride16.json", "model-stride8.json", "group1-shard1of1.bin"):
        shutil.copy(models_dir / MODEL / name, folder / MODEL / name)
    return folder


@pytest.mark.parametrize("damage", ["shard", "model.json"])
def test_a_model_corrupted_before_the_start_is_a_clear_error_and_exit_code_2(
    damage: str, models_dir: Path, tmp_path: Path
) -> None:
    models = model_copy(models_dir, tmp_path / "models")
    broken = models / (SHARD if damage == "shard" else MODEL_JSON)
    if damage == "shard":
        flip_byte(broken, offset=4096)  # same size: only the checksum tells
    else:
        broken.write_text('{"format": "graph-model", "modelTopology": ')  # a cut-off download
    with DaemonProcess(tmp_path, "", env={"VCAMSEG_MODEL_DIR": str(models)}) as daemon:
        code = daemon.wait_exit(120)
    log = daemon.text_log()
    assert code == 2, log[-3000:]
    error = log[log.index("vcamseg: error: ") :]
    assert str(broken) in error
    if damage == "shard":
        assert "is corrupted: its sha256 is" in error and "(pinned)" in error
    url = OFFICIAL + str(SHARD if damage == "shard" else MODEL_JSON)
    assert (
        f"fix: replace it with the official file {url}" in error
        or f"fix: replace the file(s) with the official {url}" in error
    )
    assert f"or remove {models / MODEL_JSON}" in error and "vcamseg does not modify" in error
    assert "Traceback" not in log


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaemonProcess]:
    with DaemonProcess(tmp_path_factory.mktemp("model-daemon"), "service:\n  reload_debounce_ms: 100\n") as running:
        running.wait_streaming()
        yield running


def wait_failed_load(daemon: DaemonProcess) -> dict:
    return daemon.wait_for(
        lambda: (r := daemon.status()["last_reload"])["segmenter"].startswith("failed") and r,
        60,
        "the failed model load",
    )


def assert_frames_flow(daemon: DaemonProcess) -> None:
    sent = daemon.frames_out()
    daemon.wait_for(lambda: daemon.frames_out() > sent + 20, 5, "frames going on")


@pytest.mark.parametrize("damage", ["shard", "model.json"])
def test_a_corrupted_model_in_a_live_switch_leaves_the_running_one(
    daemon: DaemonProcess, damage: str, models_dir: Path, tmp_path: Path
) -> None:
    models = model_copy(models_dir, tmp_path / "models")
    broken = models / (SHARD if damage == "shard" else MODEL / "model-stride8.json")
    if damage == "shard":
        flip_byte(broken, offset=4096)
        change = [f"model.dir={models}"]
    else:
        broken.write_bytes(b"\x00" * 100)
        change = [f"model.dir={models}", "model.output_stride=8"]
    before = daemon.status()
    errors_before = len(log_lines(daemon, "model change not applied"))
    result = daemon.set(*change)
    assert result["segmenter_change"] == "model"
    last = wait_failed_load(daemon)
    assert str(broken) in last["message"] and not last["ok"]
    if damage == "shard":
        assert "is corrupted: its sha256 is" in last["message"]
    after = daemon.status()
    assert after["config"]["model"] == before["config"]["model"], "what runs is the old model"
    assert after["pipeline"]["inference_device"] == before["pipeline"]["inference_device"]
    assert_frames_flow(daemon)
    errors = log_lines(daemon, "model change not applied, the running model stays")
    assert len(errors) == errors_before + 1 and str(broken) in errors[-1] and errors[-1].startswith("ERROR")
    assert "Traceback" not in daemon.text_log()
    # Back to the config that runs: nothing to load.
    daemon.set("model.dir=null", "model.output_stride=16")


def test_sigterm_while_a_live_model_switch_loads_stops(daemon: DaemonProcess, tmp_path: Path) -> None:
    # Another model, loaded in the background; an empty cache of its own, so that the load is a
    # TFLite conversion (seconds) that no earlier test has cached: a stop that waited for it shows.
    result = daemon.set("model.quant_bytes=2", "model.multiplier=0.75", f"model.cache_dir={tmp_path / 'cold'}")
    assert result["segmenter"] == "loading"
    elapsed = daemon.terminate()  # exit code 0, within a margin over the 1 s promise
    print(f"stopped {elapsed:.2f} s after SIGTERM, during a model switch")
    log = daemon.text_log()
    assert "Traceback" not in log and "stopped:" in log
    assert "model switched" not in log, "it stopped without waiting for the new model"


def test_sigterm_while_the_first_model_loads_stops(tmp_path: Path) -> None:
    # A cold cache: TensorFlow is imported and the graph converted to TFLite before the first
    # frame: seconds of loading to interrupt.
    with DaemonProcess(
        tmp_path,
        f"model:\n  cache_dir: {tmp_path / 'cache'}\n  backend: auto\n",
        extra_args=["--set", "source.width=320", "--set", "source.height=240"],
    ) as daemon:
        daemon.wait_for(
            lambda: log_lines(daemon, "converting model-stride16.json to TFLite"),
            120,
            "the model conversion to start",
            poll_s=0.01,
        )
        loading = daemon.status()["pipeline"]
        assert loading["frames"]["out"] == 0 and loading["inference_device"] == "not started"
        elapsed = daemon.terminate()  # exit code 0, within a margin over the 1 s promise
    print(f"stopped {elapsed:.2f} s after SIGTERM, while the model loaded")
    log = daemon.text_log()
    assert "SIGTERM: stopping" in log and "stopping while the model loads" in log and "stopped: 0 frames" in log
    assert "inference device:" not in log, "it stopped before the model was ready"
    assert "Traceback" not in log
