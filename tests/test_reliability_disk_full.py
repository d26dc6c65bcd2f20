"""No space left, for real: a 64 KiB tmpfs as the model cache (a download that does not fit, a
TFLite conversion that cannot be cached) and as the config file's folder (`vcamseg set --save`).
Each must be a clear error naming the folder, leave the user's file as it was and leave nothing
half-written behind. Mounting needs root (CAP_SYS_ADMIN); elsewhere these tests are skipped."""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.daemon_process import DaemonProcess, log_lines
from tests.mirror import Server

pytestmark = pytest.mark.slow

TINY = "64k"


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 64 KiB tmpfs, unmounted afterwards."""
    mount_point = tmp_path / "tiny"
    mount_point.mkdir()
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={TINY},mode=0755", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs to fill up (needs root): {result.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def fill(folder: Path) -> None:
    """Use up every byte left (tmpfs counts whole pages)."""
    with (folder / "filler").open("wb", buffering=0) as fh, contextlib.suppress(OSError):
        while True:
            fh.write(b"\0" * 4096)
    with pytest.raises(OSError) as full:
        (folder / f"probe-{uuid.uuid4().hex}").write_bytes(b"\0" * 4096)
    assert full.value.errno == errno.ENOSPC
    for probe in folder.glob("probe-*"):
        probe.unlink()  # an empty inode may have been created before the write failed


def leftovers(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.name.endswith((".part", ".tmp"))]


@pytest.fixture
def mirror(models_dir: Path, serve: Callable[..., Server]) -> str:
    """The official layout served over http on 127.0.0.1 (allowed for a local mirror)."""
    return serve(models_dir).base_url


def test_a_model_download_into_a_full_cache_is_a_clear_error(tiny_disk: Path, mirror: str, tmp_path: Path) -> None:
    with DaemonProcess(
        tmp_path,
        f"model:\n  cache_dir: {tiny_disk}\n",
        env={"VCAMSEG_MODEL_DIR": None, "VCAMSEG_MODEL_BASE_URL": mirror},
    ) as daemon:
        code = daemon.wait_exit(120)
    log = daemon.text_log()
    assert code == 2, log[-3000:]
    folder = tiny_disk / "models" / "bodypix" / "mobilenet" / "float" / "050"
    assert f"vcamseg: error: cannot write model files: {folder} is full (No space left on device)" in log
    assert "fix: free some space there, or set model.cache_dir to a folder with room" in log
    assert "Traceback" not in log
    assert leftovers(tiny_disk) == [], "no half-written download is left"
    assert not (folder / "group1-shard1of1.bin").exists()


def test_a_tflite_conversion_that_cannot_be_cached_runs_from_memory(tiny_disk: Path, tmp_path: Path) -> None:
    fill(tiny_disk)
    with DaemonProcess(tmp_path, f"model:\n  cache_dir: {tiny_disk}\n") as daemon:
        daemon.wait_streaming()
        warning = log_lines(daemon, "could not cache the TFLite conversion in")
        assert (
            len(warning) == 1
            and f"{tiny_disk / 'tflite'} (No space left on device); running it from memory" in warning[0]
            and warning[0].startswith("WARNING")
        ), daemon.text_log()[-3000:]
        assert "TFLite" in daemon.status()["pipeline"]["inference_device"]
        daemon.terminate()  # exit code 0, within a margin over the 1 s promise
    assert leftovers(tiny_disk) == [] and not any((tiny_disk / "tflite").glob("*"))
    assert "Traceback" not in daemon.text_log()


USER_CONFIG = """\
# my camera
effects:
  - type: blur   # soft
    background_blur: 15
"""


def test_set_save_on_a_full_disk_is_a_clear_error_and_the_file_stays_intact(tiny_disk: Path, tmp_path: Path) -> None:
    config_folder = tiny_disk / "vcamseg"
    config_folder.mkdir()
    (config_folder / "config.yaml").write_text(USER_CONFIG)
    fill(tiny_disk)
    with DaemonProcess(tmp_path, config=config_folder / "config.yaml") as daemon:
        daemon.wait_streaming()
        cli: Callable[..., subprocess.CompletedProcess[str]] = functools.partial(
            subprocess.run, capture_output=True, text=True, timeout=60, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
        )
        result = cli(
            [
                sys.executable,
                "-m",
                "vcamseg",
                "set",
                "--save",
                "effects.0.background_blur=25",
                "--socket",
                str(daemon.socket),
            ]
        )
        assert result.returncode == 2, result.stdout + result.stderr
        config = config_folder / "config.yaml"
        assert (
            f"vcamseg: error: applied, but not saved: cannot save {config}: its folder {config_folder} is full "
            "(No space left on device); the file is unchanged"
        ) in result.stderr
        assert "fix: free some space there, then save again" in result.stderr
        assert "Traceback" not in result.stderr
        assert config.read_text() == USER_CONFIG, "the user's file is intact"
        assert leftovers(tiny_disk) == [], "no temporary file is left"

        # What runs is the change, kept as unsaved until the file changes.
        status = daemon.status()
        assert status["config"]["effects"][0]["background_blur"] == 25
        assert status["runtime_changes"] == ["effects.0.background_blur=25"]
        assert not status["last_reload"]["ok"] and "not saved" in status["last_reload"]["message"]
        assert "Traceback" not in daemon.text_log()

        (tiny_disk / "filler").unlink()  # space again: saving works
        result = cli(
            [
                sys.executable,
                "-m",
                "vcamseg",
                "set",
                "--save",
                "effects.0.background_blur=25",
                "--socket",
                str(daemon.socket),
            ]
        )
        assert result.returncode == 0, result.stderr
        assert config.read_text() == USER_CONFIG.replace("background_blur: 15", "background_blur: 25")
        assert daemon.status()["runtime_changes"] == []
        daemon.terminate()  # exit code 0, within a margin over the 1 s promise
