"""The virtual camera: pyvirtualcam on a v4l2loopback node, and why it could not be opened.

Two gaps in pyvirtualcam are filled here: it does not set the stream's frame rate (readers would
see v4l2loopback's default 30 fps), and it prints write errors instead of raising (so the node's
existence is checked every second: a vanished node, the module unloaded, is a `SinkError`).
"""

from __future__ import annotations

import logging
import os
import stat
import time

import cv2
import numpy as np

from vcamseg.errors import OutputError
from vcamseg.io import v4l2
from vcamseg.io.loopback import CARD_LABEL, MODPROBE_HINT, loopback_module_version, resolve_output_device
from vcamseg.io.sinks.base import HEALTH_CHECK_INTERVAL_S, SinkBase, SinkError

log = logging.getLogger(__name__)

# pyvirtualcam raises a bare RuntimeError whose text is the only sign of v4l2loopback#442 (a module
# before 0.13 with exclusive_caps=1 refuses a new writer once the previous one closed). Its native
# v4l2loopback backend (pyvirtualcam 0.15, native_linux_v4l2loopback/virtual_output.h) says
# "Device /dev/videoN is not a video output device." and `Camera` prefixes "'v4l2loopback' backend: ".
# tests/test_sink_errors.py checks that the installed pyvirtualcam still contains this text.
PYVIRTUALCAM_NOT_AN_OUTPUT = "not a video output device"


class VirtualCameraSink(SinkBase):
    """pyvirtualcam on a v4l2loopback node (``/dev/videoN`` or ``label:NAME``). ``backend``: a
    pyvirtualcam backend name (tests register their own; only ``v4l2loopback`` is checked and told
    the frame rate). ``health_check_interval_s``: how often ``send`` checks the node still exists."""

    def __init__(
        self,
        device: str,
        width: int,
        height: int,
        fps: float,
        pixel_format: str = "I420",
        *,
        backend: str = "v4l2loopback",
        health_check_interval_s: float = HEALTH_CHECK_INTERVAL_S,
    ) -> None:
        import pyvirtualcam

        path = resolve_output_device(device)
        if backend == "v4l2loopback":
            _check_loopback(path)
        fmt = pyvirtualcam.PixelFormat.YUYV if pixel_format == "YUYV" else pyvirtualcam.PixelFormat.BGR
        try:
            self._camera = pyvirtualcam.Camera(width, height, fps, fmt=fmt, device=path, backend=backend)
        except RuntimeError as exc:
            raise _open_error(path, exc) from None
        self._path = path
        self.device_path: str | None = path
        if backend == "v4l2loopback":
            _announce_frame_rate(path, fps)
        self.width, self.height, self.fps = width, height, fps
        self.pixel_format = pixel_format
        self._yuyv = np.empty((height, width, 2), np.uint8) if pixel_format == "YUYV" else None
        self._check_interval_s = health_check_interval_s
        self._next_check = time.monotonic() + health_check_interval_s
        native = getattr(self._camera, "native_fmt", None)
        self.description = f"virtual camera {path} ({width}x{height} {fps:g} fps, {native or pixel_format})"
        log.info("publishing to %s", self.description)

    def send(self, frame: np.ndarray) -> None:
        now = time.monotonic()
        if now >= self._next_check:
            self._next_check = now + self._check_interval_s
            if not os.path.exists(self._path):
                raise SinkError(f"virtual camera {self._path} disappeared (v4l2loopback unloaded?)")
        if self._yuyv is not None:
            cv2.cvtColor(frame, cv2.COLOR_BGR2YUV_YUYV, dst=self._yuyv)
            self._camera.send(self._yuyv)
        else:
            self._camera.send(frame)

    def _finish(self) -> None:
        self._camera.close()


def _announce_frame_rate(path: str, fps: float) -> None:
    """pyvirtualcam does not set the stream's frame rate, so readers see v4l2loopback's default
    (30 fps) whatever we send; tell the driver the real one."""
    try:
        kept = v4l2.set_frame_rate(path, fps)
        log.debug("%s announces %.3g fps to readers", path, kept)
    except OSError as exc:
        log.warning("could not set the frame rate readers of %s see (%s); they may assume 30 fps", path, exc.strerror)


def _refuses_new_writer(exc: Exception) -> bool:
    """Whether pyvirtualcam's open error says the node is not (or no longer) an output device."""
    return PYVIRTUALCAM_NOT_AN_OUTPUT in str(exc)


def _open_error(path: str, exc: Exception) -> OutputError:
    """Explain why pyvirtualcam could not open the device, naming the module limitation when it is
    the cause: v4l2loopback < 0.13 with exclusive_caps=1 does not accept a new writer once the
    previous one closed (v4l2loopback#442, pyvirtualcam#61)."""
    version = loopback_module_version()
    reload = f"sudo modprobe -r v4l2loopback && {MODPROBE_HINT}"
    if _refuses_new_writer(exc) and (version is None or version < (0, 13)):
        shown = ".".join(map(str, version)) if version else "< 0.13"
        return OutputError(
            f"cannot reopen the virtual camera {path}: v4l2loopback {shown} with exclusive_caps=1 does not accept a "
            "new writer after the previous one closed (a known limitation of the module before 0.13, "
            "v4l2loopback issue #442); pyvirtualcam said: " + str(exc),
            fix=f"install v4l2loopback >= 0.13 (Debian: bookworm-backports), or reload the module: {reload}",
        )
    return OutputError(
        f"cannot open the virtual camera {path}: {exc}",
        fix=f"check that no other program writes to it; if it stays unusable, reload the module: {reload}",
    )


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
        raise OutputError(
            f"no permission to open {path}",
            fix="add your user to the 'video' group (sudo usermod -aG video $USER, then log in again)",
        ) from None
    except OSError as exc:
        raise OutputError(
            f"{path} is not a V4L2 device ({exc.strerror})", fix=f"load v4l2loopback: {MODPROBE_HINT}"
        ) from None
    if not info.is_loopback:
        raise OutputError(
            f"{path} is a real camera ({info.card}, driver {info.driver}), not a v4l2loopback device",
            fix=f"set output.device to the loopback device, e.g. label:{CARD_LABEL} (see `vcamseg devices`)",
        )
