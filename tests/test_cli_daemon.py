"""The daemon's commands as a user runs them: `vcamseg run` stopped by SIGTERM, `vcamseg process`
on a real video, `vcamseg snapshot`, `vcamseg devices`."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import pytest

from tests.speed import STOP_PROMISE_S, allowance, describe, scaled

FAST = ["--set", "model.backend=tflite"]  # skip auto's TensorFlow-vs-TFLite timing at start-up


def _env() -> dict[str, str]:
    return {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}


def _cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vcamseg", *args], capture_output=True, text=True, timeout=timeout, env=_env()
    )


def _frame_count(path: Path) -> int:
    cap = cv2.VideoCapture(str(path))
    count = 0
    while cap.read()[0]:
        count += 1
    return count


def test_run_stops_on_sigterm_and_finishes_the_file(tmp_path: Path) -> None:
    out = tmp_path / "run.mp4"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "vcamseg",
            "run",
            "--source",
            "test",
            "--output",
            str(out),
            *FAST,
            "--set",
            "source.width=320",
            "--set",
            "source.height=240",
            "--set",
            "pipeline.stats_interval_s=0.5",
        ],
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
    )
    assert proc.stderr is not None
    log: list[str] = []
    try:
        deadline = time.monotonic() + scaled(90)
        # Wait until real (segmented) frames flow: a stats line reporting a frame rate.
        while time.monotonic() < deadline:
            line = proc.stderr.readline()
            if not line:
                break
            log.append(line)
            if re.search(r"stats: [1-9][0-9]* frames", line):
                break
        else:
            pytest.fail(f"no frames within {scaled(90):.0f} s:\n" + "".join(log))
        sent = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        # The promise (gone within 1 s) is measured by benchmarks/stop_latency.py; here a margin.
        try:
            proc.wait(allowance(STOP_PROMISE_S))
        except subprocess.TimeoutExpired:
            pytest.fail(f"still running {time.monotonic() - sent:.1f} s after SIGTERM ({describe(STOP_PROMISE_S)})")
        elapsed = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
    log.append(proc.stderr.read())
    text = "".join(log)
    print(f"stopped {elapsed:.2f} s after SIGTERM")
    assert proc.returncode == 0, text
    assert "SIGTERM: stopping" in text and "stopped:" in text
    written = re.search(r"wrote (\d+) frames", text)
    assert written, text
    assert _frame_count(out) == int(written.group(1)) > 0, "the mp4 is finalised and playable"


def test_process_writes_every_frame_and_one_summary_line(data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "processed.mp4"
    result = _cli("process", str(data_dir / "videos" / "intel_asl_thanks.mp4"), str(out), *FAST)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1
    assert re.fullmatch(
        r"processed 51 frames -> .*processed\.mp4: [0-9.]+ fps \(wall\), CPU [0-9.]+ ms/frame, "
        r"latency p50 [0-9.]+ ms, p95 [0-9.]+ ms",
        lines[0],
    ), lines[0]
    assert _frame_count(out) == 51
    cap = cv2.VideoCapture(str(out))
    assert (cap.get(cv2.CAP_PROP_FRAME_WIDTH), cap.get(cv2.CAP_PROP_FRAME_HEIGHT)) == (640, 480)
    assert cap.get(cv2.CAP_PROP_FPS) == pytest.approx(30.0)


def test_process_frames_limit_and_image_output(data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "last.png"
    result = _cli(
        "process",
        str(data_dir / "videos" / "intel_asl_thanks.mp4"),
        str(out),
        "--frames",
        "3",
        "--effect",
        "mirror",
        *FAST,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("processed 3 frames")
    assert cv2.imread(str(out)).shape == (480, 640, 3)


def test_process_json_prints_the_status_snapshot(data_dir: Path) -> None:
    """Scripts and benchmarks read the figures as JSON (the shape of `status --json`), not the text."""
    video = str(data_dir / "videos" / "intel_asl_thanks.mp4")
    result = _cli("process", video, "null", "--frames", "4", "--json", *FAST)
    assert result.returncode == 0, result.stderr
    (line,) = result.stdout.strip().splitlines()
    report = json.loads(line)
    assert report["output"] == "null"
    snap = report["pipeline"]
    assert snap["frames"]["out"] == 4 and snap["frames"]["segmentations"] >= 1
    assert snap["ms"]["cpu_per_frame"] > 0 and snap["fps"]["overall"] > 0
    assert snap["state"]["source"] == "ended"


def test_process_unknown_effect_is_one_clear_line(data_dir: Path, tmp_path: Path) -> None:
    result = _cli("process", str(data_dir / "videos" / "intel_asl_thanks.mp4"), "null", "--effect", "sparkles")
    assert result.returncode == 2
    assert "--effect 'sparkles': no such effect" in result.stderr and "Traceback" not in result.stderr


def test_snapshot_writes_one_composited_frame(tmp_path: Path) -> None:
    out = tmp_path / "snap.png"
    result = _cli(
        "snapshot",
        "--source",
        "test",
        "--output",
        str(out),
        *FAST,
        "--set",
        "source.width=320",
        "--set",
        "source.height=180",
    )
    assert result.returncode == 0, result.stderr
    assert cv2.imread(str(out)).shape == (180, 320, 3)


def test_devices_lists_both_kinds_and_says_how_to_get_a_virtual_camera() -> None:
    result = _cli("devices", timeout=60)
    assert result.returncode == 0, result.stderr
    assert "Cameras:" in result.stdout and "Virtual cameras (v4l2loopback):" in result.stdout
    if not Path("/sys/devices/virtual/video4linux").exists():
        assert "sudo modprobe v4l2loopback" in result.stdout


def test_effect_and_background_options_build_the_effect(data_dir: Path) -> None:
    from vcamseg.cli.process import apply_effect_args
    from vcamseg.config import Config
    from vcamseg.errors import ConfigError

    background = next((data_dir / "images").rglob("*.jpg"))
    config = apply_effect_args(Config(), "replace", background)
    (effect,) = config.effects
    assert effect.type == "replace" and str(getattr(effect, "image", "")) == str(background)
    with pytest.raises(ConfigError, match="takes no background"):
        apply_effect_args(Config(), "mirror", background)
    with pytest.raises(ConfigError, match="none of the effects"):
        apply_effect_args(Config(), None, background)
