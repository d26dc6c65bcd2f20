"""A synthetic moving test pattern: no camera needed, and motion makes effects and drops visible."""

from __future__ import annotations

import time

import cv2
import numpy as np

from vcamseg.io.sources.base import EndOfStream, FrameClock, SourceBase

SCROLL_PX_PER_S = 160.0


def _background(width: int, height: int) -> np.ndarray:
    """Two screens wide, so scrolling is one slice: hue bands over a vertical brightness ramp."""
    x = np.arange(2 * width, dtype=np.float32)
    hue = ((x / width) * 180.0) % 180.0  # one full hue cycle per screen width: seamless wrap
    bands = (np.floor(x / max(8, width // 16)) % 2).astype(np.float32)
    hsv = np.empty((height, 2 * width, 3), np.uint8)
    hsv[..., 0] = hue.astype(np.uint8)[None, :]
    hsv[..., 1] = (150 + 80 * bands).astype(np.uint8)[None, :]
    ramp = np.linspace(110, 250, height, dtype=np.float32)[:, None]
    hsv[..., 2] = ramp.astype(np.uint8)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)


class TestPatternSource(SourceBase):
    """Scrolling colour bands, a figure that sways, a bouncing ball, a frame counter and clock."""

    live = False
    __test__ = False  # not a pytest test class

    def __init__(self, width: int, height: int, fps: float, *, paced: bool = True, count: int | None = None) -> None:
        self.width, self.height, self.fps = width, height, fps
        self._strip = _background(width, height)
        self._clock = FrameClock(fps) if paced else None
        self._left = count
        self.frame_count = count
        self._index = 0
        self.description = f"test pattern ({width}x{height} {fps:g} fps)"

    def read(self) -> np.ndarray:
        if self._left is not None:
            if self._left <= 0:
                raise EndOfStream("test pattern")
            self._left -= 1
        if self._clock is not None:
            self._clock.wait()
        t = self._index / self.fps
        self._index += 1
        w, h = self.width, self.height
        offset = int(t * SCROLL_PX_PER_S) % w
        frame = self._strip[:, offset : offset + w].copy()
        # A head-and-shoulders figure, swaying: something person-shaped in front of the bands.
        cx = int(w / 2 + 0.12 * w * np.sin(2 * np.pi * t / 4.0))
        unit = min(w, h)
        cv2.ellipse(frame, (cx, h), (int(0.30 * unit), int(0.28 * unit)), 0, 180, 360, (60, 60, 150), -1)
        cv2.circle(frame, (cx, int(h - 0.42 * unit)), int(0.13 * unit), (120, 160, 210), -1)
        # A ball bouncing over the whole frame.
        bx = int(abs(((t * 0.37) % 2.0) - 1.0) * (w - 40)) + 20
        by = int(abs(((t * 0.53) % 2.0) - 1.0) * (h - 40)) + 20
        cv2.circle(frame, (bx, by), max(6, unit // 30), (255, 255, 255), -1)
        text = f"vcamseg test  #{self._index:06d}  {time.strftime('%H:%M:%S')}"
        scale = max(0.4, unit / 900)
        thickness = max(1, int(2 * scale))
        (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
        cv2.rectangle(frame, (6, 6), (18 + tw, 18 + th + base), (0, 0, 0), -1)
        cv2.putText(
            frame, text, (12, 12 + th), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), thickness, cv2.LINE_AA
        )
        return frame
