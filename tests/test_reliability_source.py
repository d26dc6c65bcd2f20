"""Faults at the input, on a real daemon: the camera goes away mid-stream and comes back (a video
file standing in for it is removed, then restored), and the input turns into frames of another
size, grey frames, an empty file or an unreadable one. The daemon must stay up, show its
placeholder while there is no picture, say so in its log, and pick the picture up again."""

from __future__ import annotations

import base64
import os
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.daemon_process import FAST, DaemonProcess, log_lines
from tests.speed import MARGIN
from vcamseg.errors import VcamsegError

pytestmark = pytest.mark.slow

SIZE = (320, 240)
OUTPUT_SIZE = ("--set", f"output.width={SIZE[0]}", "--set", f"output.height={SIZE[1]}")
NO_EFFECT = "effects:\n  - type: none\n"  # the output is the input, so what the source gave is visible


def replace_file(path: Path, content: bytes) -> None:
    """Swap the file's content in one step, as a camera is plugged in (not half a file)."""
    temporary = path.with_name(f".{path.name}.new")
    temporary.write_bytes(content)
    os.replace(temporary, path)


def png(image: np.ndarray) -> bytes:
    return cv2.imencode(".png", image)[1].tobytes()


# --- the camera goes away and comes back -----------------------------------------------------------


def test_a_source_that_disappears_shows_the_placeholder_and_recovers(data_dir: Path, tmp_path: Path) -> None:
    camera = tmp_path / "camera.mp4"
    original = (data_dir / "videos" / "intel_asl_thanks.mp4").read_bytes()
    camera.write_bytes(original)
    recording = tmp_path / "out.avi"
    with DaemonProcess(
        tmp_path, NO_EFFECT, source=str(camera), output=str(recording), extra_args=[*FAST, *OUTPUT_SIZE]
    ) as daemon:
        daemon.wait_streaming()
        time.sleep(1.0)
        before = daemon.status()["pipeline"]
        assert before["state"]["source"] == "running"
        time.sleep(0.5)
        assert daemon.status()["pipeline"]["frames"]["placeholder"] == before["frames"]["placeholder"], (
            "no placeholder while the camera is there (the 'starting' card before the model loaded counts as one)"
        )

        camera.unlink()
        lost = daemon.wait_for(
            lambda: (p := daemon.status()["pipeline"])["state"]["source"] == "lost" and p,
            3,
            "the source to be reported lost",
        )
        time.sleep(2.0)  # gone for a while: only placeholders go out, at the output rate
        gone = daemon.status()["pipeline"]
        assert gone["state"]["source"] == "lost" and gone["errors"]["source"] >= 1
        assert gone["frames"]["out"] == lost["frames"]["out"], "no camera frame while the camera is gone"
        placeholders = gone["frames"]["placeholder"] - lost["frames"]["placeholder"]
        assert placeholders >= 2.0 * 30 * 0.5, f"only {placeholders} placeholder frames in 2 s"
        assert any("was removed" in line for line in log_lines(daemon, "source lost:")), daemon.text_log()

        replace_file(camera, original)
        back_at = time.monotonic()
        # Retried every source.retry_interval_s (1 s): back within 2 s, printed; a margin here.
        daemon.wait_for(
            lambda: daemon.frames_out() > gone["frames"]["out"],
            MARGIN * 2.0,
            "camera frames after the camera came back",
            poll_s=0.02,
        )
        recovery_s = time.monotonic() - back_at
        print(f"recovered {recovery_s:.2f} s after the source came back")
        assert daemon.status()["pipeline"]["state"]["source"] == "running"
        assert log_lines(daemon, "source back after")
        time.sleep(0.5)
        daemon.terminate()  # exit code 0, within a margin over the 1 s promise
    assert "Traceback" not in daemon.text_log()

    # The recording shows it too: the "starting" card while the model loaded, camera frames, the
    # dimmed "camera unavailable" placeholder (about a third as bright), camera frames again.
    capture = cv2.VideoCapture(str(recording))
    brightness = []
    while (frame := capture.read())[0]:
        brightness.append(float(frame[1].mean()))
    capture.release()
    live = float(np.percentile(brightness, 90))
    dim = [b < 0.6 * live for b in brightness]
    dim = dim[dim.index(False) :]  # from the first camera frame on
    first_dim, last_dim = dim.index(True), len(dim) - 1 - dim[::-1].index(True)
    assert all(dim[first_dim : last_dim + 1]), "one placeholder stretch"
    assert last_dim + 1 - first_dim >= placeholders, "the outage is in the file"
    assert first_dim > 15 and len(dim) - last_dim > 5, "camera frames before and after it"


# --- frames of another size, grey, empty, unreadable ----------------------------------------------


@pytest.fixture(scope="module")
def person(data_dir: Path) -> np.ndarray:
    image = cv2.imread(str(data_dir / "images" / "cihp_multiperson" / "0000007.jpg"))
    return cv2.resize(image, SIZE, interpolation=cv2.INTER_AREA)


@pytest.fixture(scope="module")
def image_daemon(tmp_path_factory: pytest.TempPathFactory, person: np.ndarray) -> Iterator[DaemonProcess]:
    folder = tmp_path_factory.mktemp("inputs")
    (folder / "frame.png").write_bytes(png(person))
    with DaemonProcess(
        folder, NO_EFFECT + "source:\n  retry_interval_s: 0.5\n", source=str(folder / "frame.png")
    ) as daemon:
        daemon.wait_streaming()
        yield daemon


def source_description(daemon: DaemonProcess) -> str:
    return daemon.status()["pipeline"]["source"]


def source_state(daemon: DaemonProcess) -> str:
    return daemon.status()["pipeline"]["state"]["source"]


