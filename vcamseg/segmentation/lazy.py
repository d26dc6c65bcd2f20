"""The lazily computed arrays behind a `Segmentation` (see result.py): its scores
(`LazyScores`) and what a threshold cuts from them (`LazyArrays`). Each array is computed at
most once, when first asked for, and handed out read-only, so results that share them (a model
result reused for several frames) can neither recompute nor corrupt them."""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property

import numpy as np

from vcamseg.body import BACKGROUND

# A part map or people map of the frame, cut by a person mask of the frame.
MaskedMap = Callable[[np.ndarray], np.ndarray]


def read_only(array: np.ndarray) -> np.ndarray:
    """A read-only view (no copy) of ``array``: the caller's own array keeps its flags."""
    view = array.view()
    view.flags.writeable = False
    return view


class LazyScores:
    """Person scores (uint8, probability x 255) of one result, at the frame's size and, when the
    model gives them, at its input size; each computed at most once, on first use."""

    def __init__(self, full: Callable[[], np.ndarray], small: Callable[[], np.ndarray] | None) -> None:
        self._full = full
        self._small = small

    @cached_property
    def full(self) -> np.ndarray:
        return read_only(self._full())

    @cached_property
    def small(self) -> np.ndarray | None:
        return None if self._small is None else read_only(self._small())

    @property
    def has_full(self) -> bool:
        """Whether the full-size scores were computed already."""
        return "full" in self.__dict__

    @property
    def has_small(self) -> bool:
        return self._small is not None


class LazyArrays:
    """Everything one result derives from its scores at one threshold (mask, part map, people,
    the mask as a matte), each computed at most once, on first use, and read-only; shared by the
    results `Segmentation.with_alpha` derives from it."""

    def __init__(
        self,
        shape: tuple[int, int],
        threshold: float,
        scores: LazyScores,
        part_ids: MaskedMap | None,
        people: MaskedMap | None,
    ) -> None:
        self.shape = shape
        self.threshold = threshold
        self.scores = scores
        self.part_ids_of = part_ids  # mask -> part ids (not cached: the mask may be any)
        self.people_of = people

    @cached_property
    def mask(self) -> np.ndarray:
        # scores are probability*255; threshold in [0, 1].
        level = int(np.ceil(self.threshold * 255.0))
        return read_only(self.scores.full >= max(level, 1))

    @cached_property
    def part_ids(self) -> np.ndarray:
        if self.part_ids_of is None:
            raise ValueError("this segmentation has no body-part map (the model or source gave none)")
        return read_only(self.part_ids_of(self.mask))

    @cached_property
    def people(self) -> np.ndarray | None:
        return None if self.people_of is None else read_only(self.people_of(self.mask))

    @cached_property
    def person_masks(self) -> list[np.ndarray]:
        people = self.people
        if people is None:
            return []
        return [read_only(people == i) for i in range(1, int(people.max(initial=0)) + 1)]

    @cached_property
    def person_part_ids(self) -> list[np.ndarray]:
        return [read_only(np.where(m, self.part_ids, BACKGROUND).astype(np.uint8)) for m in self.person_masks]

    @cached_property
    def mask_matte(self) -> np.ndarray:
        return read_only(self.mask.astype(np.uint8) * 255)
