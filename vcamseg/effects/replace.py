"""``replace`` — the background replaced by an image, a looping video or a solid colour (a
green screen for keying in OBS included)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vcamseg.config.effects import ReplaceConfig
from vcamseg.effects.base import EffectBase
from vcamseg.effects.kernels.blend import Blender
from vcamseg.effects.kernels.fitting import fit_to
from vcamseg.effects.video_source import LoopingVideo
from vcamseg.errors import ConfigError, InputError
from vcamseg.io.media import read_image
from vcamseg.segmentation.result import Segmentation


class ReplaceEffect(EffectBase[ReplaceConfig]):
    def __init__(self, config: ReplaceConfig) -> None:
        super().__init__(config)
        self._blender = Blender()
        self._video = _open_video(config) if config.video is not None else None
        self._image = _read_image(config.image) if config.image is not None else None
        self._prepared: np.ndarray | None = None  # image or colour at the current frame size

    @property
    def video(self) -> LoopingVideo | None:
        """The background video's player (``video:``), None for an image or a colour."""
        return self._video

    def apply(self, frame: np.ndarray, seg: Segmentation) -> tuple[np.ndarray, Segmentation]:
        h, w = frame.shape[:2]
        return self._blender.blend(frame, self.background(h, w), seg.alpha), seg

    def background(self, h: int, w: int) -> np.ndarray:
        """The background for an h x w frame: the video's frame for now, or the image or colour
        fitted to that size (once per size: the same array for every frame of it). Never written."""
        if self._video is not None:
            return self._video.latest((w, h))
        if self._prepared is None or self._prepared.shape[:2] != (h, w):
            if self._image is not None:
                self._prepared = fit_to(self._image, (w, h), self.config.fit)
            else:
                assert self.config.color is not None
                r, g, b = self.config.color
                self._prepared = np.empty((h, w, 3), np.uint8)
                self._prepared[:] = (b, g, r)
        return self._prepared

    def close(self) -> None:
        if self._video is not None:
            self._video.close()


# The config checks that the files exist; whether they decode is found out here, when the effect is
# built (the compositor names the list entry; a live reload that fails here changes nothing).


def _read_image(path: Path) -> np.ndarray:
    try:
        return read_image(path)
    except InputError:
        raise ConfigError(
            f"image: background image {str(path)!r} cannot be read as an image: use a JPEG, PNG, BMP "
            "or WebP file that OpenCV can open (and check its permissions)",
            fix="point image: at a picture file",
        ) from None


def _open_video(config: ReplaceConfig) -> LoopingVideo:
    assert config.video is not None
    try:
        return LoopingVideo(config.video, config.fit)
    except OSError:
        raise ConfigError(
            f"video: background video {str(config.video)!r} cannot be decoded: use a video "
            "OpenCV/FFmpeg can play (mp4, webm, mkv, avi, gif) and check its permissions",
            fix="point video: at a playable video file",
        ) from None
