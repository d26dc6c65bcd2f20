"""The daemon: the pipeline plus live reload, the control socket and systemd notifications.

Threads: the main thread waits for signals and keeps systemd informed (watchdog, status line);
one reload thread applies every change in order (file changes, SIGHUP, `vcamseg set`), so a
slow one (a camera opening) never delays SIGTERM; the watcher and the control socket only queue.
"""

from __future__ import annotations

import base64
import logging
import os
import queue
import signal
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, replace
from typing import Any

import cv2

from vcamseg import __version__
from vcamseg.config import Config
from vcamseg.config.edit import save_overrides
from vcamseg.config.service import ServiceConfig
from vcamseg.effects.compositor import Compositor
from vcamseg.errors import ConfigError, VcamsegError, one_line
from vcamseg.logs import set_log_level
from vcamseg.pipeline import Pipeline, build_pipeline
from vcamseg.pipeline.frames import Frame
from vcamseg.service.client import socket_path
from vcamseg.service.config_source import ConfigSource, Loaded
from vcamseg.service.control import ControlServer
from vcamseg.service.notify import Notifier
from vcamseg.service.reload import Reloader, ReloadResult
from vcamseg.service.watch import ConfigWatcher

log = logging.getLogger(__name__)

STOP_TIMEOUT_S = 0.8  # for the pipeline: the whole stop stays within a second of SIGTERM
SET_TIMEOUT_S = 20.0  # a `vcamseg set` waits this long for its turn and its result
# SIGHUPs this soon after the first are the same reload: a burst costs a few reloads, and one
# `systemctl reload` is applied this much later (well within what anyone notices).
SIGHUP_WINDOW_S = 0.1


@dataclass
class _Reload:
    trigger: str  # file | SIGHUP | set
    changes: tuple[str, ...] = ()
    save: bool = False
    done: Future[ReloadResult] | None = None


