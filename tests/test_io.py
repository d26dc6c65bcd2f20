"""Sources and sinks on real files: pacing, looping, frame checks, video files written and read
back, the virtual camera's send path (through a recording pyvirtualcam backend) and its errors."""

from __future__ import annotations

import time
from pathlib import Path
from typing import ClassVar

import cv2
import numpy as np
import pytest
import pyvirtualcam

from vcamseg.config.io import OutputConfig, SourceConfig
from vcamseg.errors import InputError, OutputError
from vcamseg.io.sinks import ImageFileSink, NullSink, SinkError, VideoFileSink, VirtualCameraSink, open_sink, sink_kind
from vcamseg.io.sources import EndOfStream, SourceError, open_source, source_kind
from vcamseg.io.sources.base import FrameClock, check_frame, is_blank
from vcamseg.io.sources.camera import CameraSource
from vcamseg.io.sources.files import ImageSource, VideoFileSource
from vcamseg.io.sources.pattern import TestPatternSource


@pytest.fixture(scope="module")
def thanks_video(data_dir: Path) -> Path:
    return data_dir / "videos" / "intel_asl_thanks.mp4"  # 640x480, 30 fps, 51 frames


def test_source_kinds() -> None:
    assert source_kind("test") == "test"
    assert source_kind("/dev/video0") == "camera" and source_kind("2") == "camera"
    assert source_kind("a/b.JPG") == "image" and source_kind("clip.mp4") == "video"
    assert sink_kind("null") == "null" and sink_kind("label:vcamseg") == "vcam" and sink_kind("/dev/video10") == "vcam"
    assert sink_kind("x.png") == "image" and sink_kind("x.mp4") == "video"


def _time_reads(source: VideoFileSource, count: int) -> tuple[list[np.ndarray], float]:
    start = time.monotonic()
    frames = [source.read() for _ in range(count)]
    return frames, time.monotonic() - start


def test_video_plays_at_its_frame_rate_and_loops(thanks_video: Path) -> None:
    source = VideoFileSource(thanks_video, loop=True, paced=True)
    assert (source.width, source.height, source.fps, source.frame_count) == (640, 480, 30.0, 51)
    unpaced = VideoFileSource(thanks_video, loop=True, paced=False)
    # The same 16 frames read both ways: the paced read is the decoding plus the waiting, and
    # the waiting is what pacing at the clip's own 30 fps adds, whatever the machine's speed.
    _, decoding_s = _time_reads(unpaced, 16)
    frames, paced_s = _time_reads(source, 16)
    duration_s = 15 / 30  # 16 frames: 15 intervals
    print(f"16 frames: {paced_s:.3f} s paced, {decoding_s:.3f} s unpaced (clip: {duration_s:.3f} s)")
    assert paced_s >= 0.9 * duration_s, "never faster than its frame rate"
    # Paced at 30 fps, not slower: it waits at most about the clip's duration (less when decoding
    # takes part of each interval; a lower rate, 15 fps, would wait about twice that).
    assert paced_s - decoding_s <= 1.3 * duration_s, "no slower than its frame rate"
    # Looping: frame 52 is frame 1 again.
    unpaced.close()
    unpaced = VideoFileSource(thanks_video, loop=True, paced=False)
    first = unpaced.read()
    for _ in range(50):
        unpaced.read()
    assert np.array_equal(unpaced.read(), first), "frame 52 is frame 1 again"
    assert all(f.shape == (480, 640, 3) and f.dtype == np.uint8 for f in frames)
    source.close()
    unpaced.close()


def test_video_without_loop_ends(thanks_video: Path) -> None:
    source = VideoFileSource(thanks_video, loop=False, paced=False)
    for _ in range(51):
        source.read()
    with pytest.raises(EndOfStream):
        source.read()


def test_image_source_repeats_count_times(data_dir: Path) -> None:
    image = next((data_dir / "images").rglob("*.jpg"))
    source = ImageSource(image, 30.0, paced=False, count=3)
    frames = [source.read() for _ in range(3)]
    with pytest.raises(EndOfStream):
        source.read()
    assert frames[0].shape == cv2.imread(str(image)).shape


def test_test_pattern_moves() -> None:
    source = TestPatternSource(320, 180, 30.0, paced=False)
    a, b = source.read(), source.read()
    assert a.shape == (180, 320, 3)
    assert np.mean(cv2.absdiff(a, b)) > 1.0, "consecutive frames differ: motion makes effects visible"


