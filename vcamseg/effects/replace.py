"""``replace`` — the background replaced by an image, a looping video or a solid colour (a
green screen for keying in OBS included)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import cv2
import numpy as np
from pydantic import Field, model_validator

from vcamseg.effects.base import EffectConfig
from vcamseg.effects.blend import Blender
from vcamseg.effects.fields import Color, ImageFile, VideoFile
from vcamseg.effects.fitting import Fit, fit_to
from vcamseg.effects.video_source import LoopingVideo
from vcamseg.segmentation.result import Segmentation


class ReplaceConfig(EffectConfig):
    """Replace the background behind the person: give exactly one of image, video or color."""

    type: Literal["replace"] = "replace"
    image: ImageFile | None = Field(
        None, description="Background picture (JPEG, PNG, ...); checked when the config loads.")
    video: VideoFile | None = Field(
        None, description="Background video (mp4, webm, gif, ...); loops at its own frame rate, "
        "decoded on its own thread.")
    color: Color | None = Field(
        None, description="Solid background [R, G, B] (0-255), '#RRGGBB' or a name: black, white, gray, "
        "green/chroma_green (0, 177, 64, for keying), blue/chroma_blue.")
    fit: Fit = Field(
        "cover", description="How a picture or video fills the frame: cover (crop to fill), contain (letterbox) "
        "or stretch.")

    @model_validator(mode="after")
    def _one_source(self) -> ReplaceConfig:
        given = [name for name in ("image", "video", "color") if getattr(self, name) is not None]
        if len(given) != 1:
            what = "none" if not given else " and ".join(given)
            raise ValueError(f"replace needs exactly one background source, got {what}: "
                             "set one of image: PATH, video: PATH or color: [R, G, B]")
        return self


class ReplaceEffect:
    def __init__(self, config: ReplaceConfig) -> None:
        self.config = config
        self._blender = Blender()
        self._video = LoopingVideo(config.video, config.fit) if config.video is not None else None
        self._image = _read_image(config.image) if config.image is not None else None
        self._prepared: np.ndarray | None = None  # image or colour at the current frame size

    def apply(self, frame: np.ndarray, seg: Segmentation) -> np.ndarray:
        h, w = frame.shape[:2]
        video = self._video
        background = video.latest((w, h)) if video is not None else self._prepared_background(h, w)
        return self._blender.blend(frame, background, seg.alpha)

    def close(self) -> None:
        if self._video is not None:
            self._video.close()

    def _prepared_background(self, h: int, w: int) -> np.ndarray:
        if self._prepared is None or self._prepared.shape[:2] != (h, w):
            if self._image is not None:
                self._prepared = fit_to(self._image, (w, h), self.config.fit)
            else:
                assert self.config.color is not None
                r, g, b = self.config.color
                self._prepared = np.empty((h, w, 3), np.uint8)
                self._prepared[:] = (b, g, r)
        return self._prepared


def _read_image(path: Path) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:  # checked at config load; the file changed since
        raise OSError(f"background image {path} can no longer be read")
    return image
