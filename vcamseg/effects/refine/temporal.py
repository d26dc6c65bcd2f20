"""Motion-aware temporal smoothing of the person scores.

A fixed exponential moving average trades flicker for lag: with weight 0.3 a hand that moves
is cut off for several frames (royshil/obs-backgroundremoval#605). Here the weight of the new
scores is chosen per pixel from how much the picture itself changed since the previous
segmentation: where the frame is still, the model's frame-to-frame jitter is averaged away;
where it moved, the new scores are taken as they are, so the matte follows motion at once.

The state advances once per new segmentation, not per frame: when the model is slower than
the camera and the pipeline reuses a result, the change is measured between the frames at
which consecutive results arrived, so motion spread over several frames still counts.
"""

from __future__ import annotations

import cv2
import numpy as np


class MotionAwareSmoother:
    """Per-pixel EMA of scores (float32, working resolution) weighted by image motion."""

    def __init__(self) -> None:
        self._state: np.ndarray | None = None
        self._gray: np.ndarray | None = None
        self._lut_key: tuple[float, float] | None = None
        self._lut = np.zeros(256, np.uint8)

    @property
    def state(self) -> np.ndarray | None:
        """The smoothed scores (float32 0..1, working resolution) as of the last `update`, None
        before the first or after `reset`. The smoother's own array: read it, do not change it."""
        return self._state

    def reset(self) -> None:
        self._state = None
        self._gray = None

    def update(
        self, scores: np.ndarray, gray: np.ndarray, strength: float, motion_threshold: float, spread: int
    ) -> np.ndarray:
        """Blend ``scores`` (float32 0..1) into the state and return it.

        ``gray`` is the frame (uint8, same size) the scores belong to; ``strength`` the share of
        the old state kept where nothing moved (0 = no smoothing); ``motion_threshold`` the grey
        level change from which a pixel takes the new scores fully; ``spread`` how far (working
        pixels) around a change the new scores are taken too: the model's scores are coarse,
        so its mask moves over a wider band than the pixels that changed."""
        if strength <= 0.0 or self._state is None or self._state.shape != scores.shape:
            self._state = scores.copy()
            self._gray = gray.copy()
            return self._state
        assert self._gray is not None
        motion = cv2.absdiff(gray, self._gray)
        if spread > 0:
            k = 2 * spread + 1
            motion = cv2.dilate(motion, cv2.getStructuringElement(cv2.MORPH_RECT, (k, k)))
            motion = cv2.blur(motion, (k, k))
        weight = cv2.LUT(motion, self._weight_lut(strength, motion_threshold))
        # state += w * (scores - state), w in 0..1 (from the uint8 table).
        delta = cv2.subtract(scores, self._state)
        self._state += cv2.multiply(delta, weight, scale=1.0 / 255.0, dtype=cv2.CV_32F)
        np.copyto(self._gray, gray)
        return self._state

    def _weight_lut(self, strength: float, motion_threshold: float) -> np.ndarray:
        key = (strength, motion_threshold)
        if key != self._lut_key:
            change = np.arange(256, dtype=np.float32)
            # Below half the threshold it is sensor noise; the weight ramps to 1 at the threshold.
            moving = np.clip((change - 0.5 * motion_threshold) / (0.5 * motion_threshold), 0.0, 1.0)
            weight = (1.0 - strength) + strength * moving
            self._lut = np.round(weight * 255.0).astype(np.uint8)
            self._lut_key = key
        return self._lut
