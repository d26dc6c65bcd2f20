"""File outputs: a video (cv2.VideoWriter) and a still image (the newest frame, written at close)."""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np

from vcamseg.errors import OutputError
from vcamseg.io.file_identity import FileIdentity
from vcamseg.io.media import GREY_ONLY_SUFFIXES
from vcamseg.io.sinks.base import HEALTH_CHECK_INTERVAL_S, SinkBase, SinkError

log = logging.getLogger(__name__)

VIDEO_CODECS = {".mp4": "mp4v", ".m4v": "mp4v", ".mov": "mp4v", ".avi": "MJPG", ".mkv": "XVID"}


def _check_folder(path: Path) -> None:
    """An output file's folder must exist already: creating folders is the user's decision."""
    if not path.parent.is_dir():
        raise OutputError(f"cannot write {path}: folder {path.parent} does not exist", fix="create the folder first")


class VideoFileSink(SinkBase):
    """cv2.VideoWriter; ``close()`` finalises the container (an mp4 is unplayable without it).
    A file removed or replaced while it is written is a SinkError, like a vanished virtual camera:
    the writer would go on filling an inode nobody can reach; reopened, it starts a new file."""

    device_path = None

    def __init__(self, path: Path, width: int, height: int, fps: float, codec: str = "auto") -> None:
        fourcc = VIDEO_CODECS.get(path.suffix.lower(), "mp4v") if codec == "auto" else codec
        _check_folder(path)
        self._writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*fourcc), fps, (width, height))
        if not self._writer.isOpened():
            raise OutputError(
                f"cannot write video {path} with codec {fourcc}",
                fix="use .mp4 (mp4v), .avi (MJPG) or .mkv (XVID), or set output.codec",
            )
        self.path = path
        self.width, self.height, self.fps = width, height, fps
        self.frames = 0
        self.description = f"video {path} ({width}x{height} {fps:g} fps, {fourcc})"
        self._identity = FileIdentity(path, interval_s=HEALTH_CHECK_INTERVAL_S, growing=True)

    def send(self, frame: np.ndarray) -> None:
        if (change := self._identity.change()) is not None:
            raise SinkError(f"output video {self.path} was {change} while being written")
        self._writer.write(frame)
        self.frames += 1

    def _finish(self) -> None:
        self._writer.release()
        log.info("wrote %d frames to %s", self.frames, self.path)


class ImageFileSink(SinkBase):
    """Keeps the newest frame and writes it when closed (``vcamseg snapshot``, image processing).
    A grey-only format (.pgm) gets the frame in grey."""

    device_path = None

    def __init__(self, path: Path, width: int, height: int, fps: float) -> None:
        _check_folder(path)
        self.path = path
        self.width, self.height, self.fps = width, height, fps
        self.frames = 0
        self._last: np.ndarray | None = None
        self.description = f"image {path} ({width}x{height})"

    def send(self, frame: np.ndarray) -> None:
        self._last = frame
        self.frames += 1

    def _finish(self) -> None:
        if self._last is None:
            log.warning("no frame reached %s; nothing written", self.path)
            return
        image = self._last
        if self.path.suffix.lower() in GREY_ONLY_SUFFIXES:
            image = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        try:
            ok = cv2.imwrite(str(self.path), image)
        except cv2.error as exc:
            raise OutputError(f"cannot write image {self.path}: {exc}", fix="use .png, .jpg, .bmp or .tiff") from None
        if not ok:
            raise OutputError(f"cannot write image {self.path}", fix="check the folder's permissions and the suffix")
        log.info("wrote %s", self.path)
