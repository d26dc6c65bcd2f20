"""Alpha compositing of uint8 BGR frames with a uint8 matte, in place.

``cv2.multiply`` on uint8 with ``scale=1/255`` rounds and saturates in one pass per layer and
is ~3x faster than ``cv2.blendLinear`` with float weights at 1280x720 (measured; blending only
the soft-edge pixels by index is no faster: numpy's gather/scatter costs as much as the
passes it saves). The foreground stays bit-exact where the matte is 255 and the background
where it is 0; in between the result is within one grey level of the exact blend.
"""

from __future__ import annotations

import cv2
import numpy as np

from vcamseg.effects.kernels.buffers import Buffers

_INV_255 = 1.0 / 255.0


class Blender:
    """Composites into a frame using its own scratch buffers (one Blender per effect)."""

    def __init__(self) -> None:
        self._buffers = Buffers()

    def weight3(self, weight: np.ndarray) -> np.ndarray:
        """The single-channel uint8 weight repeated on 3 channels (scratch)."""
        w3 = self._buffers.get("w3", (*weight.shape, 3))
        return cv2.cvtColor(weight, cv2.COLOR_GRAY2BGR, dst=w3)

    def blend(
        self, foreground: np.ndarray, background: np.ndarray, alpha: np.ndarray, out: np.ndarray | None = None
    ) -> np.ndarray:
        """``out = foreground * alpha + background * (1 - alpha)``; ``out`` defaults to
        ``foreground`` and may be either input (written in place)."""
        out = foreground if out is None else out
        w3 = self.weight3(alpha)
        fg = cv2.multiply(foreground, w3, scale=_INV_255, dst=self._buffers.like("fg", foreground))
        cv2.bitwise_not(w3, dst=w3)
        bg = cv2.multiply(background, w3, scale=_INV_255, dst=self._buffers.like("bg", foreground))
        return cv2.add(fg, bg, dst=out)

    def over(self, frame: np.ndarray, premultiplied: np.ndarray, weight: np.ndarray) -> np.ndarray:
        """Draw a premultiplied layer over ``frame`` in place: ``frame * (1 - weight) + layer``."""
        w3 = self.weight3(weight)
        cv2.bitwise_not(w3, dst=w3)
        kept = cv2.multiply(frame, w3, scale=_INV_255, dst=self._buffers.like("fg", frame))
        return cv2.add(kept, premultiplied, dst=frame)

    def premultiply(self, colors: np.ndarray, weight: np.ndarray) -> np.ndarray:
        """``colors * weight`` (scratch, valid until the next call on this Blender)."""
        w3 = self.weight3(weight)
        return cv2.multiply(colors, w3, scale=_INV_255, dst=self._buffers.like("pm", colors))


def scale_weight(alpha: np.ndarray, opacity: float, out: np.ndarray | None = None) -> np.ndarray:
    """``alpha * opacity`` as uint8, rounded (into ``out`` when given, else a new array)."""
    return cv2.convertScaleAbs(alpha, out, alpha=opacity)
