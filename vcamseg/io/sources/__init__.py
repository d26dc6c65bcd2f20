"""Frame sources: a V4L2 webcam, a video file, a still image or a synthetic test pattern.

Every source returns BGR uint8 frames of one size from ``read()``. A source that stops working
raises `SourceError` (the pipeline shows a placeholder and reopens it), one that is finished raises
`EndOfStream`. Opening one that cannot work at all (a missing file) raises `InputError`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Literal, Protocol

import numpy as np

from vcamseg.config.io import SourceConfig
from vcamseg.errors import InputError
from vcamseg.io.sources.base import EndOfStream, SourceError

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff", ".ppm", ".pgm"}

SourceKind = Literal["camera", "video", "image", "test"]


class Source(Protocol):
    description: str
    width: int
    height: int
    fps: float
    live: bool  # a camera: frames arrive at their own pace and the oldest are worthless

    def read(self) -> np.ndarray: ...

    def close(self) -> None: ...


SourceFactory = Callable[[], Source]


def source_kind(spec: str) -> SourceKind:
    if spec == "test":
        return "test"
    if spec.startswith("/dev/") or spec.isdigit():
        return "camera"
    return "image" if Path(spec).suffix.lower() in IMAGE_SUFFIXES else "video"


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
        raise InputError(f"source {cfg.device} does not exist",
                         fix="give a camera (/dev/video0 or an index), a video or image file, or 'test'")
    # Paced (the daemon), a file stands in for a camera: removing or replacing it is noticed.
    if kind == "image":
        return ImageSource(path, cfg.fps, paced=paced, count=count, watch=paced)
    return VideoFileSource(path, loop=cfg.loop, paced=paced, watch=paced)


def source_factory(cfg: SourceConfig, *, paced: bool = True, count: int | None = None,
                   first: Source | None = None) -> SourceFactory:
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


__all__ = ["EndOfStream", "Source", "SourceError", "SourceFactory", "open_source", "source_factory", "source_kind"]
