"""The one interface every effect implements (`Effect`), the base class that implements its
boring part (`EffectBase`), and `WarnOnce`."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from typing import Generic, Protocol, TypeVar

import numpy as np

from vcamseg.config.effects import EffectConfig
from vcamseg.segmentation.result import Segmentation

ConfigT = TypeVar("ConfigT", bound=EffectConfig, covariant=True)


class Effect(Protocol):
    """One entry of the config's ``effects`` list, run by the compositor on every frame, in order.

    Duties of an implementation:

    * ``apply(frame, seg)`` gets the frame (BGR uint8, H x W x 3) and its `Segmentation` of the
      same size, its ``alpha`` the refined matte, and returns the frame it produced and the
      segmentation that goes with it; the compositor hands both to the next effect. An effect
      that only draws returns ``seg`` as it got it; one that moves pixels (``mirror``) returns
      the moved frame and the segmentation moved the same way (``seg.flipped()``), so masks stay
      aligned with the picture.
    * It may write into the frame it was given (the pipeline hands over a frame it owns) and
      should, to avoid copies; what it returns must not be one of its own reused buffers (the
      pipeline may still hold the frame while the next one is composited). It never writes into
      ``seg``'s arrays (they are read-only, and shared with other frames).
    * The same ``seg`` may come with several frames (the model slower than the camera).
    * A frame it cannot work on (no part map, no people) is passed through, with a warning
      once (`WarnOnce`), never an exception that would stop the camera.
    * A file it cannot use (a background that does not decode) is a ConfigError from the
      constructor, which the compositor prefixes with the list entry.
    * ``close()`` releases threads and files; the compositor calls it once, when the effect is
      removed (live reload) or the compositor closes, never while ``apply`` runs.
    * ``apply`` runs on one thread (the compositing thread); the constructor and ``close`` may run
      on another (a live reload builds effects off the frame's path).
    """

    @property
    def config(self) -> EffectConfig:
        """The options it was built from (its list entry): an unchanged entry keeps its effect."""
        ...

    def apply(self, frame: np.ndarray, seg: Segmentation) -> tuple[np.ndarray, Segmentation]:
        """The composited frame (may be ``frame`` itself, modified in place) and its segmentation."""
        ...

    def close(self) -> None:
        """Release threads or files (called once, when the effect is removed)."""
        ...


class EffectBase(ABC, Generic[ConfigT]):
    """`Effect` for an implementation: keeps its config and has nothing to close."""

    def __init__(self, config: ConfigT) -> None:
        self._config = config

    @property
    def config(self) -> ConfigT:
        return self._config

    @abstractmethod
    def apply(self, frame: np.ndarray, seg: Segmentation) -> tuple[np.ndarray, Segmentation]: ...

    def close(self) -> None:  # deliberately empty: most effects hold no thread or file
        """Nothing to release."""


class WarnOnce:
    """Logs a message once per effect instance: an effect that cannot do its work on a frame
    (no part map, no people) passes the frame through rather than stopping the camera."""

    def __init__(self) -> None:
        self._said: set[str] = set()

    def __call__(self, logger: logging.Logger, message: str) -> None:
        if message not in self._said:
            self._said.add(message)
            logger.warning(message)
