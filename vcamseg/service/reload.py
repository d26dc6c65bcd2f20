"""Apply a new configuration to the running pipeline, section by section, without reopening the
virtual camera (applications reading it never see it go away). How each key applies is declared
once, in `vcamseg.config.live` (the README's table and the example config are rendered from it):

* mask, effects — built here, switched to between two frames; the mask's temporal state stays;
* model, segmentation — a new Segmenter is loaded in the background while the old one keeps
  running, then swapped in (segmentation alone: the loaded model is shared); a load that fails is
  logged and the running model stays;
* source — opened here (a missing file is refused), the camera is switched to it; the keys read
  while running apply at once;
* pipeline, and the keys of output and service read while running — at once;
* the rest of output and service — on the next start: reopening the device would cut the stream
  of every application reading it.

A reload is all or nothing up to the model: if the new source cannot be opened or an effect cannot
be built, nothing changes and the running configuration stays.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from vcamseg.config import Config, live
from vcamseg.config.live import Live
from vcamseg.config.model import ModelConfig
from vcamseg.config.segmentation import SegmentationConfig
from vcamseg.config.service import ServiceConfig
from vcamseg.effects.compositor import Compositor
from vcamseg.errors import ConfigError, InputError, one_line
from vcamseg.io.sources import Source, SourceError, open_source, source_factory, source_kind
from vcamseg.pipeline import Pipeline

log = logging.getLogger(__name__)

# Keys read while running (everything else in these sections was used to build something).
LIVE_SOURCE_KEYS = live.keys(Live.AT_ONCE, "source")
LIVE_OUTPUT_KEYS = live.keys(Live.AT_ONCE, "output")
LIVE_SERVICE_KEYS = live.keys(Live.AT_ONCE, "service")


@dataclass
class ReloadResult:
    """What one reload did; ``model`` is updated by the background load it started."""

    trigger: str  # start | file | SIGHUP | set
    ok: bool
    message: str
    applied: list[str] = field(default_factory=list)  # sections
    restart_needed: list[str] = field(default_factory=list)  # keys that take effect on the next start
    segmenter: str = ""  # a new model or segmentation: "" (none) | loading | switched | failed: why
    segmenter_change: str = ""  # model | segmentation (the model unchanged: its loaded weights are shared)
    at: float = field(default_factory=time.time)

    def as_json(self) -> dict[str, Any]:
        return {"trigger": self.trigger, "ok": self.ok, "message": self.message, "applied": self.applied,
                "restart_needed": self.restart_needed, "segmenter": self.segmenter,
                "segmenter_change": self.segmenter_change,
                "at": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(self.at))}


class Reloader:
    """Holds the running (effective) configuration and applies new ones to ``pipeline``. Calls are
    serialised; ``on_service`` gets the service section after a change (log level)."""

    def __init__(self, pipeline: Pipeline, compositor: Compositor, config: Config,
                 on_service: Callable[[ServiceConfig], None]) -> None:
        self.pipeline = pipeline
        self.compositor = compositor
        self.config = config  # what runs: replaced as a whole, never changed in place
        self._on_service = on_service
        self._lock = threading.RLock()
        self._model_target: tuple[ModelConfig, SegmentationConfig] | None = None  # loading
        self._model_generation = 0

    def apply(self, new: Config, trigger: str) -> ReloadResult:
        """Apply what differs between the running config and ``new``. Raises ConfigError (and changes
        nothing) when the new source or an effect cannot be opened."""
        with self._lock:
            old = self.config
            changed = [name for name in Config.model_fields if getattr(new, name) != getattr(old, name)]
            output_keys, service_keys = _differences(old.output, new.output), _differences(old.service, new.service)
            restart_needed = [f"output.{k}" for k in output_keys if k not in LIVE_OUTPUT_KEYS]
            restart_needed += [f"service.{k}" for k in service_keys if k not in LIVE_SERVICE_KEYS]
            reopen_source = any(k not in LIVE_SOURCE_KEYS for k in _differences(old.source, new.source))
            model_change = (new.model, new.segmentation) != (old.model, old.segmentation)

            opened = self._open_source(new) if reopen_source else None
            if "mask" in changed or "effects" in changed:
                try:
                    self.compositor.stage(new.mask, new.effects)
                except Exception as exc:
                    if opened is not None:
                        opened.close()
                    raise ConfigError(f"effects: cannot be built: {exc}",
                                      fix="check the effect's files (background image or video)") from None
            # Committed from here on.
            if reopen_source:
                self.pipeline.set_source(source_factory(new.source, paced=True, first=opened))
                log.info("source: switching to %s (the output keeps %dx%d; frames are scaled to it)",
                         new.source.device, self.pipeline.width, self.pipeline.height)
            if new.pipeline != old.pipeline:
                self.pipeline.set_pipeline_config(new.pipeline)
            effective = new.model_copy(update={
                "model": old.model, "segmentation": old.segmentation,
                "output": _merged(old.output, new.output, LIVE_OUTPUT_KEYS),
                "service": _merged(old.service, new.service, LIVE_SERVICE_KEYS)})
            self.config = effective
            self.pipeline.set_config(effective)
            if new.service.log_level != old.service.log_level:
                self._on_service(effective.service)

            applied = [name for name in changed if name not in ("model", "segmentation", "output", "service")]
            applied += [name for name, keys, live in (("output", output_keys, LIVE_OUTPUT_KEYS),
                                                      ("service", service_keys, LIVE_SERVICE_KEYS))
                        if any(k in live for k in keys)]
            result = ReloadResult(trigger, True, "", applied, restart_needed)
            if model_change:
                result.segmenter_change = "model" if new.model != old.model else "segmentation"
                self._change_model(new.model, new.segmentation, result)
            elif self._model_target is not None:  # changed back while loading: the load is dropped
                self._model_generation += 1
                self._model_target = None
            result.message = _summary(result)
            for key in restart_needed:
                log.warning("%s changed: takes effect when vcamseg restarts (`systemctl --user restart vcamseg`); "
                            "the virtual camera stays open meanwhile", key)
            return result

    def _open_source(self, new: Config) -> Source | None:
        """The new source, opened before anything changes, so a missing file is refused; None: a
        camera (opened by the capture thread once it has closed the old one: a camera may not be
        opened twice) or not there yet (retried by the pipeline)."""
        if source_kind(new.source.device) == "camera":
            return None
        try:
            return open_source(new.source, paced=True)
        except SourceError as exc:
            log.info("new source not available yet (%s): the pipeline keeps trying", exc)
            return None
        except InputError as exc:
            raise ConfigError(f"source.device: {exc.message}", fix=exc.fix) from None

    def _change_model(self, model: ModelConfig, segmentation: SegmentationConfig, result: ReloadResult) -> None:
        if self._model_target == (model, segmentation):
            result.segmenter = "loading"  # that load is already under way
            return
        self._model_generation += 1
        self._model_target = (model, segmentation)
        result.segmenter = "loading"
        threading.Thread(target=self._load_model, args=(model, segmentation, self._model_generation, result),
                         name="vcamseg-model-load", daemon=True).start()

    def _load_model(self, model: ModelConfig, segmentation: SegmentationConfig, generation: int,
                    result: ReloadResult) -> None:
        from vcamseg.models.resolve import resolve_model_files
        from vcamseg.segmentation.loader import load_model
        from vcamseg.segmentation.segmenter import Segmenter

        start = time.monotonic()
        running = self.pipeline.segmenter
        try:
            if isinstance(running, Segmenter) and running.model.config == model:
                segmenter = running.reconfigured(segmentation)
            else:
                log.info("loading the new model in the background; the running one stays until it is ready")
                segmenter = Segmenter(load_model(model, resolve_model_files(model)), segmentation)
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
            self.config = self.config.model_copy(update={"model": model, "segmentation": segmentation})
            self.pipeline.set_config(self.config)
            self._model_target = None
            result.segmenter = "switched"
            result.message = _summary(result)
        log.info("model switched after %.1f s: inference on %s", time.monotonic() - start, segmenter.device)


def _differences(old: BaseModel, new: BaseModel, prefix: str = "") -> list[str]:
    """Dotted keys (relative to the section) whose values differ."""
    keys: list[str] = []
    for name in type(old).model_fields:
        a, b = getattr(old, name), getattr(new, name)
        if isinstance(a, BaseModel) and isinstance(b, BaseModel) and type(a) is type(b):
            keys += _differences(a, b, f"{prefix}{name}.")
        elif a != b:
            keys.append(f"{prefix}{name}")
    return keys


def _merged(old: BaseModel, new: BaseModel, live: frozenset[str]) -> Any:
    """``old`` with the ``live`` keys (dotted, one level of nesting) taken from ``new``."""
    update: dict[str, Any] = {}
    for key in live:
        head, _, rest = key.partition(".")
        if rest:
            inner = update.get(head, getattr(old, head))
            update[head] = inner.model_copy(update={rest: getattr(getattr(new, head), rest)})
        else:
            update[head] = getattr(new, head)
    return old.model_copy(update=update)


def _summary(result: ReloadResult) -> str:
    parts = [f"applied {', '.join(result.applied)}" if result.applied else ""]
    if result.segmenter:
        parts.append(f"{result.segmenter_change} {result.segmenter}")
    if result.restart_needed:
        parts.append(f"on restart: {', '.join(result.restart_needed)}")
    return "; ".join(p for p in parts if p) or "no change"
