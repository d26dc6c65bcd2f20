"""A V4L2 webcam through OpenCV's CAP_V4L2 backend."""

from __future__ import annotations

import logging
import math
import os

import cv2
import numpy as np

from vcamseg.io.media import fourcc_text
from vcamseg.io.sources.base import SourceBase, SourceError, check_frame, is_blank

log = logging.getLogger(__name__)

# Seconds of consecutive blank frames after which the camera counts as lost.
BLANK_TOLERANCE_S = 1.0


class CameraSource(SourceBase):
    """Opens the camera on construction (raises SourceError when it cannot: the pipeline retries).

    The FOURCC is set *before* the size: many UVC cameras offer HD only as MJPG, and asking for
    1280x720 while still in YUYV makes the driver pick a small YUYV mode (backscrub issue 146).
    """

    live = True

    def __init__(
        self, device: str, width: int, height: int, fps: float, fourcc: str = "MJPG", warmup_frames: int = 5
    ) -> None:
        self.device = device
        target: int | str = int(device) if device.isdigit() else device
        if isinstance(target, str) and not os.path.exists(target):
            raise SourceError(f"camera {device} is not connected (no such device node)")
        cap = cv2.VideoCapture(target, cv2.CAP_V4L2)
        if not cap.isOpened():
            cap.release()
            raise SourceError(
                f"camera {device} cannot be opened (busy, or no permission: is your user in the 'video' group?)"
            )
        if fourcc != "auto":
            cap.set(cv2.CAP_PROP_FOURCC, cv2.VideoWriter.fourcc(*fourcc))
        cap.set(cv2.CAP_PROP_FRAME_WIDTH, width)
        cap.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
        cap.set(cv2.CAP_PROP_FPS, fps)
        # One buffer: a read returns the newest frame, not one that waited in the driver's queue.
        if not cap.set(cv2.CAP_PROP_BUFFERSIZE, 1):
            log.debug("camera %s ignores CAP_PROP_BUFFERSIZE", device)
        self._cap = cap
        self.width = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH))
        self.height = int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
        granted_fps = cap.get(cv2.CAP_PROP_FPS)
        self.fps = float(granted_fps) if granted_fps and math.isfinite(granted_fps) and granted_fps > 0 else fps
        code = cap.get(cv2.CAP_PROP_FOURCC)  # a float; 0 (or NaN) when OpenCV does not know
        self.fourcc = fourcc_text(int(code) if code and math.isfinite(code) else 0)
        self.description = f"camera {device} ({self.width}x{self.height} {self.fourcc} {self.fps:g} fps)"
        asked = f"{width}x{height} {fourcc} {fps:g} fps"
        if (
            (self.width, self.height) != (width, height)
            or abs(self.fps - fps) > 0.5
            or (fourcc != "auto" and self.fourcc != fourcc)
        ):
            log.warning(
                "camera %s: asked for %s, got %s (it does not offer that mode: see `vcamseg devices`; "
                "frames are scaled to the output size)",
                device,
                asked,
                f"{self.width}x{self.height} {self.fourcc} {self.fps:g} fps",
            )
        else:
            log.info("camera %s: %s", device, asked)
        self._blank_run = 0
        self._max_blank = max(1, int(self.fps * BLANK_TOLERANCE_S))
        try:
            for _ in range(warmup_frames):
                self.read()
        except SourceError:
            self.close()
            raise

    def read(self) -> np.ndarray:
        while True:
            ok, frame = self._cap.read()
            if not ok:
                raise SourceError(f"camera {self.device}: read failed (unplugged?)")
            frame = check_frame(frame, self.width, self.height)
            if not is_blank(frame):
                self._blank_run = 0
                return frame
            self._blank_run += 1
            if self._blank_run >= self._max_blank:
                raise SourceError(f"camera {self.device}: only blank frames for {BLANK_TOLERANCE_S:g} s")

    def _release(self) -> None:
        self._cap.release()
