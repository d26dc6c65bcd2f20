"""The daemon as systemd runs it, on a real process: live reload from the file (in place, by
rename, on SIGHUP), invalid edits, `vcamseg status` / `vcamseg set` over the control socket,
a model that fails to load, one daemon per socket, sd_notify messages, journald log lines, and
stopping cleanly on SIGTERM (how fast: benchmarks/stop_latency.py).

One daemon serves the tests of this module in order (each start loads the model: seconds)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from tests.daemon_process import DaemonProcess
from tests.speed import scaled

pytestmark = pytest.mark.slow

RED, BLUE, GREEN, WHITE = (0, 0, 255), (255, 0, 0), (64, 177, 0), (255, 255, 255)  # BGR; green = chroma green
USER_CONFIG = """\
# the user's own comment
effects:
  - type: replace   # keep this comment
    color: "#ff0000"
service:
  reload_debounce_ms: 100
"""


class NotifyListener:
    """A stand-in for systemd's NOTIFY_SOCKET: collects what the daemon sends."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.messages: list[str] = []
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.sock.settimeout(0.2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.messages.append(self.sock.recv(4096).decode())
            except TimeoutError:
                continue

    def close(self) -> None:
        self._stop.set()
        self._thread.join(1)
        self.sock.close()


class RunningDaemon(DaemonProcess):
    """A `DaemonProcess` as systemd starts it: NOTIFY_SOCKET, WATCHDOG_USEC and JOURNAL_STREAM set,
    and a stale socket file in the way of its control socket."""

    def __init__(self, folder: Path) -> None:
        socket_path = folder / "run" / "control.sock"
        socket_path.parent.mkdir()
        # A socket file left by a daemon that was killed: it must not block this start.
        stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        stale.bind(str(socket_path))
        stale.close()
        self.notify = NotifyListener(folder / "notify.sock")
        # JOURNAL_STREAM names the daemon's stderr: the log file, which DaemonProcess reopens for
        # writing (truncating keeps its inode).
        log_path = folder / "daemon.log"
        log_path.touch()
        info = log_path.stat()
        super().__init__(
            folder,
            USER_CONFIG,
            env={
                "NOTIFY_SOCKET": str(self.notify.path),
                "WATCHDOG_USEC": "1000000",
                "JOURNAL_STREAM": f"{info.st_dev}:{info.st_ino}",
            },
        )

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "vcamseg", *args, "--socket", str(self.socket)],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
        )

    def close(self) -> None:
        super().close()
        self.notify.close()


def share(image: np.ndarray, bgr: tuple[int, int, int]) -> float:
    """Share of the frame's pixels within 40 of ``bgr`` per channel: the replaced background."""
    return float(np.mean(np.all(np.abs(image.astype(int) - bgr) <= 40, axis=2)))


def shows(daemon: RunningDaemon, bgr: tuple[int, int, int]) -> Callable[[], bool]:
    return lambda: share(daemon.snapshot(), bgr) > 0.3


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningDaemon]:
    with RunningDaemon(tmp_path_factory.mktemp("daemon")) as running:
        # The socket answers before the pipeline exists (status "pipeline": null until it is built).
        running.wait_streaming()
        yield running


def test_status_over_the_socket(daemon: RunningDaemon) -> None:
    status = daemon.status()
    assert status["pid"] == daemon.proc.pid
    assert status["config_file"] == str(daemon.config) and status["config_file_exists"]
    assert status["last_reload"]["trigger"] == "start" and status["last_reload"]["ok"]
    assert status["config"]["effects"] == [
        {"type": "replace", "image": None, "video": None, "color": [255, 0, 0], "fit": "cover"}
    ]
    assert status["config"]["model"]["backend"] == "tflite"  # the command line's --set is in it
    pipeline = status["pipeline"]
    assert pipeline["state"]["source"] == "running" and pipeline["state"]["sink"] == "open"
    assert "TFLite" in pipeline["inference_device"] and pipeline["uptime_s"] > 0
    assert share(daemon.snapshot(), RED) > 0.3

    result = daemon.cli("status")
    assert result.returncode == 0, result.stderr
    assert f"pid {daemon.proc.pid}" in result.stdout and "inference:  CPU (TFLite" in result.stdout
    assert json.loads(daemon.cli("status", "--json").stdout)["pid"] == daemon.proc.pid


def test_the_socket_is_for_this_user_only(daemon: RunningDaemon) -> None:
    assert stat.S_ISSOCK(daemon.socket.stat().st_mode)
    assert stat.S_IMODE(daemon.socket.stat().st_mode) == 0o600
    assert stat.S_IMODE(daemon.socket.parent.stat().st_mode) == 0o700


