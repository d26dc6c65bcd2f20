"""Frame sources: a V4L2 webcam, a video file, a still image or a synthetic test pattern.

What a source promises is written on the `Source` protocol. In short: every source returns BGR
uint8 frames of one size from ``read()``. A source that stops working raises `SourceError` (the
pipeline shows a placeholder and reopens it), one that is finished raises `EndOfStream`. Opening
one that cannot work at all (a missing file) raises `InputError`; ``with open_source(...) as
source:`` closes it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Literal, Protocol, Self

import numpy as np

from vcamseg.config.io import SourceConfig
from vcamseg.errors import InputError
from vcamseg.io.media import is_image_path
from vcamseg.io.sources.base import EndOfStream, SourceBase, SourceError

SourceKind = Literal["camera", "video", "image", "test"]


class Source(Protocol):
    """A frame producer. Opening one (its constructor, or `open_source`) gives a working source or
    raises: `InputError` when it can never work (a missing or undecodable file), `SourceError`
    when it may work later (a camera not plugged in yet: the pipeline retries).

    Attributes, fixed once the source is open:

    * ``width``, ``height``: the size of every frame ``read`` returns; ``fps``: the rate frames
      come at (a camera's granted rate, a video's own, the configured one for images).
    * ``live``: True for a camera: frames arrive at their own pace and an old frame is worthless
      (the pipeline drops, never queues); False for files and the pattern.
    * ``frame_count``: how many frames ``read`` delivers before `EndOfStream`, when known up front
      (a video's length from its container, which may be an estimate; an image's or the pattern's
      ``count``), else None (a camera; endless). A looping video starts over after that many. Only
      for progress display: the stream ends when ``read`` says so, not when this count is reached.
    * ``description``: one line for the log and ``vcamseg status`` (what, size, rate).
    """

    description: str
    width: int
    height: int
    fps: float
    live: bool
    frame_count: int | None

    def read(self) -> np.ndarray:
        """The next BGR uint8 frame of shape (height, width, 3), waiting for it when paced.
        Raises `SourceError` when the source stopped working (unplugged, file removed or replaced,
        bad frames): the caller closes it and opens a new one. Raises `EndOfStream` when a finite
        source is done. The caller must not write into the frame (an image source returns the same
        array each time). Not called after ``close``."""
        ...

    def close(self) -> None:
        """Release the device or file. Idempotent: it may run twice; only the first call acts."""
        ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...


SourceFactory = Callable[[], Source]


def source_kind(spec: str) -> SourceKind:
    if spec == "test":
        return "test"
    if spec.startswith("/dev/") or spec.isdigit():
        return "camera"
    return "image" if is_image_path(spec) else "video"


def open_source(cfg: SourceConfig, *, paced: bool = True, count: int | None = None) -> Source:
    """Open the configured source. ``paced``: deliver frames at their rate (files, images, test);
    ``count``: images and the test pattern stop after this many frames (offline processing)."""
    from vcamseg.io.sources.camera import CameraSource
    from vcamseg.io.sources.files import ImageSource, VideoFileSource
    from vcamseg.io.sources.pattern import TestPatternSource

    kind = source_kind(cfg.device)
    if kind == "camera":
        return CameraSource(cfg.device, cfg.width, cfg.height, cfg.fps, cfg.fourcc, cfg.warmup_frames)
    if kind == "test":
        return TestPatternSource(cfg.width, cfg.height, cfg.fps, paced=paced, count=count)
    path = Path(cfg.device).expanduser()
    if not path.is_file():
        raise InputError(
            f"source {cfg.device} does not exist",
            fix="give a camera (/dev/video0 or an index), a video or image file, or 'test'",
        )
    # Paced (the daemon), a file stands in for a camera: removing or replacing it is noticed.
    if kind == "image":
        return ImageSource(path, cfg.fps, paced=paced, count=count, watch=paced)
    return VideoFileSource(path, loop=cfg.loop, paced=paced, watch=paced)


def source_factory(
    cfg: SourceConfig, *, paced: bool = True, count: int | None = None, first: Source | None = None
) -> SourceFactory:
    """A callable that (re)opens the source: the pipeline calls it again after a failure. ``first``:
    an already opened source, handed out by the first call. A file that went missing since the
    start is a lost source too (retried, with the placeholder shown), not the end of the daemon."""
    opened = [first] if first is not None else []

    def reopen() -> Source:
        if opened:
            return opened.pop()
        try:
            return open_source(cfg, paced=paced, count=count)
        except InputError as exc:
            raise SourceError(str(exc)) from None

    return reopen


__all__ = [
    "EndOfStream",
    "Source",
    "SourceBase",
    "SourceError",
    "SourceFactory",
    "SourceKind",
    "open_source",
    "source_factory",
    "source_kind",
]
