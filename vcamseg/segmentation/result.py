"""`Segmentation`: the one result that flows from the model to the effects.

It holds what the model produced at its own (low) resolution and computes full-frame arrays on
demand, once: most effects need only the person mask, so part maps and per-person masks cost
nothing unless asked for. It can also be built from full-size arrays (ground truth, tests).

A `Segmentation` never changes. A stage that changes it returns a new one, as supervision's
stages return new ``Detections``: `with_alpha` (the refiner's matte), `with_threshold`, `resized`
(a stale result for a frame of another size), `flipped` (the mirror effect), `zoomed` (the frame
effect's crop) and `keeping` (the spotlight effect's one person). Results derived
with `with_alpha` or `with_threshold` share the lazily computed arrays of the result they come
from, so a model result reused for several frames is upsampled and cut once, whatever each
frame's matte; every derived result keeps its model result's `result_id`, by which stages that
keep state per model result (the refiner's temporal smoothing) tell a new result from a reused one.
The arrays it hands out are read-only: a consumer cannot corrupt a result other frames share.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import cv2
import numpy as np

from vcamseg.body import BACKGROUND, NUM_KEYPOINTS
from vcamseg.imaging import shrink
from vcamseg.segmentation import derived
from vcamseg.segmentation.lazy import LazyArrays, LazyScores, MaskedMap, read_only


def _check_map(name: str, array: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    array = np.asarray(array)
    if array.shape != shape:
        raise ValueError(f"{name}: expected {shape} (the mask's h, w), got {array.shape}")
    return array


@dataclass(frozen=True, eq=False)
class Pose:
    """One person's pose in frame pixels: ``keypoints[k] = (x, y, score)`` in KEYPOINT_NAMES order
    (float32, read-only: a copy of what it was given)."""

    score: float
    keypoints: np.ndarray  # float32 (17, 3)

    def __post_init__(self) -> None:
        keypoints = np.array(self.keypoints, np.float32)  # a copy the caller cannot change
        if keypoints.shape != (NUM_KEYPOINTS, 3):
            raise ValueError(f"keypoints: expected ({NUM_KEYPOINTS}, 3), got {keypoints.shape}")
        keypoints.flags.writeable = False
        object.__setattr__(self, "keypoints", keypoints)
        object.__setattr__(self, "score", float(self.score))

    def flipped(self, width: int) -> Pose:
        kp = self.keypoints.copy()
        kp[:, 0] = width - 1 - kp[:, 0]
        return Pose(self.score, kp)

    def scaled(self, sx: float, sy: float) -> Pose:
        return Pose(self.score, self.keypoints * np.array([sx, sy, 1.0], np.float32))

    def moved(self, matrix: np.ndarray) -> Pose:
        """Keypoints mapped by a 2x3 affine ``matrix`` (scores kept)."""
        kp = self.keypoints.copy()
        kp[:, :2] = kp[:, :2] @ np.asarray(matrix[:, :2], np.float32).T + np.asarray(matrix[:, 2], np.float32)
        return Pose(self.score, kp)


_ids = itertools.count(1)
_ids_lock = threading.Lock()


def _new_result_id() -> int:
    with _ids_lock:
        return next(_ids)


@dataclass(frozen=True, eq=False, repr=False)
class Segmentation:
    """Person scores, 24-part map, poses and per-person masks for one frame of ``shape`` (h, w).

    Build one with `lazy` (a model's decoding) or `from_arrays` (full-size arrays). Full-size
    arrays are uint8 (the mask bool), read-only and computed lazily:

    * ``scores`` — person probability x 255;
    * ``mask`` — ``scores >= threshold``;
    * ``part_ids`` — 0..23 on the person, 255 (``BACKGROUND``) elsewhere;
    * ``people`` — 0 background, 1..N one label per person (multi-person only, else None);
    * ``alpha`` — the soft matte effects composite with: the refiner's (`with_alpha`), else
      ``mask`` as 0/255.
    """

    _arrays: LazyArrays
    poses: tuple[Pose, ...]
    # Which model result this is, or is derived from (with_alpha, with_threshold, resized and
    # flipped keep it; lazy and from_arrays make a new one): stages that keep state per model
    # result compare it to tell a new result from one reused for another frame.
    result_id: int
    _alpha: np.ndarray | None = None

    @classmethod
    def lazy(
        cls,
        shape: tuple[int, int],
        threshold: float,
        *,
        scores: Callable[[], np.ndarray],
        input_scores: Callable[[], np.ndarray] | None = None,
        part_ids: MaskedMap | None = None,
        people: MaskedMap | None = None,
        poses: Iterable[Pose] = (),
    ) -> Segmentation:
        """A new model result whose arrays come from these functions, each called once at most:
        ``scores()`` the full-size scores, ``input_scores()`` the same at the model's input size
        (a plain resize of them gives the frame's: reduced-resolution consumers skip the full-size
        upsampling), ``part_ids(mask)`` / ``people(mask)`` the maps cut by a full-size mask."""
        arrays = LazyArrays(
            (int(shape[0]), int(shape[1])), float(threshold), LazyScores(scores, input_scores), part_ids, people
        )
        return cls(arrays, tuple(poses), _new_result_id())

    @classmethod
    def from_arrays(
        cls,
        mask: np.ndarray,
        part_ids: np.ndarray | None = None,
        people: np.ndarray | None = None,
        poses: Iterable[Pose] | None = None,
        scores: np.ndarray | None = None,
        threshold: float = 0.5,
    ) -> Segmentation:
        """Build from full-size arrays (e.g. ground-truth masks): ``mask`` bool or 0/255 (h, w);
        ``part_ids``, ``people`` and ``scores`` (uint8) of the same (h, w). Raises ValueError on a
        shape that does not fit."""
        mask = np.asarray(mask)
        if mask.ndim != 2:
            raise ValueError(f"mask: expected (h, w), got {mask.shape}")
        shape = (int(mask.shape[0]), int(mask.shape[1]))
        if scores is not None:
            scores = _check_map("scores", scores, shape)
            if scores.dtype != np.uint8:
                raise ValueError(f"scores: expected uint8 (probability x 255), got {scores.dtype}")
            full_scores = scores
        else:
            binary = mask if mask.dtype == np.bool_ else mask > 0
            full_scores = binary.astype(np.uint8) * 255
        if part_ids is not None:
            part_ids = _check_map("part_ids", part_ids, shape)
        if people is not None:
            people = _check_map("people", people, shape)
        poses = tuple(poses or ())
        if not all(isinstance(p, Pose) for p in poses):
            raise ValueError(f"poses: expected Pose objects, got {[type(p).__name__ for p in poses]}")
        ids, labels = part_ids, people
        return cls.lazy(
            shape,
            threshold,
            scores=lambda: full_scores,
            part_ids=None if ids is None else (lambda m: np.where(m, ids, BACKGROUND).astype(np.uint8)),
            people=None if labels is None else (lambda m: np.where(m, labels, 0).astype(np.uint8)),
            poses=poses,
        )

    # --- what the result holds -------------------------------------------------------------

    @property
    def shape(self) -> tuple[int, int]:
        return self._arrays.shape

    @property
    def threshold(self) -> float:
        return self._arrays.threshold

    @property
    def scores(self) -> np.ndarray:
        return self._arrays.scores.full

    @property
    def input_scores(self) -> np.ndarray | None:
        return self._arrays.scores.small

    def scores_at(self, size: tuple[int, int]) -> np.ndarray:
        """Person scores (uint8) at ``size`` = (width, height), from the model-resolution scores
        unless the full-size ones exist already (cheaper either way than upsampling then shrinking)."""
        scores = self._arrays.scores
        small = scores.small if not scores.has_full else None
        if small is None:
            return shrink(scores.full, size)
        if small.shape[1] >= size[0] and small.shape[0] >= size[1]:
            return shrink(small, size)
        return cv2.resize(small, size, interpolation=cv2.INTER_LINEAR)

    @property
    def mask(self) -> np.ndarray:
        return self._arrays.mask

    @property
    def has_parts(self) -> bool:
        return self._arrays.part_ids_of is not None

    @property
    def part_ids(self) -> np.ndarray:
        return self._arrays.part_ids

    def part_ids_within(self, mask: np.ndarray) -> np.ndarray:
        """The part map cut by another mask (e.g. the refined matte), not cached."""
        if self._arrays.part_ids_of is None:
            raise ValueError("this segmentation has no body-part map (the model or source gave none)")
        return self._arrays.part_ids_of(mask)

    def people_within(self, mask: np.ndarray) -> np.ndarray | None:
        """The people map cut by another mask (e.g. the refined matte), not cached."""
        return None if self._arrays.people_of is None else self._arrays.people_of(mask)

    @property
    def people(self) -> np.ndarray | None:
        return self._arrays.people

    @property
    def person_count(self) -> int:
        people = self.people
        return 0 if people is None else int(people.max(initial=0))

    @property
    def person_masks(self) -> list[np.ndarray]:
        return self._arrays.person_masks

    @property
    def person_part_ids(self) -> list[np.ndarray]:
        return self._arrays.person_part_ids

    @property
    def alpha(self) -> np.ndarray:
        return self._alpha if self._alpha is not None else self._arrays.mask_matte

    @property
    def has_matte(self) -> bool:
        """Whether `alpha` is a refined matte (`with_alpha`), not the plain mask."""
        return self._alpha is not None

    def __repr__(self) -> str:
        h, w = self.shape
        return (
            f"Segmentation({w}x{h}, threshold {self.threshold}, {len(self.poses)} poses, "
            f"parts {'yes' if self.has_parts else 'no'}, matte {'refined' if self.has_matte else 'mask'}, "
            f"result {self.result_id})"
        )

    # --- derived results -------------------------------------------------------------------

    def with_alpha(self, matte: np.ndarray) -> Segmentation:
        """This result with ``matte`` (uint8, the result's h x w) as its alpha; it shares this
        one's arrays (nothing is computed twice) and its result_id. ``matte`` becomes read-only."""
        if not isinstance(matte, np.ndarray) or matte.shape != self.shape or matte.dtype != np.uint8:
            raise ValueError(
                f"alpha: expected a uint8 {self.shape} matte, got {getattr(matte, 'shape', None)} "
                f"{getattr(matte, 'dtype', type(matte).__name__)}"
            )
        return Segmentation(self._arrays, self.poses, self.result_id, read_only(matte))

    def with_threshold(self, threshold: float) -> Segmentation:
        """This result cut at another threshold: the scores are shared, the mask and the maps cut
        by it are new, and the alpha is the new mask (a matte belongs to its threshold)."""
        a = self._arrays
        return Segmentation(
            LazyArrays(a.shape, float(threshold), a.scores, a.part_ids_of, a.people_of), self.poses, self.result_id
        )

    def resized(self, shape: tuple[int, int]) -> Segmentation:
        """This result stretched to frames of ``shape`` (h, w): a pipeline that reuses the last
        result while the camera changes resolution gets a usable matte for those frames, not an
        error. The arrays are resized from this result's (lazily, when asked for)."""
        h, w = int(shape[0]), int(shape[1])
        parent = self._arrays

        def scores() -> np.ndarray:
            return cv2.resize(parent.scores.full, (w, h), interpolation=cv2.INTER_LINEAR)

        def part_ids(mask: np.ndarray) -> np.ndarray:
            ids = cv2.resize(parent.part_ids, (w, h), interpolation=cv2.INTER_NEAREST)
            ids[~mask] = BACKGROUND
            return ids

        def people(mask: np.ndarray) -> np.ndarray:
            assert parent.people is not None
            labels = cv2.resize(parent.people, (w, h), interpolation=cv2.INTER_NEAREST)
            labels[~mask] = 0
            return labels

        sx, sy = w / self.shape[1], h / self.shape[0]
        arrays = LazyArrays(
            (h, w),
            parent.threshold,
            LazyScores(scores, None),
            part_ids if parent.part_ids_of is not None else None,
            people if parent.people_of is not None else None,
        )
        alpha = None
        if self._alpha is not None:
            alpha = read_only(cv2.resize(self._alpha, (w, h), interpolation=cv2.INTER_LINEAR))
        return Segmentation(arrays, tuple(p.scaled(sx, sy) for p in self.poses), self.result_id, alpha)

    def flipped(self) -> Segmentation:
        """The same result mirrored left-right (for a mirrored frame): the arrays are flipped
        lazily, only those asked for; the matte (when refined) at once."""
        width = self.shape[1]
        parent = self._arrays

        def scores() -> np.ndarray:
            return cv2.flip(parent.scores.full, 1)

        small = None
        if parent.scores.has_small:

            def small() -> np.ndarray:
                return cv2.flip(parent.scores.small, 1)

        # The map functions take a mask in the flipped frame: flip it back, compute, flip the result.
        part_ids = None
        if parent.part_ids_of is not None:
            parts_of = parent.part_ids_of

            def part_ids(mask: np.ndarray) -> np.ndarray:
                return cv2.flip(parts_of(np.ascontiguousarray(mask[:, ::-1])), 1)

        people = None
        if parent.people_of is not None:
            people_of = parent.people_of

            def people(mask: np.ndarray) -> np.ndarray:
                return cv2.flip(people_of(np.ascontiguousarray(mask[:, ::-1])), 1)

        arrays = LazyArrays(parent.shape, parent.threshold, LazyScores(scores, small), part_ids, people)
        alpha = None if self._alpha is None else read_only(cv2.flip(self._alpha, 1))
        return Segmentation(arrays, tuple(p.flipped(width) for p in self.poses), self.result_id, alpha)

    def zoomed(self, box: derived.Box) -> Segmentation:
        """The result for the frame's region ``box`` = (x, y, w, h) (frame pixels, inside the frame)
        scaled to the frame's size (the frame effect's crop): arrays lazily, the matte at once."""
        matrix = derived.zoom_matrix(self.shape, box)
        arrays, alpha = derived.zoomed(self._arrays, self._alpha, matrix)
        return Segmentation(arrays, tuple(p.moved(matrix) for p in self.poses), self.result_id, alpha)

    def keeping(self, region: np.ndarray, person: int | None) -> Segmentation:
        """This result with only ``region`` (bool h x w) left as person: everything outside it is
        background (scores, mask, matte, maps); the people map and the poses keep only person
        ``person`` (a label 1..N of `people`; None: nobody), renumbered 1."""
        region = _check_map("region", region, self.shape).astype(bool, copy=False)
        arrays, alpha = derived.kept(self._arrays, self._alpha, region, person)
        poses = (self.poses[person - 1],) if person is not None and person <= len(self.poses) else ()
        return Segmentation(arrays, poses, self.result_id, alpha)
