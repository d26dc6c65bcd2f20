"""The duties written on the `Sink` and `Source` protocols, checked on every concrete one: usable
as context managers, ``close`` idempotent (it may run twice and acts once), ``frame_count``."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest
import pyvirtualcam

from vcamseg.config.io import SourceConfig
from vcamseg.io.sinks import ImageFileSink, NullSink, PreviewSink, Sink, VideoFileSink, VirtualCameraSink
from vcamseg.io.sources import EndOfStream, Source, open_source
from vcamseg.io.sources.files import ImageSource, VideoFileSource
from vcamseg.io.sources.pattern import TestPatternSource

FRAME = np.full((48, 64, 3), 120, np.uint8)


class CountingBackend:
    """A pyvirtualcam backend that counts its closes (pyvirtualcam promises each backend one)."""

    closes = 0

    def __init__(self, *, device: str | None, fourcc: int, **kw: object) -> None:
        self._device, self._fourcc = device, fourcc

    def send(self, frame: np.ndarray) -> None:
        pass

    def close(self) -> None:
        CountingBackend.closes += 1

    def device(self) -> str:
        return str(self._device)

    def native_fourcc(self) -> int:
        return self._fourcc


def _virtual_camera(tmp_path: Path) -> Sink:
    pyvirtualcam.register_backend("vcamseg-counting", CountingBackend)
    node = tmp_path / "video10"
    node.write_bytes(b"")
    CountingBackend.closes = 0
    return VirtualCameraSink(str(node), 64, 48, 30.0, backend="vcamseg-counting")


# The preview sink is left out of sending: cv2.imshow without a display aborts the process.
SINKS: dict[str, Callable[[Path], Sink]] = {
    "null": lambda tmp: NullSink(64, 48, 30.0),
    "video": lambda tmp: VideoFileSink(tmp / "out.avi", 64, 48, 30.0),
    "image": lambda tmp: ImageFileSink(tmp / "out.png", 64, 48, 30.0),
    "vcam": _virtual_camera,
}


@pytest.mark.parametrize("kind", sorted(SINKS))
def test_every_sink_is_a_context_manager_whose_close_may_run_twice(kind: str, tmp_path: Path) -> None:
    with SINKS[kind](tmp_path) as sink:
        assert (sink.width, sink.height, sink.fps) == (64, 48, 30.0) and sink.description
        sink.send(FRAME)
    sink.close()  # after the with block: a second close does nothing


def test_a_second_close_writes_nothing_again(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    image = ImageFileSink(tmp_path / "snap.png", 64, 48, 30.0)
    image.send(FRAME)
    image.close()
    assert np.array_equal(cv2.imread(str(tmp_path / "snap.png")), FRAME)
    (tmp_path / "snap.png").unlink()
    image.close()
    assert not (tmp_path / "snap.png").exists()

    with caplog.at_level(logging.INFO, logger="vcamseg.io.sinks.files"):
        video = VideoFileSink(tmp_path / "out.avi", 64, 48, 30.0)
        video.send(FRAME)
        video.close()
        video.close()
    assert len([r for r in caplog.records if r.getMessage().startswith("wrote 1 frames")]) == 1

    inner = _virtual_camera(tmp_path)
    with PreviewSink(inner) as preview:
        assert preview.device_path == inner.device_path
    preview.close()
    inner.close()
    assert CountingBackend.closes == 1, "pyvirtualcam's backend is closed exactly once"


def test_a_pgm_output_is_written_grey(tmp_path: Path) -> None:
    frame = np.zeros((6, 8, 3), np.uint8)
    frame[..., 1] = 200
    with ImageFileSink(tmp_path / "snap.pgm", 8, 6, 30.0) as sink:
        sink.send(frame)
    written = cv2.imread(str(tmp_path / "snap.pgm"), cv2.IMREAD_UNCHANGED)
    assert written.shape == (6, 8) and (written == cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)).all()


def test_sources_are_context_managers_and_say_how_many_frames_come(tmp_path: Path, data_dir: Path) -> None:
    picture = tmp_path / "still.png"
    cv2.imwrite(str(picture), FRAME)
    video = data_dir / "videos" / "intel_asl_thanks.mp4"  # 51 frames
    opened: list[tuple[Source, int | None]] = [
        (TestPatternSource(64, 48, 30.0, paced=False, count=3), 3),
        (ImageSource(picture, 30.0, paced=False, count=2), 2),
        (VideoFileSource(video, loop=False, paced=False), 51),
        (open_source(SourceConfig(device="test"), paced=False), None),
    ]
    for source, expected in opened:
        with source:
            assert source.frame_count == expected, source.description
            if expected is not None and expected < 10:
                for _ in range(expected):
                    assert source.read().shape == (source.height, source.width, 3)
                with pytest.raises(EndOfStream):
                    source.read()
        source.close()  # a second close does nothing