def fresh_snapshot(daemon: DaemonProcess, timeout: float = 5) -> np.ndarray:
    """A frame captured after this call (a snapshot is the last frame sent: wait for a new one).
    Both processes read the same CLOCK_MONOTONIC, so the frame's age dates its capture."""
    asked = time.monotonic()
    reply = daemon.wait_for(
        lambda: (r := daemon.request({"cmd": "snapshot"}))["age_s"] < time.monotonic() - asked and r,
        timeout,
        "a new frame",
    )
    return cv2.imdecode(np.frombuffer(base64.b64decode(reply["png_base64"]), np.uint8), cv2.IMREAD_COLOR)


def test_a_bigger_grey_picture_is_converted_and_scaled_to_the_output(image_daemon: DaemonProcess) -> None:
    frame = image_daemon.folder / "frame.png"
    grey = np.full((480, 640), 90, np.uint8)
    grey[:, 320:] = 200  # left half dark, right half light: the scaling keeps the layout
    replace_file(frame, png(grey))
    image_daemon.wait_for(lambda: "(640x480)" in source_description(image_daemon), 5, "the new picture")
    shown = fresh_snapshot(image_daemon)
    assert shown.shape == (SIZE[1], SIZE[0], 3), "the output keeps its size"
    assert np.abs(shown[:, :150].astype(int) - 90).max() <= 2 and np.abs(shown[:, 170:].astype(int) - 200).max() <= 2
    assert (shown[..., 0] == shown[..., 1]).all() and (shown[..., 1] == shown[..., 2]).all(), "grey, as BGR"
    assert any(f"{frame} was replaced" in line for line in log_lines(image_daemon, "source lost:"))


def test_an_empty_file_is_a_lost_source_until_a_picture_is_back(
    image_daemon: DaemonProcess, person: np.ndarray
) -> None:
    frame = image_daemon.folder / "frame.png"
    replace_file(frame, b"")
    image_daemon.wait_for(lambda: source_state(image_daemon) == "lost", 5, "the empty file to count as lost")
    image_daemon.wait_for(
        lambda: log_lines(image_daemon, f"image {frame} cannot be read"), 5, "a log line naming the unreadable file"
    )
    placeholders = image_daemon.status()["pipeline"]["frames"]["placeholder"]
    image_daemon.wait_for(
        lambda: image_daemon.status()["pipeline"]["frames"]["placeholder"] > placeholders + 10,
        5,
        "placeholder frames while there is no picture",
    )

    replace_file(frame, png(person)[:2000])  # cut off: not a picture either
    time.sleep(1.5)
    assert source_state(image_daemon) == "lost"

    odd = cv2.resize(person, (200, 150))
    replace_file(frame, png(odd))
    image_daemon.wait_for(lambda: source_state(image_daemon) == "running", 3, "the picture back")
    assert "(200x150)" in source_description(image_daemon)
    shown = fresh_snapshot(image_daemon)
    assert shown.shape == (SIZE[1], SIZE[0], 3)
    expected = cv2.resize(odd, SIZE, interpolation=cv2.INTER_LINEAR)
    assert float(np.abs(shown.astype(int) - expected.astype(int)).mean()) < 3


def test_a_video_whose_frames_change_size_and_turn_grey_plays_on(image_daemon: DaemonProcess) -> None:
    mixed = image_daemon.folder / "mixed.mjpeg"  # JPEGs back to back, as an MJPG camera sends them
    with mixed.open("wb") as fh:
        for index in range(60):
            if index < 20:
                picture = np.full((240, 320, 3), (40, 40, 220), np.uint8)
            elif index < 40:
                picture = np.full((720, 1280, 3), (220, 40, 40), np.uint8)
            else:
                picture = np.full((120, 160), 128, np.uint8)
            fh.write(cv2.imencode(".jpg", picture)[1].tobytes())
    assert image_daemon.set(f"source.device={mixed}")["applied"] == ["source"]
    image_daemon.wait_for(lambda: "mixed.mjpeg" in source_description(image_daemon), 5, "the mixed video")
    out = image_daemon.frames_out()
    image_daemon.wait_for(lambda: image_daemon.frames_out() > out + 70, 10, "frames through more than a loop")
    assert source_state(image_daemon) == "running"
    assert image_daemon.status()["pipeline"]["errors"]["source"] == 2, "only the two outages of the tests above"
    assert fresh_snapshot(image_daemon).shape == (SIZE[1], SIZE[0], 3)


def test_an_empty_video_is_refused_as_a_new_source_and_lost_when_it_replaces_the_running_one(
    image_daemon: DaemonProcess,
) -> None:
    empty = image_daemon.folder / "empty.mp4"
    empty.write_bytes(b"")
    with pytest.raises(VcamsegError, match=f"source.device: video {empty} (cannot be opened|has no readable frames)"):
        image_daemon.set(f"source.device={empty}")
    assert "mixed.mjpeg" in source_description(image_daemon), "refused: the running source stays"

    mixed = image_daemon.folder / "mixed.mjpeg"
    replace_file(mixed, b"")
    image_daemon.wait_for(lambda: source_state(image_daemon) == "lost", 5, "the emptied video to count as lost")
    image_daemon.wait_for(
        lambda: log_lines(image_daemon, f"video {mixed} has no readable frames"),
        5,
        "a log line naming the video that has no picture",
    )
    time.sleep(2.0)  # retried every 0.5 s: the reason is logged once, not at every retry
    assert len(log_lines(image_daemon, f"{mixed} has no readable frames")) == 1, image_daemon.text_log()[-3000:]
    assert not log_lines(image_daemon, "source back after 0.0")
    assert image_daemon.proc.poll() is None
    assert "Traceback" not in image_daemon.text_log()
