"""A preview window around another sink (``output.preview``), when there is a display."""

from __future__ import annotations

import contextlib
import logging
import os

import cv2
import numpy as np

from vcamseg.io.sinks.base import Sink, SinkBase

log = logging.getLogger(__name__)


def display_available() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


class PreviewSink(SinkBase):
    """Another sink, plus a cv2.imshow window (called from the sending thread only). A missing GUI
    backend turns the window off, never the output."""

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

    def _finish(self) -> None:
        if self._open:
            with contextlib.suppress(cv2.error):
                cv2.destroyWindow(self.WINDOW)
        self.inner.close()
