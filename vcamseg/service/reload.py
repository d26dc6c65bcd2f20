"""Apply a new configuration to the running pipeline without reopening the virtual camera
(applications reading it never see it go away).

How a change to each key applies is declared once, on the config models (`vcamseg.config.live`;
the README's table and the example config are rendered from it). The reloader finds the keys
that differ and acts on their marks:

* ``Live.REBUILD`` (mask, effects): built here (`Compositor.stage`), switched to between frames;
* ``Live.REOPEN`` (the source): opened here (a missing file is refused), then switched to;
* ``Live.AT_ONCE``: the pipeline's `PipelineSettings` (``set_settings``), the log level, and the
  intervals the daemon's reporter reads;
* ``Live.MODEL`` (model, segmentation): a new Segmenter is loaded in the background while the old
  one keeps running, then swapped in (segmentation alone: the loaded model is shared); a load
  that fails is logged and the running model stays;
* ``Live.RESTART``: reported as "on restart" (reopening the device would cut every reader's stream).

A reload is all or nothing up to the model: if the new source cannot be opened or an effect cannot
be built, nothing changes.

What the user wrote and what runs are kept apart: the daemon keeps the former (`LoadedConfig`),
the reloader the latter (``running``): the new configuration except the RESTART keys (until the
next start) and the MODEL keys (until the new model is ready; a failed load keeps the old ones).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from vcamseg.config import Config, live
from vcamseg.config.live import Live
from vcamseg.config.service import ServiceConfig
from vcamseg.effects.compositor import Compositor
from vcamseg.errors import ConfigError, InputError, one_line
from vcamseg.io.sources import Source
from vcamseg.pipeline import builder
from vcamseg.pipeline.pipeline import Pipeline
from vcamseg.pipeline.settings import settings_from

log = logging.getLogger(__name__)


@dataclass
class ReloadResult:
    """What one reload did; ``segmenter`` is updated by the background load it started."""

    trigger: str  # start | file | SIGHUP | set
    ok: bool
    message: str
    applied: list[str] = field(default_factory=list)  # sections
    restart_needed: list[str] = field(default_factory=list)  # keys that take effect on the next start
    segmenter: str = ""  # a new model or segmentation: "" (none) | loading | switched | failed: why
    segmenter_change: str = ""  # model | segmentation (the model unchanged: its loaded weights are shared)
    at: float = field(default_factory=time.time)

    def as_json(self) -> dict[str, Any]:
        return {
            "trigger": self.trigger,
            "ok": self.ok,
            "message": self.message,
            "applied": self.applied,
            "restart_needed": self.restart_needed,
            "segmenter": self.segmenter,
            "segmenter_change": self.segmenter_change,
            "at": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(self.at)),
        }


class Reloader:
    """Holds what runs (``running``) and applies new configurations to ``pipeline``. Calls are
    serialised; ``on_service`` gets the service section after a log level change."""

    def __init__(
        self, pipeline: Pipeline, compositor: Compositor, config: Config, on_service: Callable[[ServiceConfig], None]
    ) -> None:
        self.pipeline = pipeline
        self.compositor = compositor
        self.running = config  # replaced as a whole, never changed in place
        self._on_service = on_service
        self._lock = threading.RLock()
        self._model_target: Config | None = None  # the model (and segmentation) being loaded
        self._model_generation = 0

    def apply(self, new: Config, trigger: str) -> ReloadResult:
        """Apply what differs between what runs and ``new``. Raises ConfigError (and changes
        nothing) when the new source or an effect cannot be opened."""
        with self._lock:
            old = self.running
            by_mark = _by_mark(differences(old, new))
            reopen_source, restart_needed = bool(by_mark[Live.REOPEN]), by_mark[Live.RESTART]
            opened = self._probe_source(new) if reopen_source else None
            if by_mark[Live.REBUILD]:
                try:
                    self.compositor.stage(new.mask, new.effects)
                except Exception as exc:
                    if opened is not None:
                        opened.close()
                    raise ConfigError(
                        f"effects: cannot be built: {exc}", fix="check the effect's files (background image or video)"
                    ) from None
            # Committed from here on.
            if reopen_source:
                self.pipeline.set_source(builder.live_source_factory(new, opened))
                log.info(
                    "source: switching to %s (the output keeps %dx%d; frames are scaled to it)",
                    new.source.device,
                    self.pipeline.width,
                    self.pipeline.height,
                )
            self.running = _replaced(new, [*restart_needed, *by_mark[Live.MODEL]], old)
            self.pipeline.set_settings(settings_from(self.running))
            if new.service.log_level != old.service.log_level:
                self._on_service(self.running.service)

            applied = _sections(by_mark[Live.REBUILD] + by_mark[Live.REOPEN] + by_mark[Live.AT_ONCE])
            result = ReloadResult(trigger, True, "", applied, restart_needed)
            if by_mark[Live.MODEL]:
                result.segmenter_change = "model" if new.model != old.model else "segmentation"
                self._change_model(new, result)
            elif self._model_target is not None:  # changed back while loading: the load is dropped
                self._model_generation += 1
                self._model_target = None
            result.message = _summary(result)
            for key in restart_needed:
                log.warning(
                    "%s changed: takes effect when vcamseg restarts (`systemctl --user restart vcamseg`); "
                    "the virtual camera stays open meanwhile",
                    key,
                )
            return result

    def _probe_source(self, new: Config) -> Source | None:
        try:
            return builder.probe_source(new)
        except InputError as exc:
            raise ConfigError(f"source.device: {exc.message}", fix=exc.fix) from None

    def _change_model(self, new: Config, result: ReloadResult) -> None:
        result.segmenter = "loading"
        target = self._model_target
        if target is not None and (target.model, target.segmentation) == (new.model, new.segmentation):
            return  # that load is already under way
        self._model_generation += 1
        self._model_target = new
        threading.Thread(
            target=self._load_model, args=(new, self._model_generation, result), name="vcamseg-model-load", daemon=True
        ).start()

    def _load_model(self, new: Config, generation: int, result: ReloadResult) -> None:
        start = time.monotonic()
        if result.segmenter_change == "model":
            log.info("loading the new model in the background; the running one stays until it is ready")
        try:
            segmenter = builder.build_segmenter(new, running=self.pipeline.segmenter)
            segmenter.prepare(self.pipeline.height, self.pipeline.width)
        except Exception as exc:  # a damaged or missing model, a backend that cannot start, ...
            with self._lock:
                if generation == self._model_generation:
                    self._model_target = None
                    result.segmenter = f"failed: {one_line(exc)}"
                    result.ok = False
                    result.message = _summary(result)
            log.error("model change not applied, the running model stays: %s", one_line(exc))
            return
        with self._lock:
            if generation != self._model_generation:
                return  # superseded by a newer change while loading
            self.pipeline.set_segmenter(segmenter)
            self.running = _replaced(self.running, live.keys(Live.MODEL), new)
            self._model_target = None
            result.segmenter = "switched"
            result.message = _summary(result)
        log.info("model switched after %.1f s: inference on %s", time.monotonic() - start, segmenter.device)


def differences(old: BaseModel, new: BaseModel, prefix: str = "") -> list[str]:
    """Dotted keys whose values differ (sections walked into, lists compared whole), in field order."""
    keys: list[str] = []
    for name in type(old).model_fields:
        a, b = getattr(old, name), getattr(new, name)
        if isinstance(a, BaseModel) and isinstance(b, BaseModel) and type(a) is type(b):
            keys += differences(a, b, f"{prefix}{name}.")
        elif a != b:
            keys.append(f"{prefix}{name}")
    return keys


def _by_mark(keys: Iterable[str]) -> dict[Live, list[str]]:
    """``keys`` grouped by how a change to them applies (a key the policy does not list, inside a
    value it treats as one, takes the mark of the nearest key above it)."""
    policy = live.policy()
    grouped: dict[Live, list[str]] = {mark: [] for mark in Live}
    for key in keys:
        probe = key
        while probe not in policy and "." in probe:
            probe = probe.rpartition(".")[0]
        grouped[policy.get(probe, Live.RESTART)].append(key)
    return grouped


def _sections(keys: Iterable[str]) -> list[str]:
    """The sections of ``keys``, in the config's order."""
    heads = {key.partition(".")[0] for key in keys}
    return [name for name in Config.model_fields if name in heads]


def _replaced(config: Any, keys: Iterable[str], source: Any) -> Any:
    """``config`` with the values at the dotted ``keys`` taken from ``source`` (a copy; never validated
    again: both were validated)."""
    nested: dict[str, list[str]] = {}
    for key in keys:
        head, _, rest = key.partition(".")
        nested.setdefault(head, []).append(rest)
    update: dict[str, Any] = {}
    for head, rests in nested.items():
        if "" in rests:
            update[head] = getattr(source, head)
        else:
            update[head] = _replaced(getattr(config, head), rests, getattr(source, head))
    return config.model_copy(update=update) if update else config


def _summary(result: ReloadResult) -> str:
    parts = [f"applied {', '.join(result.applied)}" if result.applied else ""]
    if result.segmenter:
        parts.append(f"{result.segmenter_change} {result.segmenter}")
    if result.restart_needed:
        parts.append(f"on restart: {', '.join(result.restart_needed)}")
    return "; ".join(p for p in parts if p) or "no change"
