"""The compositor: mask refinement, then every configured effect in order."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import cv2
import numpy as np

from vcamseg.effects.base import Closable, Effect, EffectConfig, GeometryEffect
from vcamseg.effects.refine import MaskConfig, MaskRefiner
from vcamseg.effects.registry import build_effect
from vcamseg.segmentation.parts import BACKGROUND
from vcamseg.segmentation.result import Segmentation

log = logging.getLogger(__name__)

Step = Callable[[np.ndarray, Segmentation], tuple[np.ndarray, Segmentation]]


class Compositor:
    """``apply(frame, seg)``: refine ``seg.alpha`` from the frame, then run the effects.

    ``seg`` may be reused for several frames (the model slower than the camera): the matte is
    still refined against each new frame, and the temporal smoothing advances once per new
    segmentation."""

    def __init__(self, mask: MaskConfig, effects: Sequence[EffectConfig]) -> None:
        self.refiner = MaskRefiner(mask)
        self._configs: list[EffectConfig] = []
        self.effects: list[Effect | GeometryEffect] = []
        self._steps: list[Step] = []
        self._set_effects(effects, reusable=[])

    def update(self, mask: MaskConfig, effects: Sequence[EffectConfig]) -> None:
        """Live reload: the refiner keeps its temporal state; effects whose config did not change
        are kept as they are (a background video keeps playing), the others are rebuilt."""
        if mask != self.refiner.config:
            self.refiner.config = mask
        if list(effects) != self._configs:
            self._set_effects(effects, reusable=list(zip(self._configs, self.effects, strict=True)))

    def apply(self, frame: np.ndarray, seg: Segmentation) -> np.ndarray:
        """Composite one BGR uint8 frame (written in place where the effects can) and return it."""
        if seg.shape != frame.shape[:2]:
            seg = _resized(seg, frame.shape[:2])
        self.refiner.refine(frame, seg)
        for step in self._steps:
            frame, seg = step(frame, seg)
        return frame

    def close(self) -> None:
        """Stop effect threads (background video decoding)."""
        for effect in self.effects:
            if isinstance(effect, Closable):
                effect.close()

    def _set_effects(self, configs: Sequence[EffectConfig],
                     reusable: list[tuple[EffectConfig, Effect | GeometryEffect]]) -> None:
        effects: list[Effect | GeometryEffect] = []
        for config in configs:
            match = next((i for i, (old, _) in enumerate(reusable) if old == config), None)
            effects.append(reusable.pop(match)[1] if match is not None else build_effect(config))
        for _, unused in reusable:
            if isinstance(unused, Closable):
                unused.close()
        self._configs = list(configs)
        self.effects = effects
        self._steps = [_step(e) for e in effects]


def _step(effect: Effect | GeometryEffect) -> Step:
    """One calling convention for both kinds, decided once instead of per frame."""
    if isinstance(effect, GeometryEffect):
        return effect.transform
    apply = effect.apply

    def pixel_step(frame: np.ndarray, seg: Segmentation) -> tuple[np.ndarray, Segmentation]:
        return apply(frame, seg), seg

    return pixel_step


def _resized(seg: Segmentation, shape: tuple[int, int]) -> Segmentation:
    """The segmentation stretched to a new frame size: a pipeline that reuses the last result
    while the camera changes resolution gets a usable matte for those frames, not an error."""
    h, w = shape
    log.debug("segmentation %s reused for a %dx%d frame: resizing it", seg.shape, w, h)

    def scores() -> np.ndarray:
        return cv2.resize(seg.scores, (w, h), interpolation=cv2.INTER_LINEAR)

    def part_ids(mask: np.ndarray) -> np.ndarray:
        ids = cv2.resize(seg.part_ids, (w, h), interpolation=cv2.INTER_NEAREST)
        ids[~mask] = BACKGROUND
        return ids

    def people(mask: np.ndarray) -> np.ndarray:
        assert seg.people is not None
        labels = cv2.resize(seg.people, (w, h), interpolation=cv2.INTER_NEAREST)
        labels[~mask] = 0
        return labels

    sx, sy = w / seg.shape[1], h / seg.shape[0]
    poses = [type(p)(p.score, p.keypoints * np.array([sx, sy, 1.0], np.float32)) for p in seg.poses]
    return Segmentation(shape=(h, w), threshold=seg.threshold, compute_scores=scores,
                        compute_part_ids=part_ids if seg.has_parts else None,
                        compute_people=people if seg.compute_people is not None else None, poses=poses)
