"""``spotlight`` — only the main person stays a person: with several people in view one is kept
(the largest, the most central or the one facing the camera) and everyone else becomes
background for the effects after it, so a blur or replace after it hides them with the room.

It needs per-person masks (``segmentation.multi_person: true``); without them it passes the
result through and says so once. The kept person is followed from one model result to the next
by the overlap of their box (labels are not stable: they follow the poses' order), and another
person takes over only when they score ``switch_margin`` better for ``switch_after`` results in a
row (`SpotlightChooser`), or when the kept person is gone.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import cv2
import numpy as np

from vcamseg.body import KEYPOINT_NAMES
from vcamseg.config.effects import SpotlightConfig
from vcamseg.effects.base import EffectBase, WarnOnce
from vcamseg.segmentation.result import Segmentation

log = logging.getLogger(__name__)

STEP = 4  # people are measured on every 4th pixel of the people map
MATCH_IOU = 0.2  # a person whose box overlaps the kept one's this much is the kept person
_NOSE, _LEFT_EYE, _RIGHT_EYE = (KEYPOINT_NAMES.index(n) for n in ("nose", "left_eye", "right_eye"))

Bounds = tuple[float, float, float, float]


@dataclass(frozen=True)
class Candidate:
    """One person of a result: their box (frame pixels), pixel count and centre, and how much
    their face is turned to the camera (0..1, from the pose)."""

    bounds: Bounds
    area: float
    centre: tuple[float, float]
    facing: float


class SpotlightChooser:
    """Who is kept, result after result, with hysteresis (pure logic: tested on its own)."""

    def __init__(self, choose: str, switch_margin: float, switch_after: int) -> None:
        self.choose = choose
        self.switch_margin = switch_margin
        self.switch_after = switch_after
        self.kept: Bounds | None = None  # the kept person's box in the last result they were in
        self.streak = 0  # results in a row in which someone else scored clearly better

    def score(self, person: Candidate, shape: tuple[int, int]) -> float:
        h, w = shape
        if self.choose == "largest":
            return person.area / (h * w)
        if self.choose == "central":
            dx, dy = person.centre[0] - w / 2, person.centre[1] - h / 2
            return 1.0 - float(np.hypot(dx, dy)) / float(np.hypot(w / 2, h / 2))
        return person.facing

    def pick(self, people: list[Candidate], shape: tuple[int, int]) -> int | None:
        """The index of the person kept in this result (None: nobody in it)."""
        if not people:
            return None  # keep the box: the person is matched again when they come back
        scores = [self.score(p, shape) for p in people]
        best = max(range(len(people)), key=scores.__getitem__)
        current = self._match(people)
        if current is None or current == best:
            chosen, self.streak = best if current is None else current, 0
        elif scores[best] > scores[current] * (1.0 + self.switch_margin) + 1e-9:
            self.streak += 1
            chosen = best if self.streak >= self.switch_after else current
            if chosen == best:
                self.streak = 0
        else:
            chosen, self.streak = current, 0
        self.kept = people[chosen].bounds
        return chosen

    def _match(self, people: list[Candidate]) -> int | None:
        if self.kept is None:
            return None
        overlaps = [_iou(self.kept, p.bounds) for p in people]
        best = max(range(len(people)), key=overlaps.__getitem__)
        return best if overlaps[best] >= MATCH_IOU else None


def _iou(a: Bounds, b: Bounds) -> float:
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


class SpotlightEffect(EffectBase[SpotlightConfig]):
    def __init__(self, config: SpotlightConfig) -> None:
        super().__init__(config)
        self.chooser = SpotlightChooser(config.choose, config.switch_margin, config.switch_after)
        self._cached: tuple[int, tuple[int, int], np.ndarray, int | None] | None = None
        self._warn = WarnOnce()

    @property
    def kept_label(self) -> int | None:
        """The label (in the input's people map) of the person kept in the last result."""
        return None if self._cached is None else self._cached[3]

    def apply(self, frame: np.ndarray, seg: Segmentation) -> tuple[np.ndarray, Segmentation]:
        if seg.people is None:
            self._warn(
                log,
                "spotlight effect: this segmentation has no per-person masks, so everyone stays a person; "
                "set segmentation.multi_person: true",
            )
            return frame, seg
        if seg.person_count == 0:
            return frame, seg  # nobody told apart (no pose found): nothing to choose between
        cached = self._cached
        if cached is None or cached[:2] != (seg.result_id, seg.shape):
            label = self._choose(seg)
            cached = self._cached = (seg.result_id, seg.shape, self._region(seg, label), label)
        return frame, seg.keeping(cached[2], cached[3])

    def _choose(self, seg: Segmentation) -> int | None:
        people = seg.people
        assert people is not None
        labels = people[::STEP, ::STEP]
        candidates, label_of = [], []
        for label in range(1, seg.person_count + 1):
            ys, xs = np.nonzero(labels == label)
            if len(xs) == 0:
                continue
            pose = seg.poses[label - 1].keypoints if label <= len(seg.poses) else None
            facing = 0.0
            if pose is not None:
                facing = float(pose[_NOSE, 2] + min(pose[_LEFT_EYE, 2], pose[_RIGHT_EYE, 2])) / 2
            bounds = (xs.min() * STEP, ys.min() * STEP, (xs.max() + 1) * STEP, (ys.max() + 1) * STEP)
            centre = (float(xs.mean()) * STEP, float(ys.mean()) * STEP)
            candidates.append(Candidate(tuple(map(float, bounds)), len(xs) * STEP * STEP, centre, facing))
            label_of.append(label)
        chosen = self.chooser.pick(candidates, seg.shape)
        return None if chosen is None else label_of[chosen]

    def _region(self, seg: Segmentation, label: int | None) -> np.ndarray:
        """Where the kept person stays person: their pixels, and up to grow_px around them that
        belong to nobody else."""
        people = seg.people
        assert people is not None
        if label is None:
            return np.zeros(seg.shape, bool)
        own = people == label
        grow = self.config.grow_px
        if not grow:
            return own
        h, w = seg.shape
        # Grown at a quarter of the size (a 1280x720 ellipse of 25 px costs several ms at full size).
        small_size = (max(1, w // STEP), max(1, h // STEP))
        small = cv2.resize(own.astype(np.uint8) * 255, small_size, interpolation=cv2.INTER_AREA)
        reach = max(1, -(-grow // STEP))
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * reach + 1, 2 * reach + 1))
        grown = cv2.resize(cv2.dilate((small > 0).astype(np.uint8), kernel), (w, h), interpolation=cv2.INTER_NEAREST)
        return own | ((grown > 0) & (people == 0))