def test_an_edit_changes_the_output_frames(daemon: RunningDaemon) -> None:
    daemon.config.write_text(USER_CONFIG.replace("#ff0000", "#0000ff"))
    written = time.monotonic()
    daemon.wait_for(shows(daemon, BLUE), 10, "blue frames after the edit")
    print(f"reload latency (write -> first blue frame seen): {time.monotonic() - written:.2f} s")
    last = daemon.status()["last_reload"]
    assert last["trigger"] == "file" and last["ok"] and last["applied"] == ["effects"]


def test_an_invalid_edit_keeps_the_running_config_and_the_daemon(daemon: RunningDaemon) -> None:
    daemon.config.write_text(USER_CONFIG.replace('color: "#ff0000"', "colour: green"))
    last = daemon.wait_for(lambda: (r := daemon.status()["last_reload"]) and not r["ok"] and r, 10, "the failed reload")
    assert f"{daemon.config}:4: effects.0.colour: unknown key 'colour' (did you mean 'color'?)" in last["message"]
    assert share(daemon.snapshot(), BLUE) > 0.3  # still the last good config
    errors = [line for line in daemon.text_log().splitlines() if "config not applied" in line]
    assert len(errors) == 1 and errors[0].startswith("<3>")  # one line, at journald's error priority
    assert "Traceback" not in daemon.text_log()


def test_an_editor_save_by_rename_is_picked_up(daemon: RunningDaemon) -> None:
    temporary = daemon.config.with_name(".config.yaml.swp")
    temporary.write_text(USER_CONFIG.replace('"#ff0000"', "green"))
    os.replace(temporary, daemon.config)
    daemon.wait_for(shows(daemon, GREEN), 10, "green frames after the rename")
    assert daemon.status()["last_reload"]["ok"]


def test_sighup_rereads_the_file_and_ends_unsaved_changes(daemon: RunningDaemon) -> None:
    reply = daemon.request({"cmd": "set", "changes": ["effects.0.color=white"]})
    assert reply["result"]["applied"] == ["effects"]
    daemon.wait_for(shows(daemon, WHITE), 10, "white frames after `set`")
    assert daemon.status()["runtime_changes"] == ["effects.0.color=white"]
    daemon.proc.send_signal(signal.SIGHUP)
    daemon.wait_for(shows(daemon, GREEN), 10, "the file's green after SIGHUP")
    status = daemon.status()
    assert status["last_reload"]["trigger"] == "SIGHUP" and status["runtime_changes"] == []
    assert any(m == "RELOADING=1" for m in daemon.notify.messages)


def test_set_is_checked_like_the_file_and_save_keeps_the_comments(daemon: RunningDaemon) -> None:
    refused = daemon.cli("set", "effects.0.colour=[0, 0, 255]")
    assert refused.returncode == 2
    assert "--set effects.0.colour=[0, 0, 255]: effects.0.colour: unknown key 'colour'" in refused.stderr
    assert "Traceback" not in refused.stderr

    saved = daemon.cli("set", "--save", "effects.0.color=[255, 0, 0]")
    assert saved.returncode == 0, saved.stderr
    daemon.wait_for(shows(daemon, RED), 10, "red frames after `set --save`")
    text = daemon.config.read_text()
    assert text == USER_CONFIG.replace('"#ff0000"', "[255, 0, 0]")  # comments, quotes elsewhere and order kept
    time.sleep(0.5)  # the watcher sees the daemon's own write: same content, no reload
    status = daemon.status()
    assert status["last_reload"]["trigger"] == "set" and status["runtime_changes"] == []


def test_a_source_change_switches_the_camera_and_an_output_change_waits_for_a_restart(
    daemon: RunningDaemon, data_dir: Path
) -> None:
    video = data_dir / "videos" / "intel_asl_thanks.mp4"
    result = daemon.request({"cmd": "set", "changes": [f"source.device={video}"]})["result"]
    assert result["applied"] == ["source"]
    daemon.wait_for(
        lambda: f"video {video.name}" in daemon.status()["pipeline"]["source"], 10, "the video as the source"
    )

    missing = daemon.cli("set", f"source.device={video.with_name('no-such-video.mp4')}")
    assert missing.returncode == 2 and "source.device: source" in missing.stderr and "does not exist" in missing.stderr
    assert f"video {video.name}" in daemon.status()["pipeline"]["source"]  # refused: the running source stays

    result = daemon.request({"cmd": "set", "changes": ["output.device=/tmp/elsewhere.mp4", "output.idle.grace_s=9"]})
    assert result["result"]["restart_needed"] == ["output.device"] and result["result"]["applied"] == ["output"]
    output = daemon.status()["config"]["output"]
    assert output["device"] == "null" and output["idle"]["grace_s"] == 9  # the camera stays open
    assert "output.device changed: takes effect when vcamseg restarts" in daemon.text_log()
    daemon.request({"cmd": "set", "changes": ["source.device=test"]})