class Daemon:
    """``run()`` until SIGTERM/SIGINT (or the end of a finite source); returns the exit code.
    ``log_level``: the command line's --log-level, which wins over service.log_level."""

    def __init__(self, source: ConfigSource, log_level: str | None = None) -> None:
        self.source = source
        self.cli_log_level = log_level
        self.loaded: Loaded = source.load(source.read_text())  # ConfigError: before anything starts
        self.started = time.monotonic()
        self.notifier = Notifier()
        self.last_result = ReloadResult("start", True, "started")
        self.last_frame: Frame | None = None
        self._stop = threading.Event()
        self._reloads: queue.Queue[_Reload | None] = queue.Queue()
        self.server: ControlServer | None = None
        self.pipeline: Pipeline | None = None
        self.reloader: Reloader | None = None

    # --- lifecycle ---------------------------------------------------------------------------------

    def run(self) -> int:
        config = self.loaded.config
        self._apply_log_level(config.service)
        if config.service.control_socket:
            # Before the model loads: a second daemon on the same socket fails at once.
            self.server = ControlServer(socket_path(config.service.control_socket_path), self._handle)
            self.server.start()
        try:
            return self._run(config)
        finally:
            if self.server is not None:
                self.server.stop()

    def _run(self, config: Config) -> int:
        compositor = Compositor(config.mask, config.effects)
        pipeline = build_pipeline(config, paced=True, compositor=compositor, on_frame_sent=self._frame_sent)
        self.pipeline = pipeline
        self.reloader = Reloader(pipeline, compositor, config, self._apply_log_level)
        previous = {sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)}
        watcher = None
        try:
            pipeline.start()
            threading.Thread(target=self._reload_loop, name="vcamseg-reload", daemon=True).start()
            if config.service.watch_config:
                watcher = ConfigWatcher(self.source.path, lambda: self._reloads.put(_Reload("file")),
                                        config.service.reload_debounce_ms)
                watcher.start()
            log.info("running; config %s%s", self.source.path, "" if self.source.path.exists() else
                     " (not there yet: defaults, and it is picked up when created)")
            self.notifier.ready("starting: loading the model")
            self._main_loop(pipeline)
            self.notifier.stopping()
            if watcher is not None:
                watcher.stop()
            self._reloads.put(None)
            pipeline.stop(timeout=STOP_TIMEOUT_S)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        log.info("stopped: %s", pipeline.stats.log_line())
        if pipeline.error is not None:
            raise pipeline.error
        return 0

    def _on_signal(self, signum: int, _frame: object) -> None:
        if signum == signal.SIGHUP:
            self._reloads.put(_Reload("SIGHUP"))  # logged by the reload thread, once per coalesced burst
            return
        log.info("%s: stopping", signal.Signals(signum).name)
        self._stop.set()

    def _main_loop(self, pipeline: Pipeline) -> None:
        next_status = 0.0
        last_dropped = 0
        while not self._stop.wait(0.1):
            if pipeline.wait(0):
                break  # a finite source ended, or a stage failed (pipeline.error)
            self.notifier.watchdog(self._healthy(pipeline))
            now = time.monotonic()
            if now >= next_status:
                assert self.reloader is not None
                next_status = now + self.reloader.config.service.notify_status_interval_s
                dropped = pipeline.stats.frames_dropped
                self.notifier.status(self._status_line(pipeline, dropped - last_dropped))
                last_dropped = dropped

    def _healthy(self, pipeline: Pipeline) -> bool:
        """The send loop turns at least once per idle frame or every 0.2 s: if it stalls, the
        watchdog ping stops and systemd restarts the daemon."""
        idle_fps = pipeline.config.output.idle.fps
        return time.monotonic() - pipeline.heartbeat < max(5.0, 2.0 / idle_fps + 1.0)

    @staticmethod
    def _status_line(pipeline: Pipeline, dropped: int) -> str:
        snap = pipeline.stats.snapshot()
        state = snap["state"]
        if state["idle"] == "idle":
            head = "idle: no application reads the camera"
        elif snap["frames"]["out"] == 0:
            head = "starting: loading the model"
        else:
            head = f"{snap['fps']['now']:.1f} fps, {dropped} dropped"
        return (f"{head}; source {state['source']}, output {state['sink']}, readers {state['readers']}, "
                f"inference on {snap['inference_device']}")

    def _frame_sent(self, kind: str, frame: Frame | None) -> None:
        if frame is not None:
            self.last_frame = frame  # the send thread: a reference, encoded only when asked for

    def _apply_log_level(self, service: ServiceConfig) -> None:
        if self.cli_log_level is None:
            set_log_level(service.log_level)

    # --- reloads (one thread, in order) --------------------------------------------------------------

    def _reload_loop(self) -> None:
        held: list[_Reload | None] = []  # taken from the queue while coalescing, to be handled next
        while True:
            item = held.pop() if held else self._reloads.get()
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

    def _coalesced(self, item: _Reload, held: list[_Reload | None]) -> _Reload:
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
                following = self._reloads.get(timeout=left) if left > 0 else self._reloads.get_nowait()
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
            log.info("SIGHUP: reloading %s%s", self.source.path, burst)
        return _Reload(trigger)

    def _reload_file(self, trigger: str) -> ReloadResult | None:
        if trigger == "SIGHUP":
            self.notifier.reloading()
        try:
            text = self.source.read_text()
            if text is None and self.loaded.text is not None:
                log.warning("%s was removed: the running configuration stays", self.source.path)
                return None
            if trigger == "file" and text == self.loaded.text:
                return None  # touched or written with the same content (also our own `set --save`)
            loaded = self.source.load(text)
            result = self._apply(loaded.config, trigger)
        except ConfigError as exc:
            log.error("config not applied, the running configuration stays: %s", one_line(exc))
            raise
        finally:
            if trigger == "SIGHUP":
                self.notifier.ready("reloaded")
        if self.loaded.runtime_changes:
            log.info("the file replaces the unsaved runtime changes: %s", ", ".join(self.loaded.runtime_changes))
        self.loaded = loaded
        return result

    def _set(self, item: _Reload) -> ReloadResult:
        loaded = self.source.with_changes(self.loaded, item.changes)
        result = self._apply(loaded.config, "set")
        if item.save:
            before = self.source.read_text()
            try:
                text = save_overrides(self.source.path, item.changes)
            except ConfigError as exc:
                # Applied but not saved: what runs is the change, kept as unsaved (runtime) until
                # the file changes, and the reply says so.
                self.loaded = loaded
                raise ConfigError(f"applied, but not saved: {exc.message}", fix=exc.fix) from None
            kept = tuple(c for c in loaded.runtime_changes if c not in item.changes)
            if before == self.loaded.text:
                # The file was what runs: it now holds these changes, and its reload changes nothing.
                loaded = replace(loaded, text=text, runtime_changes=kept)
            log.info("saved to %s: %s", self.source.path, ", ".join(item.changes))
        self.loaded = loaded
        return result

    def _apply(self, config: Config, trigger: str) -> ReloadResult:
        assert self.reloader is not None
        result = self.reloader.apply(config, trigger)
        log.info("config %s: %s", "changed" if trigger == "set" else f"reloaded ({trigger})", result.message)
        return result

    # --- control socket ------------------------------------------------------------------------------

    def _handle(self, request: dict[str, Any]) -> dict[str, Any]:
        command = request.get("cmd")
        if command == "status":
            return {"status": self.status()}
        if command == "set":
            return {"result": self._request_set(request)}
        if command == "snapshot":
            return self._snapshot()
        raise VcamsegError(f"unknown request {command!r}", fix="use status, set or snapshot")

    def status(self) -> dict[str, Any]:
        pipeline, reloader = self.pipeline, self.reloader
        config = reloader.config if reloader is not None else self.loaded.config
        return {
            "pid": os.getpid(),
            "version": __version__,
            "uptime_s": round(time.monotonic() - self.started, 1),
            "config_file": str(self.source.path),
            "config_file_exists": self.source.path.exists(),
            "runtime_changes": list(self.loaded.runtime_changes),
            "last_reload": self.last_result.as_json(),
            "idle": pipeline.idle if pipeline is not None else False,
            "pipeline": pipeline.stats.snapshot() if pipeline is not None else None,
            "config": config.model_dump(mode="json"),
        }

    def _request_set(self, request: dict[str, Any]) -> dict[str, Any]:
        changes = request.get("changes")
        if not isinstance(changes, list) or not changes or not all(isinstance(c, str) for c in changes):
            raise VcamsegError("set needs changes: a list of KEY=VALUE texts", fix="vcamseg set KEY=VALUE ...")
        done: Future[ReloadResult] = Future()
        self._reloads.put(_Reload("set", tuple(changes), bool(request.get("save")), done))
        try:
            return done.result(timeout=SET_TIMEOUT_S).as_json()
        except TimeoutError:
            raise VcamsegError(f"the change was not applied within {SET_TIMEOUT_S:g} s",
                               fix="see the daemon's log; `vcamseg status` shows the last result") from None

    def _snapshot(self) -> dict[str, Any]:
        frame = self.last_frame
        if frame is None:
            state = self.pipeline.stats.source_state if self.pipeline is not None else "starting"
            raise VcamsegError(f"no frame sent yet (source {state})", fix="try again once the model has loaded")
        # Fast compression: the encoding runs beside the pipeline, on the same cores.
        ok, png = cv2.imencode(".png", frame.image, [cv2.IMWRITE_PNG_COMPRESSION, 1])
        if not ok:
            raise VcamsegError("the frame could not be encoded as PNG")
        height, width = frame.image.shape[:2]
        return {"png_base64": base64.b64encode(png.tobytes()).decode("ascii"), "width": width, "height": height,
                "age_s": round(time.monotonic() - frame.t_capture, 3)}
