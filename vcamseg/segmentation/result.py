"""`Segmentation`: the one result that flows from the model to the effects.

It holds what the model produced at its own (low) resolution and computes full-frame arrays on
demand, once: most effects need only the person mask, so part maps and per-person masks cost
nothing unless asked for. It can also be built from full-size arrays (ground truth, tests).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

import cv2
import numpy as np

from vcamseg.body import BACKGROUND, KEYPOINT_NAMES
from vcamseg.imaging import shrink


@dataclass(frozen=True)
class Pose:
    """One person's pose in frame pixels: ``keypoints[k] = (x, y, score)`` in KEYPOINT_NAMES order."""

    score: float
    keypoints: np.ndarray  # float32 (17, 3)

    def keypoint(self, name: str) -> tuple[float, float, float]:
        x, y, s = self.keypoints[KEYPOINT_NAMES.index(name)]
        return float(x), float(y), float(s)

    def flipped(self, width: int) -> Pose:
        kp = self.keypoints.copy()
        kp[:, 0] = width - 1 - kp[:, 0]
        return Pose(self.score, kp)


@dataclass
class Segmentation:
    """Person scores, 24-part map, poses and per-person masks for one frame of ``shape`` (h, w).

    Full-size arrays are uint8 and computed lazily:

    * ``scores`` — person probability x 255;
    * ``mask`` — bool, ``scores >= threshold``;
    * ``part_ids`` — 0..23 on the person, 255 (``BACKGROUND``) elsewhere;
    * ``people`` — 0 background, 1..N one label per person (multi-person only, else None);
    * ``alpha`` — the soft matte effects composite with; the mask refiner sets it, by default it
      is ``mask`` as 0/255.
    """

    shape: tuple[int, int]
    threshold: float
    compute_scores: Callable[[], np.ndarray]
    compute_part_ids: Callable[[np.ndarray], np.ndarray] | None = None
    compute_people: Callable[[np.ndarray], np.ndarray] | None = None
    poses: list[Pose] = field(default_factory=list)
    # Scores at the model's input resolution (a plain resize of them gives the frame's): lets
    # reduced-resolution consumers skip the full-size upsampling.
    compute_input_scores: Callable[[], np.ndarray] | None = None
    # Another frame's result whose arrays this one shares (see ``shared``).
    base: Segmentation | None = None
    _alpha: np.ndarray | None = None

    @classmethod
    def from_arrays(
        cls,
        mask: np.ndarray,
        part_ids: np.ndarray | None = None,
        people: np.ndarray | None = None,
        poses: list[Pose] | None = None,
        scores: np.ndarray | None = None,
    ) -> Segmentation:
        """Build from full-size arrays (e.g. ground-truth masks): ``mask`` bool or 0/255."""
        binary = np.asarray(mask) > 0 if mask.dtype != np.bool_ else mask
        full_scores = scores if scores is not None else binary.astype(np.uint8) * 255
        return cls(
            shape=binary.shape[:2],
            threshold=0.5,
            compute_scores=lambda: full_scores,
            compute_part_ids=None
            if part_ids is None
            else (lambda m: np.where(m, part_ids, BACKGROUND).astype(np.uint8)),
            compute_people=None if people is None else (lambda m: np.where(m, people, 0).astype(np.uint8)),
            poses=list(poses or []),
        )

    def shared(self) -> Segmentation:
        """Another result over this one's arrays, for a frame that reuses this mask: effects may
        set its ``alpha`` (or mirror it) without touching this one, and the model's arrays are
        computed once, by this one."""
        return Segmentation(self.shape, self.threshold, self.compute_scores, self.compute_part_ids,
                            self.compute_people, list(self.poses), self.compute_input_scores, base=self.base or self)

    @cached_property
    def scores(self) -> np.ndarray:
        return self.base.scores if self.base is not None else self.compute_scores()

    @cached_property
    def input_scores(self) -> np.ndarray | None:
        if self.base is not None:
            return self.base.input_scores
        return None if self.compute_input_scores is None else self.compute_input_scores()

    def scores_at(self, size: tuple[int, int]) -> np.ndarray:
        """Person scores (uint8) at ``size`` = (width, height), from the model-resolution scores
        unless the full-size ones exist already (cheaper either way than upsampling then shrinking)."""
        small = self.input_scores if "scores" not in self.__dict__ else None
        if small is None:
            return shrink(self.scores, size)
        if small.shape[1] >= size[0] and small.shape[0] >= size[1]:
            return shrink(small, size)
        return cv2.resize(small, size, interpolation=cv2.INTER_LINEAR)

    @cached_property
    def mask(self) -> np.ndarray:
        if self.base is not None:
            return self.base.mask
        # scores are probability*255; threshold in [0, 1].
        level = int(np.ceil(self.threshold * 255.0))
        return self.scores >= max(level, 1)

    @property
    def has_parts(self) -> bool:
        return self.compute_part_ids is not None

    @cached_property
    def part_ids(self) -> np.ndarray:
        if self.compute_part_ids is None:
            raise ValueError("this segmentation has no body-part map (the model or source gave none)")
        if self.base is not None:
            return self.base.part_ids
        return self.compute_part_ids(self.mask)

    def part_ids_within(self, mask: np.ndarray) -> np.ndarray:
        """The part map cut by another mask (e.g. the refined matte), not cached."""
        if self.compute_part_ids is None:
            raise ValueError("this segmentation has no body-part map (the model or source gave none)")
        return self.compute_part_ids(mask)

    def people_within(self, mask: np.ndarray) -> np.ndarray | None:
        """The people map cut by another mask (e.g. the refined matte), not cached."""
        return None if self.compute_people is None else self.compute_people(mask)

    @cached_property
    def people(self) -> np.ndarray | None:
        if self.compute_people is None:
            return None
        if self.base is not None:
            return self.base.people
        return self.compute_people(self.mask)

    @property
    def person_count(self) -> int:
        people = self.people
        return 0 if people is None else int(people.max(initial=0))

    @cached_property
    def person_masks(self) -> list[np.ndarray]:
        people = self.people
        if people is None:
            return []
        return [people == i for i in range(1, self.person_count + 1)]

    @cached_property
    def person_part_ids(self) -> list[np.ndarray]:
        return [np.where(m, self.part_ids, BACKGROUND).astype(np.uint8) for m in self.person_masks]

    @property
    def alpha(self) -> np.ndarray:
        if self._alpha is None:
            self._alpha = self.mask.astype(np.uint8) * 255
        return self._alpha

    @alpha.setter
    def alpha(self, value: np.ndarray) -> None:
        self._alpha = value

    def flipped(self) -> Segmentation:
        """The same result mirrored left-right (for a mirrored frame)."""
        width = self.shape[1]
        parent = self  # scores are computed once, by the original

        def scores() -> np.ndarray:
            return cv2.flip(parent.scores, 1)

        # The callables take a mask in the flipped frame: flip it back, compute, flip the result.
        part_fn = None
        if self.compute_part_ids is not None:
            compute_parts = self.compute_part_ids

            def part_fn(mask: np.ndarray) -> np.ndarray:
                return cv2.flip(compute_parts(np.ascontiguousarray(mask[:, ::-1])), 1)

        people_fn = None
        if self.compute_people is not None:
            compute_people = self.compute_people

            def people_fn(mask: np.ndarray) -> np.ndarray:
                return cv2.flip(compute_people(np.ascontiguousarray(mask[:, ::-1])), 1)

        input_fn = None
        if self.compute_input_scores is not None:

            def input_fn() -> np.ndarray:
                return cv2.flip(parent.input_scores, 1)

        poses = [p.flipped(width) for p in self.poses]
        out = Segmentation(self.shape, self.threshold, scores, part_fn, people_fn, poses, input_fn)
        if self._alpha is not None:
            out._alpha = cv2.flip(self._alpha, 1)
        return out
