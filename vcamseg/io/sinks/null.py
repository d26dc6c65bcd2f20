"""The null output (``output.device: null``): frames are counted and dropped, for measuring."""

from __future__ import annotations

import numpy as np

from vcamseg.io.sinks.base import SinkBase


class NullSink(SinkBase):
    """Counts frames and drops them."""

    device_path = None

    def __init__(self, width: int, height: int, fps: float) -> None:
        self.width, self.height, self.fps = width, height, fps
        self.frames = 0
        self.description = f"null ({width}x{height} {fps:g} fps)"

    def send(self, frame: np.ndarray) -> None:
        self.frames += 1
