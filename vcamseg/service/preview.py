"""The control socket's ``frame`` request: one JPEG of what the daemon shows, for `vcamseg ui`'s
live preview. Encoded only when asked (nothing is kept or encoded while nobody polls), on the
asking client's thread, scaled down first so that a few requests a second cost little.

Views: ``output`` (the frame last sent, after the effects), ``camera`` (the camera frame last
composited, before them) and ``mask`` (that frame's person matte, refined with the running
``mask:`` settings, white = person: what the effects blend with).
"""

from __future__ import annotations

import base64
import threading
import time
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from vcamseg.effects.refine import MaskRefiner
from vcamseg.errors import VcamsegError

if TYPE_CHECKING:
    from vcamseg.service.daemon import Daemon

VIEWS = ("output", "camera", "mask")
DEFAULT_MAX_WIDTH = 640
MAX_WIDTH_RANGE = (16, 4096)
DEFAULT_QUALITY = 80


class Previewer:
    """Answers ``{"cmd": "frame", "view": ..., "max_width": N, "quality": Q}`` for ``daemon``."""

    def __init__(self, daemon: Daemon) -> None:
        self.daemon = daemon
        self._refiner: MaskRefiner | None = None  # the mask view's own: the compositor's is its thread's
        self._refiner_lock = threading.Lock()

    def frame(self, request: dict[str, Any]) -> dict[str, Any]:
        view = request.get("view", "output")
        if view not in VIEWS:
            raise VcamsegError(f"frame: unknown view {view!r}", fix=f"use one of {', '.join(VIEWS)}")
        max_width = _int_in(request, "max_width", DEFAULT_MAX_WIDTH, MAX_WIDTH_RANGE)
        quality = _int_in(request, "quality", DEFAULT_QUALITY, (10, 100))
        image, seq, t_capture = self._image(view)
        height, width = image.shape[:2]
        if width > max_width:
            size = (max_width, max(1, round(height * max_width / width)))
            image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        ok, jpeg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
        if not ok:
            raise VcamsegError("frame: the image could not be encoded as JPEG")
        return {
            "view": view,
            "jpeg_base64": base64.b64encode(jpeg.tobytes()).decode("ascii"),
            "width": image.shape[1],
            "height": image.shape[0],
            "seq": seq,
            "age_s": round(time.monotonic() - t_capture, 3),
        }

    def _image(self, view: str) -> tuple[np.ndarray, int, float]:
        daemon = self.daemon
        pipeline = daemon.pipeline
        if view == "output":
            sent = daemon.last_frame
            if sent is None:
                raise _not_yet(daemon)
            return sent.image, sent.seq, sent.t_capture
        last = pipeline.last_input if pipeline is not None else None
        if last is None:
            raise _not_yet(daemon)
        frame, seg = last
        if view == "camera":
            return frame.image, frame.seq, frame.t_capture
        if seg.shape != frame.image.shape[:2]:
            seg = seg.resized(frame.image.shape[:2])
        with self._refiner_lock:
            mask_config = daemon.running_config.mask
            if self._refiner is None:
                self._refiner = MaskRefiner(mask_config)
            self._refiner.config = mask_config
            matte = self._refiner.refine(frame.image, seg).alpha
        return cv2.cvtColor(matte, cv2.COLOR_GRAY2BGR), frame.seq, frame.t_capture


def _not_yet(daemon: Daemon) -> VcamsegError:
    pipeline = daemon.pipeline
    state = pipeline.stats.source_state if pipeline is not None else "starting"
    return VcamsegError(f"no frame yet (source {state})", fix="wait for the model to load; the preview then starts")


def _int_in(request: dict[str, Any], key: str, default: int, bounds: tuple[int, int]) -> int:
    value = request.get(key, default)
    low, high = bounds
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise VcamsegError(f"frame: {key} must be a whole number from {low} to {high}, got {value!r}")
    return value
