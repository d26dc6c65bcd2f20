"""Frame sinks: the virtual camera (pyvirtualcam on v4l2loopback), a video file, an image, null;
optionally mirrored to a preview window.

What a sink promises is written on the `Sink` protocol (`base`). In short: every sink takes BGR
uint8 frames of its own ``width`` x ``height``; ``send`` raises `SinkError` when the output died
(the pipeline reopens it); opening one that cannot work raises `OutputError`; ``close`` may run
twice, and ``with open_sink(...) as sink:`` closes it.

Modules: `base` (the protocol, SinkError, SinkBase), `vcam` (the virtual camera and its open-error
diagnosis), `files` (video, image), `null`, `preview`; `open_sink` here picks one for a config.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Literal

from vcamseg.config.io import OutputConfig
from vcamseg.io.loopback import loopback_module_version  # kept importable here for tests/vcam/guest_checks.py
from vcamseg.io.media import is_image_path
from vcamseg.io.sinks.base import HEALTH_CHECK_INTERVAL_S, Sink, SinkBase, SinkError, SinkFactory
from vcamseg.io.sinks.files import VIDEO_CODECS, ImageFileSink, VideoFileSink
from vcamseg.io.sinks.null import NullSink
from vcamseg.io.sinks.preview import PreviewSink, display_available
from vcamseg.io.sinks.vcam import PYVIRTUALCAM_NOT_AN_OUTPUT, VirtualCameraSink

log = logging.getLogger(__name__)

SinkKind = Literal["vcam", "video", "image", "null"]


def sink_kind(spec: str) -> SinkKind:
    """What ``output.device`` names: ``null``, a loopback device, else a file (image by suffix)."""
    if spec == "null":
        return "null"
    if spec.startswith(("label:", "/dev/")):
        return "vcam"
    return "image" if is_image_path(spec) else "video"


def open_sink(cfg: OutputConfig, width: int, height: int, fps: float) -> Sink:
    """Open the configured output for frames of this size and rate; raises `OutputError`."""
    kind = sink_kind(cfg.device)
    sink: Sink
    if kind == "null":
        sink = NullSink(width, height, fps)
    elif kind == "vcam":
        sink = VirtualCameraSink(cfg.device, width, height, fps, cfg.pixel_format)
    elif kind == "image":
        sink = ImageFileSink(Path(cfg.device).expanduser(), width, height, fps)
    else:
        sink = VideoFileSink(Path(cfg.device).expanduser(), width, height, fps, cfg.codec)
    if cfg.preview:
        if display_available():
            sink = PreviewSink(sink)
        else:
            log.info("output.preview is on but there is no display ($DISPLAY / $WAYLAND_DISPLAY): no window")
    return sink


def sink_factory(cfg: OutputConfig, width: int, height: int, fps: float) -> SinkFactory:
    """A callable that opens the output again each time: the pipeline calls it after a SinkError."""
    return lambda: open_sink(cfg, width, height, fps)


__all__ = [
    "HEALTH_CHECK_INTERVAL_S",
    "PYVIRTUALCAM_NOT_AN_OUTPUT",
    "VIDEO_CODECS",
    "ImageFileSink",
    "NullSink",
    "PreviewSink",
    "Sink",
    "SinkBase",
    "SinkError",
    "SinkFactory",
    "SinkKind",
    "VideoFileSink",
    "VirtualCameraSink",
    "display_available",
    "loopback_module_version",
    "open_sink",
    "sink_factory",
    "sink_kind",
]
