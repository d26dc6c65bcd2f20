"""``blur`` — BodyPix's drawBokehEffect: the background blurred behind a sharp person, without
the halo (royshil/obs-backgroundremoval#414) that a plain full-frame blur leaves.

A plain blur mixes the person's colours into the background around them; compositing the
sharp person back on top then leaves a glow of those colours around the outline. Here the
background is blurred with the person cut out: a normalised (masked) convolution
``blur(frame * bg) / blur(bg)``, where ``bg`` is the background weight with the person's
soft fringe removed, so every background pixel is an average of background pixels only. The
blur runs at reduced resolution, where a Gaussian of ~3 pixels stands for the requested
radius: the result is smooth, so upscaling it is invisible, and the cost hardly depends on
the blur amount.
"""

from __future__ import annotations

import cv2
import numpy as np

from vcamseg.config.effects import BlurConfig
from vcamseg.effects.base import EffectBase
from vcamseg.effects.kernels.blend import Blender
from vcamseg.effects.kernels.buffers import Buffers
from vcamseg.imaging import shrink
from vcamseg.segmentation.result import Segmentation

# The working resolution is the frame reduced by a power of two (every step an exact halving,
# the upscale an exact multiple) chosen so the Gaussian keeps at least this sigma there.
MIN_WORK_SIGMA = 2.5
# Lets pixels with no background in reach fall back to their own colour instead of 0/0.
_FALLBACK = np.float32(1e-3)


class BackgroundBlur:
    """Halo-free blurred background of a frame at any size (shared by ``blur`` and ``blur_parts``)."""

    def __init__(self) -> None:
        self._buffers = Buffers()

    def render(self, frame: np.ndarray, person: np.ndarray, sigma: float, out: np.ndarray) -> np.ndarray:
        """Write into ``out`` (frame-sized BGR) the frame blurred by ``sigma`` pixels with the
        ``person`` matte (uint8, 255 = person) cut out: no person colour reaches the result."""
        buf = self._buffers
        h, w = frame.shape[:2]
        factor = work_factor(sigma)
        work_w, work_h = work = max(1, w // factor), max(1, h // factor)
        small = shrink(frame, work, dst=buf.get("small", (work_h, work_w, 3)))
        background = cv2.bitwise_not(person, dst=buf.get("background", (h, w)))
        weight_u8 = shrink(background, work, dst=buf.get("weight_u8", (work_h, work_w)))
        # Drop the working pixels that touch the person's fringe: their colour is partly person.
        cv2.erode(weight_u8, _CROSS, dst=weight_u8)
        weight = np.multiply(weight_u8, np.float32(1.0 / 255.0), out=buf.get("weight", (work_h, work_w), np.float32))
        colour = np.multiply(small, np.float32(1.0), out=buf.get("colour", (work_h, work_w, 3), np.float32))
        weighted = np.multiply(colour, weight[..., None], out=buf.get("weighted", (work_h, work_w, 3), np.float32))
        sigma_work = sigma / factor
        cv2.GaussianBlur(weighted, (0, 0), sigma_work, dst=weighted, borderType=cv2.BORDER_REFLECT)
        cv2.GaussianBlur(weight, (0, 0), sigma_work, dst=weight, borderType=cv2.BORDER_REFLECT)
        # (blur(c * w) + f * c) / (blur(w) + f): the masked blur, or the pixel's own colour deep
        # inside the person where no background is in reach (hidden by the person anyway).
        colour *= _FALLBACK
        colour += weighted
        weight += _FALLBACK
        colour /= weight[..., None]
        # Values are a weighted mean of colours (0..255): the absolute value in convertScaleAbs is a no-op.
        blurred = cv2.convertScaleAbs(colour, buf.get("blurred", (work_h, work_w, 3)))
        return cv2.resize(blurred, (w, h), dst=out, interpolation=cv2.INTER_LINEAR)


_CROSS = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))


def work_factor(sigma: float) -> int:
    """The power-of-two reduction for a blur of ``sigma`` frame pixels (1 = full resolution)."""
    factor = 1
    while factor < 16 and sigma / (2 * factor) >= MIN_WORK_SIGMA:
        factor *= 2
    # A small blur still runs at half resolution: float work at full size costs ~5 ms at 720p.
    return 2 if factor == 1 and sigma >= 3.0 else factor


class BlurEffect(EffectBase[BlurConfig]):
    def __init__(self, config: BlurConfig) -> None:
        super().__init__(config)
        self._background = BackgroundBlur()
        self._blender = Blender()
        self._buffers = Buffers()

    def apply(self, frame: np.ndarray, seg: Segmentation) -> tuple[np.ndarray, Segmentation]:
        cfg = self.config
        alpha = seg.alpha
        blurred = self._background.render(frame, alpha, cfg.background_blur, self._buffers.like("blurred", frame))
        if cfg.edge_blur:
            k = 2 * cfg.edge_blur + 1
            alpha = cv2.blur(alpha, (k, k), dst=self._buffers.like("edge", alpha))
        return self._blender.blend(frame, blurred, alpha), seg
