"""Faults at the output, on a real daemon: the file it writes disappears with its folder (the
stand-in for a virtual camera whose device goes away: without v4l2loopback here, a file output is
what a daemon can lose). It must say so, keep running, retry with a clear reason, and write again
once the folder is back."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import cv2
import pytest

from tests.daemon_process import DaemonProcess, log_lines
from tests.speed import MARGIN

pytestmark = pytest.mark.slow


def frames_in(video: Path) -> int:
    capture = cv2.VideoCapture(str(video))
    count = 0
    while capture.read()[0]:
        count += 1
    capture.release()
    return count


def test_a_lost_output_is_reopened_with_a_clear_log_and_writing_resumes(tmp_path: Path) -> None:
    folder = tmp_path / "recordings"
    folder.mkdir()
    output = folder / "out.avi"
    with DaemonProcess(tmp_path, "output:\n  retry_interval_s: 0.5\n", output=str(output)) as daemon:
        daemon.wait_streaming()
        time.sleep(1.0)
        shutil.rmtree(folder)
        lost = daemon.wait_for(
            lambda: (p := daemon.status()["pipeline"])["errors"]["sink"] >= 1 and p, 3, "the lost output to be noticed"
        )
        assert lost["state"]["sink"] in ("lost", "closed")
        errors = log_lines(daemon, "was removed while being written")
        assert len(errors) == 1 and errors[0].startswith("ERROR") and f"output video {output}" in errors[0]
        assert "reopening every 0.5 s" in errors[0]
        daemon.wait_for(
            lambda: log_lines(
                daemon, f"output still unavailable: cannot write {output}: folder {folder} does not exist"
            ),
            3,
            "why it cannot be reopened",
        )

        # Meanwhile the daemon runs on: it answers, and frames keep being made.
        composited = lost["frames"]["composited"]
        time.sleep(1.5)  # three retries
        during = daemon.wait_for(
            lambda: (p := daemon.status()["pipeline"])["frames"]["composited"] > composited + 20 and p,
            5,
            "frames composited while the output is away",
        )
        assert during["state"]["source"] == "running"
        assert len(log_lines(daemon, "output still unavailable")) == 1, "the same reason is logged once"

        folder.mkdir()
        back_at = time.monotonic()
        # Retried every 0.5 s: open again within a retry interval or two, printed; a margin here.
        daemon.wait_for(
            lambda: daemon.status()["pipeline"]["state"]["sink"] == "open", MARGIN * 2, "the output reopened"
        )
        print(f"output back {time.monotonic() - back_at:.2f} s after its folder")
        assert log_lines(daemon, f"output back: video {output}")
        sent = daemon.frames_out()
        daemon.wait_for(lambda: daemon.frames_out() > sent + 30, 5, "frames written again")
        daemon.terminate()  # exit code 0, within a margin over the 1 s promise
    assert frames_in(output) >= 30, "the new file is a complete, playable video"
    assert "Traceback" not in daemon.text_log()
