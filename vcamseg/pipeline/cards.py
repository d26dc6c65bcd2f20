"""Frames the pipeline shows when it has no camera picture: placeholder and idle cards."""

from __future__ import annotations

import cv2
import numpy as np

from vcamseg.pipeline.frames import Frame

CARD_BGR = (48, 40, 36)


def _text_lines(image: np.ndarray, lines: list[str]) -> None:
    h, w = image.shape[:2]
    scale = max(0.5, min(w, h) / 600)
    thickness = max(1, round(2 * scale))
    sizes = [cv2.getTextSize(line, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)[0] for line in lines]
    gap = int(18 * scale)
    total = sum(s[1] for s in sizes) + gap * (len(lines) - 1)
    y = (h - total) // 2
    for line, (tw, th) in zip(lines, sizes, strict=True):
        y += th
        cv2.putText(
            image, line, ((w - tw) // 2, y), cv2.FONT_HERSHEY_SIMPLEX, scale, (235, 235, 235), thickness, cv2.LINE_AA
        )
        y += gap


def card(width: int, height: int, *lines: str) -> np.ndarray:
    """A dark card with centred text."""
    image = np.empty((height, width, 3), np.uint8)
    image[:] = CARD_BGR
    _text_lines(image, list(lines))
    return image


def dimmed(frame: np.ndarray, *lines: str) -> np.ndarray:
    """The last picture viewers saw, darkened, with a notice over it (keeps the effect applied:
    a placeholder never shows more of the room than the live picture did)."""
    image = cv2.convertScaleAbs(frame, alpha=0.35)
    _text_lines(image, list(lines))
    return image


class Fillers:
    """The sender's pictures for one output size: ``starting`` (no frame yet: the model loads),
    ``idle`` (nobody watches) and ``placeholder(last)`` (the source is lost or stalled)."""

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.starting = card(width, height, "vcamseg", "starting camera...")
        self.idle = card(width, height, "vcamseg", "camera paused: no application is watching")
        self._placeholder: tuple[int, np.ndarray] | None = None  # (id of the frame it dims, image)

    def placeholder(self, last: Frame | None) -> np.ndarray:
        """``last`` dimmed with a notice (made once per frame), or a plain card without one."""
        if last is None:
            return card(self.width, self.height, "camera unavailable", "reconnecting...")
        if self._placeholder is None or self._placeholder[0] != id(last):
            self._placeholder = (id(last), dimmed(last.image, "camera unavailable", "reconnecting..."))
        return self._placeholder[1]
