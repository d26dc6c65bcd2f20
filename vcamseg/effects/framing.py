"""The ``frame`` effect's camera operator: where the crop should be (`Crop`) and how it gets there
(`FramingController`), as plain arithmetic on boxes, so that its behaviour is testable on its own.

Per frame the controller gets the crop the subject asks for (or None: nobody found) and moves its
crop toward it:

* a dead zone: the goal only changes when the asked-for crop's centre differs from it by more
  than ``dead_zone`` of the crop's size, or its size by more than twice that (a zoom that
  breathes is the most visible jitter), so small movements and the model's own jitter leave the
  picture still;
* a glide: each frame the crop covers ``1 - smoothing`` of the way to the goal, at most
  ``max_speed`` x the frame's width (centre and width alike), and stops when less than a tenth of
  a pixel is left;
* a hold, then a release: with nobody found it holds the last goal for ``release_after`` frames,
  then eases back to the full frame;
* the crop keeps the frame's aspect ratio, is at least 1 / ``zoom_max`` of it and never leaves
  it (no borders to fill).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from vcamseg.config.effects import FrameConfig

# The size's dead zone is this many times the centre's.
ZOOM_DEAD_ZONE = 2.0
# Below this many pixels of motion per frame the crop is where it should be (no endless creeping).
_SETTLED_PX = 0.1


@dataclass(frozen=True)
class Crop:
    """A crop of the frame: its centre and width in frame pixels (the height follows from the
    frame's aspect ratio)."""

    cx: float
    cy: float
    width: float

    def box(self, aspect: float) -> tuple[float, float, float, float]:
        """(x, y, w, h) for a frame of ``aspect`` = width / height."""
        height = self.width / aspect
        return self.cx - self.width / 2, self.cy - height / 2, self.width, height


class FramingController:
    """The crop of one ``frame`` effect instance, advanced once per output frame by `step`."""

    def __init__(self, frame_size: tuple[int, int], config: FrameConfig) -> None:
        self.frame_w, self.frame_h = float(frame_size[0]), float(frame_size[1])
        self.config = config
        self.full = Crop(self.frame_w / 2, self.frame_h / 2, self.frame_w)
        self.crop = self.full
        self.goal = self.full
        self.missing = 0  # frames in a row with nobody found

    @property
    def aspect(self) -> float:
        return self.frame_w / self.frame_h

    def clamp(self, crop: Crop) -> Crop:
        """The nearest crop that is allowed: frame aspect, zoom within 1..zoom_max, inside the frame."""
        width = min(self.frame_w, max(self.frame_w / self.config.zoom_max, crop.width))
        height = width / self.aspect
        cx = min(self.frame_w - width / 2, max(width / 2, crop.cx))
        cy = min(self.frame_h - height / 2, max(height / 2, crop.cy))
        return Crop(cx, cy, width)

    def step(self, wanted: Crop | None) -> Crop:
        """Advance one frame toward ``wanted`` (None: nobody in view) and return the new crop."""
        cfg = self.config
        if wanted is None:
            self.missing += 1
            # Hold first: a missed detection or a turned head is not a departure.
            wanted = self.goal if self.missing <= cfg.release_after else self.full
        else:
            self.missing = 0
        wanted = self.clamp(wanted)
        if self._outside_dead_zone(wanted):
            self.goal = wanted
        self.crop = self.clamp(self._glide(self.crop, self.goal))
        return self.crop

    def _outside_dead_zone(self, wanted: Crop) -> bool:
        zone = self.config.dead_zone
        goal = self.goal
        if wanted == self.full and goal != self.full and self.missing > self.config.release_after:
            return True  # the release always goes all the way back
        height = goal.width / self.aspect
        return (
            abs(wanted.cx - goal.cx) > zone * goal.width
            or abs(wanted.cy - goal.cy) > zone * height
            or abs(wanted.width - goal.width) > ZOOM_DEAD_ZONE * zone * goal.width
        )

    def _glide(self, crop: Crop, goal: Crop) -> Crop:
        rate = 1.0 - self.config.smoothing
        limit = self.config.max_speed * self.frame_w
        moved = {}
        for name in ("cx", "cy", "width"):
            left = getattr(goal, name) - getattr(crop, name)
            step = max(-limit, min(limit, left * rate))
            moved[name] = getattr(goal, name) if abs(left) <= _SETTLED_PX else getattr(crop, name) + step
        return replace(crop, **moved)