def test_a_model_that_fails_to_load_leaves_the_running_one(
    daemon: RunningDaemon, models_dir: Path, tmp_path: Path
) -> None:
    relative = Path("bodypix/mobilenet/float/050")
    broken = tmp_path / "models"
    (broken / relative).mkdir(parents=True)
    shutil.copy(models_dir / relative / "model-stride16.json", broken / relative)
    shard = (models_dir / relative / "group1-shard1of1.bin").read_bytes()
    (broken / relative / "group1-shard1of1.bin").write_bytes(shard[: len(shard) // 2])  # a cut-off download
    before = daemon.status()
    reply = daemon.request({"cmd": "set", "changes": [f"model.dir={broken}", "model.download=false"]})
    # The reply comes before the load ends, or just after (it fails at once: the file is short).
    assert reply["result"]["segmenter_change"] == "model"
    assert reply["result"]["segmenter"] == "loading" or reply["result"]["segmenter"].startswith("failed: ")
    last = daemon.wait_for(
        lambda: (r := daemon.status()["last_reload"])["segmenter"].startswith("failed") and r,
        30,
        "the failed model load",
    )
    assert "group1-shard1of1.bin" in last["message"] and not last["ok"]
    after = daemon.status()
    assert after["config"]["model"]["dir"] is None  # what runs is the old model
    assert after["pipeline"]["inference_device"] == before["pipeline"]["inference_device"]
    daemon.wait_for(
        lambda: daemon.status()["pipeline"]["frames"]["out"] > after["pipeline"]["frames"]["out"] + 10,
        5,
        "frames going on",
    )
    assert "model change not applied, the running model stays" in daemon.text_log()

    # A segmentation change shares the loaded model: switched at once.
    daemon.config.write_text(USER_CONFIG + "segmentation:\n  threshold: 0.6\n")
    last = daemon.wait_for(
        lambda: (r := daemon.status()["last_reload"])["segmenter"] == "switched" and r, 10, "the new threshold"
    )
    assert last["segmenter_change"] == "segmentation" and daemon.status()["config"]["segmentation"]["threshold"] == 0.6


def test_the_selfie_model_is_switched_on_live_and_its_weight_changes_without_a_reload(daemon: RunningDaemon) -> None:
    reply = daemon.request({"cmd": "set", "changes": ["model.selfie=auto"]})["result"]
    assert reply["segmenter_change"] == "model"
    daemon.wait_for(lambda: daemon.status()["last_reload"]["segmenter"] == "switched", 30, "the model with the selfie")
    assert daemon.status()["config"]["model"]["selfie"] == "auto"
    reply = daemon.request({"cmd": "set", "changes": ["segmentation.selfie_weight=0.2"]})["result"]
    assert reply["segmenter_change"] == "segmentation"  # the loaded models are shared: no reload
    daemon.wait_for(lambda: daemon.status()["last_reload"]["segmenter"] == "switched", 10, "the new weight")
    before = daemon.status()["pipeline"]["frames"]["out"]
    daemon.wait_for(lambda: daemon.status()["pipeline"]["frames"]["out"] > before + 10, 5, "frames going on")
    daemon.request({"cmd": "set", "changes": ["model.selfie=off"]})
    daemon.wait_for(
        lambda: (
            daemon.status()["config"]["model"]["selfie"] == "off"
            and daemon.status()["last_reload"]["segmenter"] == "switched"
        ),
        30,
        "BodyPix alone again",
    )


def test_a_second_daemon_on_the_same_socket_is_a_clear_error(daemon: RunningDaemon) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "vcamseg",
            "run",
            "--config",
            str(daemon.config),
            "--source",
            "test",
            "--output",
            "null",
            "--set",
            f"service.control_socket_path={daemon.socket}",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert result.returncode == 2
    assert (
        f"another vcamseg daemon is running (pid {daemon.proc.pid}) with the control socket {daemon.socket}"
        in result.stderr
    )
    assert "Traceback" not in result.stderr
    assert daemon.status()["pid"] == daemon.proc.pid  # the first one is untouched


def test_sigterm_stops_and_tells_systemd(daemon: RunningDaemon) -> None:
    messages = daemon.notify.messages
    assert "READY=1" in messages and "WATCHDOG=1" in messages
    assert any(m.startswith("STATUS=") and "fps" in m for m in messages), messages
    elapsed = daemon.terminate()  # exit code 0, within a margin over the 1 s promise
    print(f"stopped {elapsed:.2f} s after SIGTERM")
    # Sent before the exit; the listener thread may not have read it yet.
    until = time.monotonic() + scaled(5)
    while "STOPPING=1" not in daemon.notify.messages and time.monotonic() < until:
        time.sleep(0.05)
    assert "STOPPING=1" in daemon.notify.messages
    assert not daemon.socket.exists()
    log = daemon.text_log()
    assert "<6>INFO vcamseg.service.daemon: SIGTERM: stopping" in log and "stopped:" in log
