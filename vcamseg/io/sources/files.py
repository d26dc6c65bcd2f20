"""Video files (looped, paced at their own frame rate) and still images."""

from __future__ import annotations

import logging
import math
from pathlib import Path

import cv2
import numpy as np

from vcamseg.errors import InputError
from vcamseg.io.file_identity import FileIdentity
from vcamseg.io.media import read_image
from vcamseg.io.sources.base import EndOfStream, FrameClock, SourceBase, SourceError, check_frame

log = logging.getLogger(__name__)

DEFAULT_VIDEO_FPS = 30.0


def _check_file(identity: FileIdentity | None, what: str) -> None:
    """A watched file that was removed or replaced ends this source: the pipeline shows its
    placeholder and reopens it (the new file, or when it is back), as for an unplugged camera."""
    if identity is not None and (change := identity.change()) is not None:
        raise SourceError(f"{what} {identity.path} was {change}")


class VideoFileSource(SourceBase):
    """Plays a video file as if it were a camera (``paced``) or as fast as it decodes. ``watch``:
    a removed or replaced file is a lost source (the daemon; offline processing reads on)."""

    live = False

    def __init__(self, path: Path, *, loop: bool = True, paced: bool = True, watch: bool = False) -> None:
        self.path = path
        self.loop = loop
        self._identity = FileIdentity(path) if watch else None
        cap = cv2.VideoCapture(str(path))
        if not cap.isOpened():
            cap.release()
            raise InputError(
                f"video {path} cannot be opened", fix="use a format OpenCV's FFmpeg reads (mp4, mkv, avi, webm)"
            )
        # Decoded now, so that a file that opens but holds no picture (empty, cut off) is refused
        # here, like a missing one, instead of failing at every read.
        ok, first = cap.read()
        if not ok or first is None or first.size == 0:
            cap.release()
            raise InputError(
                f"video {path} has no readable frames",
                fix="use a complete video file in a format OpenCV's FFmpeg reads (mp4, mkv, avi, webm)",
            )
        self._cap = cap
        self._pending: np.ndarray | None = first
        self.height, self.width = first.shape[:2]
        fps = cap.get(cv2.CAP_PROP_FPS)
        self.fps = float(fps) if fps and math.isfinite(fps) and 0 < fps <= 240 else DEFAULT_VIDEO_FPS
        count = cap.get(cv2.CAP_PROP_FRAME_COUNT)
        self.frame_count = int(count) if count and math.isfinite(count) and count > 0 else None
        self._clock = FrameClock(self.fps) if paced else None
        looped = ", looped" if loop else ""
        self.description = f"video {path.name} ({self.width}x{self.height} {self.fps:g} fps{looped})"

    def read(self) -> np.ndarray:
        if self._clock is not None:
            self._clock.wait()
        _check_file(self._identity, "video")
        if self._pending is not None:
            ok, frame, self._pending = True, self._pending, None
        else:
            ok, frame = self._cap.read()
        if not ok:
            if not self.loop:
                raise EndOfStream(str(self.path))
            self._cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
            ok, frame = self._cap.read()
            if not ok:  # some containers do not seek: reopen
                self._cap.release()
                self._cap = cv2.VideoCapture(str(self.path))
                ok, frame = self._cap.read()
                if not ok:
                    raise SourceError(f"video {self.path} cannot be restarted")
        return check_frame(frame, self.width, self.height)

    def _release(self) -> None:
        self._cap.release()


class ImageSource(SourceBase):
    """One still image, repeated at ``fps`` (``count`` times, or for ever). ``watch``: a removed or
    replaced file is a lost source, so that the daemon shows the new picture once it is reopened."""

    live = False

    def __init__(
        self, path: Path, fps: float, *, paced: bool = True, count: int | None = None, watch: bool = False
    ) -> None:
        self._identity = FileIdentity(path) if watch else None
        self._image = image = read_image(path)  # BGR uint8, or InputError naming the file
        self.height, self.width = image.shape[:2]
        self.fps = fps
        self._clock = FrameClock(fps) if paced else None
        self._left = count
        self.frame_count = count
        self.description = f"image {path.name} ({self.width}x{self.height})"

    def read(self) -> np.ndarray:
        if self._left is not None:
            if self._left <= 0:
                raise EndOfStream("image")
            self._left -= 1
        if self._clock is not None:
            self._clock.wait()
        _check_file(self._identity, "image")
        # Shared, never written: the pipeline copies before compositing.
        return self._image
