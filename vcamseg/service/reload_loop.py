"""The daemon's one reload thread: every change (a file change, SIGHUP, `vcamseg set`) is queued
and applied in order, so a slow one (a camera opening) never delays SIGTERM, and the watcher and
the control socket only queue. Holds what the user wrote (`LoadedConfig`: the file, the command
line and the unsaved `set` changes) and the last reload's result."""

from __future__ import annotations

import logging
import queue
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, replace

from vcamseg.config import Config
from vcamseg.config.edit import save_overrides
from vcamseg.errors import ConfigError, VcamsegError, one_line
from vcamseg.service.config_file import ConfigFile, LoadedConfig
from vcamseg.service.notify import Notifier
from vcamseg.service.reload import Reloader, ReloadResult

log = logging.getLogger(__name__)

# SIGHUPs this soon after the first are the same reload: a burst costs a few reloads, and one
# `systemctl reload` is applied this much later (well within what anyone notices).
SIGHUP_WINDOW_S = 0.1


@dataclass
class ReloadRequest:
    trigger: str  # file | SIGHUP | set
    changes: tuple[str, ...] = ()  # set: KEY=VALUE texts
    save: bool = False  # set --save
    done: Future[ReloadResult] | None = None  # set: the result, or the error, for the control socket


class ReloadLoop:
    """``put`` requests from any thread; ``start(reloader)`` runs them (requests queued before wait
    for it); ``stop`` ends the thread after what is queued before it."""

    def __init__(self, config_file: ConfigFile, loaded: LoadedConfig, notifier: Notifier) -> None:
        self.config_file = config_file
        self.loaded = loaded  # what the user wrote and runs, apart from what waits (Reloader.running)
        self.last_result = ReloadResult("start", True, "started")
        self.reloader: Reloader | None = None
        self._notifier = notifier
        self._queue: queue.Queue[ReloadRequest | None] = queue.Queue()

    def put(self, request: ReloadRequest) -> None:
        self._queue.put(request)

    def start(self, reloader: Reloader) -> None:
        self.reloader = reloader
        threading.Thread(target=self._run, name="vcamseg-reload", daemon=True).start()

    def stop(self) -> None:
        self._queue.put(None)

    def _run(self) -> None:
        held: list[ReloadRequest | None] = []  # taken from the queue while coalescing, to be handled next
        while True:
            item = held.pop() if held else self._queue.get()
            if item is None:
                return
            if item.trigger != "set":
                item = self._coalesced(item, held)
            try:
                result = self._set(item) if item.trigger == "set" else self._reload_file(item.trigger)
            except VcamsegError as exc:
                result = ReloadResult(item.trigger, False, one_line(exc))
                if item.trigger == "set":
                    # The error says which: refused (nothing changed), or "applied, but not saved"
                    log.warning("vcamseg set %s: %s", " ".join(item.changes), one_line(exc))
                if item.done is not None:
                    item.done.set_exception(exc)
            except Exception as exc:  # a bug: report it, keep the daemon and the running config
                log.exception("reload failed")
                result = ReloadResult(item.trigger, False, f"internal error: {exc}")
                if item.done is not None:
                    item.done.set_exception(exc)
            else:
                if item.done is not None:
                    item.done.set_result(result)
            if result is not None:
                self.last_result = result

    def _coalesced(self, item: ReloadRequest, held: list[ReloadRequest | None]) -> ReloadRequest:
        """``item`` (a file change or SIGHUP) merged with the file reloads queued behind it, and for
        a SIGHUP those that come within SIGHUP_WINDOW_S: each would read the same file again, so a
        burst of SIGHUPs is a few reloads, not one per signal (file changes are debounced by the
        watcher already). The first other request (a `set`, or the stop) ends the window and is
        kept in ``held``, to be handled next, in order."""
        count = 1
        trigger = item.trigger
        deadline = time.monotonic() + (SIGHUP_WINDOW_S if trigger == "SIGHUP" else 0.0)
        while True:
            left = deadline - time.monotonic()
            try:
                following = self._queue.get(timeout=left) if left > 0 else self._queue.get_nowait()
            except queue.Empty:
                break
            if following is None or following.trigger == "set":
                held.append(following)
                break
            count += 1
            if following.trigger == "SIGHUP":
                trigger = "SIGHUP"  # a SIGHUP reapplies even an unchanged file
        if trigger == "SIGHUP":
            burst = f" ({count} requests coalesced)" if count > 1 else ""
            log.info("SIGHUP: reloading %s%s", self.config_file.path, burst)
        return ReloadRequest(trigger)

    def _reload_file(self, trigger: str) -> ReloadResult | None:
        if trigger == "SIGHUP":
            self._notifier.reloading()
        try:
            text = self.config_file.read_text()
            if text is None and self.loaded.text is not None:
                log.warning("%s was removed: the running configuration stays", self.config_file.path)
                return None
            if trigger == "file" and text == self.loaded.text:
                return None  # touched or written with the same content (also our own `set --save`)
            loaded = self.config_file.load(text)
            result = self._apply(loaded.config, trigger)
        except ConfigError as exc:
            log.error("config not applied, the running configuration stays: %s", one_line(exc))
            raise
        finally:
            if trigger == "SIGHUP":
                self._notifier.ready("reloaded")
        if self.loaded.runtime_changes:
            log.info("the file replaces the unsaved runtime changes: %s", ", ".join(self.loaded.runtime_changes))
        self.loaded = loaded
        return result

    def _set(self, item: ReloadRequest) -> ReloadResult:
        path = self.config_file.path
        loaded = self.config_file.with_changes(self.loaded, item.changes)
        result = self._apply(loaded.config, "set")
        if item.save:
            before = self.config_file.read_text()
            try:
                text = save_overrides(path, item.changes)
            except ConfigError as exc:
                # Applied but not saved: what runs is the change, kept as unsaved (runtime) until
                # the file changes, and the reply says so.
                self.loaded = loaded
                raise ConfigError(f"applied, but not saved: {exc.message}", fix=exc.fix) from None
            kept = tuple(c for c in loaded.runtime_changes if c not in item.changes)
            if before == self.loaded.text:
                # The file was what runs: it now holds these changes, and its reload changes nothing.
                loaded = replace(loaded, text=text, runtime_changes=kept)
            log.info("saved to %s: %s", path, ", ".join(item.changes))
        self.loaded = loaded
        return result

    def _apply(self, config: Config, trigger: str) -> ReloadResult:
        assert self.reloader is not None
        result = self.reloader.apply(config, trigger)
        log.info("config %s: %s", "changed" if trigger == "set" else f"reloaded ({trigger})", result.message)
        return result
