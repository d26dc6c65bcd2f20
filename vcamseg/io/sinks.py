"""Frame sinks: the virtual camera (pyvirtualcam on v4l2loopback), a video file, an image, null;
optionally mirrored to a preview window.

Every sink takes BGR uint8 frames of its own ``width`` x ``height``. ``send`` raises `SinkError`
when the output died (the pipeline reopens it); opening one that cannot work raises `OutputError`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
import time
from collections.abc import Callable
from pathlib import Path
from typing import Literal, Protocol

import cv2
import numpy as np

from vcamseg.config.io import OutputConfig
from vcamseg.errors import OutputError
from vcamseg.io import v4l2
from vcamseg.io.file_identity import FileIdentity
from vcamseg.io.loopback import MODPROBE_HINT, resolve_output_device
from vcamseg.io.media import IMAGE_SUFFIXES

log = logging.getLogger(__name__)

VIDEO_CODECS = {".mp4": "mp4v", ".m4v": "mp4v", ".mov": "mp4v", ".avi": "MJPG", ".mkv": "XVID"}
# How often the virtual camera checks that its device node still exists.
HEALTH_CHECK_INTERVAL_S = 1.0

SinkKind = Literal["vcam", "video", "image", "null"]


class SinkError(Exception):
    """The output stopped working (e.g. the loopback device disappeared); reopening may help."""


class Sink(Protocol):
    description: str
    width: int
    height: int
    fps: float
    device_path: str | None  # the loopback node when applications may read it, else None

    def send(self, frame: np.ndarray) -> None: ...

    def close(self) -> None: ...


SinkFactory = Callable[[], Sink]


def sink_kind(spec: str) -> SinkKind:
    if spec == "null":
        return "null"
    if spec.startswith(("label:", "/dev/")):
        return "vcam"
    return "image" if Path(spec).suffix.lower() in IMAGE_SUFFIXES else "video"


class VirtualCameraSink:
    """pyvirtualcam on a v4l2loopback node. pyvirtualcam prints write errors instead of raising, so
    the node's existence is checked every second: a vanished node (module unloaded) is a SinkError."""

    def __init__(self, device: str, width: int, height: int, fps: float, pixel_format: str = "I420",
                 *, backend: str = "v4l2loopback") -> None:
        import pyvirtualcam

        path = resolve_output_device(device)
        if backend == "v4l2loopback":
            _check_loopback(path)
        fmt = pyvirtualcam.PixelFormat.YUYV if pixel_format == "YUYV" else pyvirtualcam.PixelFormat.BGR
        try:
            self._camera = pyvirtualcam.Camera(width, height, fps, fmt=fmt, device=path, backend=backend)
        except RuntimeError as exc:
            raise _open_error(path, exc) from None
        self.device_path = path
        if backend == "v4l2loopback":
            _announce_frame_rate(path, fps)
        self.width, self.height, self.fps = width, height, fps
        self.pixel_format = pixel_format
        self._yuyv = np.empty((height, width, 2), np.uint8) if pixel_format == "YUYV" else None
        self._next_check = time.monotonic() + HEALTH_CHECK_INTERVAL_S
        native = getattr(self._camera, "native_fmt", None)
        self.description = f"virtual camera {path} ({width}x{height} {fps:g} fps, {native or pixel_format})"
        log.info("publishing to %s", self.description)

    def send(self, frame: np.ndarray) -> None:
        now = time.monotonic()
        if now >= self._next_check:
            self._next_check = now + HEALTH_CHECK_INTERVAL_S
            if not os.path.exists(self.device_path):
                raise SinkError(f"virtual camera {self.device_path} disappeared (v4l2loopback unloaded?)")
        if self._yuyv is not None:
            cv2.cvtColor(frame, cv2.COLOR_BGR2YUV_YUYV, dst=self._yuyv)
            self._camera.send(self._yuyv)
        else:
            self._camera.send(frame)

    def close(self) -> None:
        self._camera.close()


def _announce_frame_rate(path: str, fps: float) -> None:
    """pyvirtualcam does not set the stream's frame rate, so readers see v4l2loopback's default
    (30 fps) whatever we send; tell the driver the real one."""
    try:
        kept = v4l2.set_frame_rate(path, fps)
        log.debug("%s announces %.3g fps to readers", path, kept)
    except OSError as exc:
        log.warning("could not set the frame rate readers of %s see (%s); they may assume 30 fps", path, exc.strerror)


def loopback_module_version() -> tuple[int, ...] | None:
    """The loaded v4l2loopback module's version from sysfs, or None: modules before 0.13 do not
    publish it (nor does modinfo or VIDIOC_QUERYCAP, which reports the kernel's version)."""
    try:
        text = Path("/sys/module/v4l2loopback/version").read_text().strip()
        return tuple(int(part) for part in text.split(".")[:3])
    except (OSError, ValueError):
        return None


