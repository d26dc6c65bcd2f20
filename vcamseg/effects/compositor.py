"""The compositor: mask refinement, then every configured effect in order."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from vcamseg.config.effects import EffectConfig
from vcamseg.config.mask import MaskConfig
from vcamseg.effects.base import Effect
from vcamseg.effects.refine import MaskRefiner
from vcamseg.effects.registry import build_effect
from vcamseg.errors import ConfigError
from vcamseg.segmentation.result import Segmentation

log = logging.getLogger(__name__)


@dataclass
class _Stage:
    """Effects (and the mask config) ready to be switched to; ``fresh``: the ones built for it."""

    mask: MaskConfig
    configs: list[EffectConfig]
    effects: list[Effect]
    fresh: list[Effect] = field(default_factory=list)


class Compositor:
    """``apply(frame, seg)``: refine the matte from the frame, then run the effects.

    ``seg`` may be given for several frames (the model slower than the camera); it is never
    changed (the refiner and the effects derive new results from it). The matte is still
    refined against each new frame, and the temporal smoothing advances once per model result.

    Live reload: `update` from the thread that calls `apply`, `stage` from any other (the daemon's
    reload): the change is then built there and switched to between two frames."""

    def __init__(self, mask: MaskConfig, effects: Sequence[EffectConfig]) -> None:
        self.refiner = MaskRefiner(mask)
        self._costs: dict[str, float] = {}
        self._configs: list[EffectConfig] = []
        self.effects: list[Effect] = []
        self._pending: _Stage | None = None
        self._stage_lock = threading.Lock()  # one stage() at a time (it builds outside _swap_lock)
        self._swap_lock = threading.Lock()  # guards _pending between stage() and the compositing thread
        self._switch(self._build(_Stage(mask, [], []), mask, effects), close_in_background=False)

    def update(self, mask: MaskConfig, effects: Sequence[EffectConfig]) -> None:
        """Live reload, in the compositing thread: the refiner keeps its temporal state; effects whose
        config did not change are kept as they are (a background video keeps playing), the others
        are rebuilt and the removed ones closed."""
        self.stage(mask, effects)
        self._switch_to_staged(close_in_background=False)

    def stage(self, mask: MaskConfig, effects: Sequence[EffectConfig]) -> None:
        """Live reload from another thread: new effects are built here (an error raises here and
        changes nothing), and `apply` switches to them before its next frame."""
        with self._stage_lock:
            with self._swap_lock:
                base = self._pending or _Stage(self.refiner.config, self._configs, self.effects)
            staged = self._build(base, mask, effects)
            with self._swap_lock:
                replaced, self._pending = self._pending, staged
            if replaced is not None:  # never switched to: what it built and the new stage drops is unused
                _close_all([e for e in replaced.fresh if not _contains(staged.effects, e)])

    def apply(self, frame: np.ndarray, seg: Segmentation) -> np.ndarray:
        """Composite one BGR uint8 frame (written in place where the effects can) and return it."""
        if self._pending is not None:
            self._switch_to_staged(close_in_background=True)
        if seg.shape != frame.shape[:2]:
            # The camera changed resolution while the pipeline still holds the last result: a
            # usable matte for those frames, not an error.
            log.debug(
                "segmentation %s reused for a %dx%d frame: resizing it", seg.shape, frame.shape[1], frame.shape[0]
            )
            seg = seg.resized(frame.shape[:2])
        start = time.perf_counter()
        seg = self.refiner.refine(frame, seg)
        refined = time.perf_counter()
        for effect in self.effects:
            frame, seg = effect.apply(frame, seg)
        self._costs = {"refine": (refined - start) * 1000.0, "effects": (time.perf_counter() - refined) * 1000.0}
        return frame

    def stage_costs(self) -> dict[str, float]:
        """The last frame's milliseconds by pipeline stage: the matte's refinement, the effects."""
        return self._costs

    def close(self) -> None:
        """Stop effect threads (background video decoding)."""
        with self._swap_lock:
            pending, self._pending = self._pending, None
        _close_all([*self.effects, *(pending.fresh if pending is not None else [])])

    def _build(self, base: _Stage, mask: MaskConfig, configs: Sequence[EffectConfig]) -> _Stage:
        reusable = list(zip(base.configs, base.effects, strict=True))
        staged = _Stage(mask, list(configs), [])
        try:
            for config in configs:
                match = next((i for i, (old, _) in enumerate(reusable) if old == config), None)
                if match is not None:
                    staged.effects.append(reusable.pop(match)[1])
                else:
                    effect = _built(config, len(staged.effects))
                    staged.fresh.append(effect)
                    staged.effects.append(effect)
        except BaseException:
            _close_all(staged.fresh)
            raise
        return staged

    def _switch_to_staged(self, *, close_in_background: bool) -> None:
        with self._swap_lock:
            staged, self._pending = self._pending, None
        if staged is not None:
            self._switch(staged, close_in_background=close_in_background)

    def _switch(self, staged: _Stage, *, close_in_background: bool) -> None:
        retired = [e for e in self.effects if not _contains(staged.effects, e)]
        if staged.mask != self.refiner.config:
            self.refiner.config = staged.mask
        self._configs = staged.configs
        self.effects = staged.effects
        if retired and close_in_background:
            # Closing joins a decoder thread (up to 2 s): never in the frame's path.
            threading.Thread(target=_close_all, args=(retired,), name="vcamseg-close-effects", daemon=True).start()
        else:
            _close_all(retired)


def _built(config: EffectConfig, index: int) -> Effect:
    """The effect for ``config``, entry ``index`` of the effects list: a file it cannot use (a
    background that does not decode) is a ConfigError that names the entry."""
    try:
        return build_effect(config)
    except ConfigError as exc:
        raise ConfigError(f"effects.{index}.{exc.message}", fix=exc.fix) from None


def _contains(effects: list[Effect], effect: Effect) -> bool:
    return any(e is effect for e in effects)


def _close_all(effects: Sequence[Effect]) -> None:
    for effect in effects:
        try:
            effect.close()
        except Exception as exc:  # one effect failing to close must not keep the others open
            log.warning("closing the %s effect failed: %s", type(effect).__name__, exc)