def test_missing_files_are_input_errors_and_missing_cameras_are_retryable(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        open_source(SourceConfig(device=str(tmp_path / "nope.mp4")))
    with pytest.raises(SourceError, match="not connected"):
        CameraSource("/dev/video99", 1280, 720, 30.0)


def test_frame_checks() -> None:
    grey = np.full((4, 6), 7, np.uint8)
    assert check_frame(grey, 6, 4).shape == (4, 6, 3)
    with pytest.raises(SourceError, match="expected 8x4"):
        check_frame(np.zeros((4, 6, 3), np.uint8), 8, 4)
    with pytest.raises(SourceError, match="no frame"):
        check_frame(None, 8, 4)
    assert is_blank(np.full((64, 64, 3), 128, np.uint8))
    noisy = np.random.default_rng(0).integers(0, 4, (64, 64, 3), dtype=np.uint8)
    assert not is_blank(noisy), "a dark but noisy frame (covered lens) is not a failure"


def test_frame_clock_does_not_burst_after_a_stall() -> None:
    clock = FrameClock(50.0)
    clock.wait()
    time.sleep(0.2)  # ten frames late
    start = time.monotonic()
    clock.wait()
    clock.wait()
    assert time.monotonic() - start >= 0.015, "the second frame waits its interval instead of catching up"


def test_video_file_sink_finishes_a_playable_file(tmp_path: Path) -> None:
    path = tmp_path / "out.mp4"
    sink = VideoFileSink(path, 160, 120, 25.0)
    for i in range(12):
        sink.send(np.full((120, 160, 3), i * 20, np.uint8))
    sink.close()
    cap = cv2.VideoCapture(str(path))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 12
    assert cap.get(cv2.CAP_PROP_FPS) == pytest.approx(25.0)
    ok, frame = cap.read()
    assert ok and frame.shape == (120, 160, 3)


def test_image_sink_writes_the_last_frame(tmp_path: Path) -> None:
    path = tmp_path / "snap.png"
    sink = ImageFileSink(path, 8, 6, 30.0)
    sink.send(np.zeros((6, 8, 3), np.uint8))
    sink.send(np.full((6, 8, 3), 200, np.uint8))
    sink.close()
    assert np.all(cv2.imread(str(path)) == 200)


def test_file_outputs_into_missing_folders_fail_clearly(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="does not exist"):
        open_sink(OutputConfig(device=str(tmp_path / "no" / "out.mp4")), 64, 48, 30.0)
    assert isinstance(open_sink(OutputConfig(device="null"), 64, 48, 30.0), NullSink)


def test_no_loopback_device_says_how_to_load_it() -> None:
    with pytest.raises(OutputError) as info:
        open_sink(OutputConfig(device="/dev/video99"), 64, 48, 30.0)
    assert "sudo modprobe v4l2loopback devices=1 video_nr=10 card_label=vcamseg exclusive_caps=1" in info.value.fix


class RecordingBackend:
    """A pyvirtualcam backend that keeps what it is sent (pyvirtualcam's documented plug-in API)."""

    sent: ClassVar[list[np.ndarray]] = []

    def __init__(self, *, width: int, height: int, fps: float, fourcc: int, device: str | None, **kw: object) -> None:
        self._device, self._fourcc = device, fourcc
        RecordingBackend.sent = []

    def send(self, frame: np.ndarray) -> None:
        RecordingBackend.sent.append(frame.copy())

    def close(self) -> None:
        pass

    def device(self) -> str:
        return str(self._device)

    def native_fourcc(self) -> int:
        return self._fourcc


@pytest.fixture
def fake_node(tmp_path: Path) -> Path:
    pyvirtualcam.register_backend("vcamseg-test", RecordingBackend)
    node = tmp_path / "video10"
    node.write_bytes(b"")
    return node


def test_virtual_camera_sends_yuyv_converted_here(fake_node: Path) -> None:
    sink = VirtualCameraSink(str(fake_node), 64, 48, 30.0, "YUYV", backend="vcamseg-test")
    frame = np.zeros((48, 64, 3), np.uint8)
    frame[:, :, 2] = 255  # red
    sink.send(frame)
    sink.close()
    (sent,) = RecordingBackend.sent
    assert sent.size == 64 * 48 * 2  # YUYV: 2 bytes per pixel
    yuyv = sent.reshape(48, 64, 2)
    back = cv2.cvtColor(yuyv, cv2.COLOR_YUV2BGR_YUYV)
    assert np.abs(back.astype(int) - frame).max() <= 6


def test_virtual_camera_notices_its_device_vanishing(fake_node: Path) -> None:
    # Checked at every send here (the default is once a second).
    sink = VirtualCameraSink(str(fake_node), 64, 48, 30.0, "I420", backend="vcamseg-test", health_check_interval_s=0.0)
    sink.send(np.zeros((48, 64, 3), np.uint8))
    fake_node.unlink()  # like `modprobe -r v4l2loopback`
    with pytest.raises(SinkError, match="disappeared"):
        sink.send(np.zeros((48, 64, 3), np.uint8))
    sink.close()