def _open_error(path: str, exc: Exception) -> OutputError:
    """Explain why pyvirtualcam could not open the device, naming the module limitation when it is
    the cause: v4l2loopback < 0.13 with exclusive_caps=1 does not accept a new writer once the
    previous one closed (v4l2loopback#442, pyvirtualcam#61)."""
    version = loopback_module_version()
    reload = f"sudo modprobe -r v4l2loopback && {MODPROBE_HINT}"
    if "not a video output device" in str(exc) and (version is None or version < (0, 13)):
        shown = ".".join(map(str, version)) if version else "< 0.13"
        return OutputError(
            f"cannot reopen the virtual camera {path}: v4l2loopback {shown} with exclusive_caps=1 does not accept a "
            "new writer after the previous one closed (a known limitation of the module before 0.13, "
            "v4l2loopback issue #442); pyvirtualcam said: " + str(exc),
            fix=f"install v4l2loopback >= 0.13 (Debian: bookworm-backports), or reload the module: {reload}")
    return OutputError(
        f"cannot open the virtual camera {path}: {exc}",
        fix=f"check that no other program writes to it; if it stays unusable, reload the module: {reload}")


def _check_loopback(path: str) -> None:
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        raise OutputError(f"virtual camera {path}: {exc.strerror}", fix=f"load v4l2loopback: {MODPROBE_HINT}") from None
    if not stat.S_ISCHR(mode):
        raise OutputError(f"{path} is not a device node", fix="use the loopback device (/dev/videoN or label:NAME)")
    try:
        info = v4l2.device_info(path)
    except PermissionError:
        raise OutputError(f"no permission to open {path}",
                          fix="add your user to the 'video' group (sudo usermod -aG video $USER, then log in again)"
                          ) from None
    except OSError as exc:
        raise OutputError(f"{path} is not a V4L2 device ({exc.strerror})",
                          fix=f"load v4l2loopback: {MODPROBE_HINT}") from None
    if not info.is_loopback:
        raise OutputError(f"{path} is a real camera ({info.card}, driver {info.driver}), not a v4l2loopback device",
                          fix="set output.device to the loopback device, e.g. label:vcamseg (see `vcamseg devices`)")


class VideoFileSink:
    """cv2.VideoWriter; ``close()`` finalises the container (an mp4 is unplayable without it).
    A file removed or replaced while it is written is a SinkError, like a vanished virtual camera:
    the writer would go on filling an inode nobody can reach; reopened, it starts a new file."""

    device_path = None

    def __init__(self, path: Path, width: int, height: int, fps: float, codec: str = "auto") -> None:
        fourcc = VIDEO_CODECS.get(path.suffix.lower(), "mp4v") if codec == "auto" else codec
        if not path.parent.is_dir():
            raise OutputError(f"cannot write {path}: folder {path.parent} does not exist",
                              fix="create the folder first")
        self._writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*fourcc), fps, (width, height))
        if not self._writer.isOpened():
            raise OutputError(f"cannot write video {path} with codec {fourcc}",
                              fix="use .mp4 (mp4v), .avi (MJPG) or .mkv (XVID), or set output.codec")
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

    def close(self) -> None:
        self._writer.release()
        log.info("wrote %d frames to %s", self.frames, self.path)


class ImageFileSink:
    """Keeps the newest frame and writes it when closed (``vcamseg snapshot``, image processing)."""

    device_path = None

    def __init__(self, path: Path, width: int, height: int, fps: float) -> None:
        if not path.parent.is_dir():
            raise OutputError(f"cannot write {path}: folder {path.parent} does not exist",
                              fix="create the folder first")
        self.path = path
        self.width, self.height, self.fps = width, height, fps
        self.frames = 0
        self._last: np.ndarray | None = None
        self.description = f"image {path} ({width}x{height})"

    def send(self, frame: np.ndarray) -> None:
        self._last = frame
        self.frames += 1

    def close(self) -> None:
        if self._last is None:
            log.warning("no frame reached %s; nothing written", self.path)
            return
        try:
            ok = cv2.imwrite(str(self.path), self._last)
        except cv2.error as exc:
            raise OutputError(f"cannot write image {self.path}: {exc}", fix="use .png, .jpg, .bmp or .tiff") from None
        if not ok:
            raise OutputError(f"cannot write image {self.path}", fix="check the folder's permissions and the suffix")
        log.info("wrote %s", self.path)


class NullSink:
    device_path = None

    def __init__(self, width: int, height: int, fps: float) -> None:
        self.width, self.height, self.fps = width, height, fps
        self.frames = 0
        self.description = f"null ({width}x{height} {fps:g} fps)"

    def send(self, frame: np.ndarray) -> None:
        self.frames += 1

    def close(self) -> None:
        pass


def display_available() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


class PreviewSink:
    """Another sink, plus a cv2.imshow window (called from the sending thread only)."""

    WINDOW = "vcamseg preview"

    def __init__(self, inner: Sink) -> None:
        self.inner = inner
        self.width, self.height, self.fps = inner.width, inner.height, inner.fps
        self.device_path = inner.device_path
        self.description = f"{inner.description} + preview window"
        self._open = True

    def send(self, frame: np.ndarray) -> None:
        self.inner.send(frame)
        if self._open:
            try:
                cv2.imshow(self.WINDOW, frame)
                cv2.waitKey(1)
            except cv2.error as exc:  # no GUI backend after all: keep streaming without it
                log.warning("preview window unavailable (%s); continuing without it", exc)
                self._open = False

    def close(self) -> None:
        if self._open:
            with contextlib.suppress(cv2.error):
                cv2.destroyWindow(self.WINDOW)
        self.inner.close()


def open_sink(cfg: OutputConfig, width: int, height: int, fps: float) -> Sink:
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
    return lambda: open_sink(cfg, width, height, fps)
