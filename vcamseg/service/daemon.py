"""The daemon's lifecycle: the pipeline plus live reload, the control socket and systemd.

Threads: the main thread waits for signals and keeps systemd informed (watchdog, periodic
reporting); one reload thread (`reload_loop`) applies every change in order; the watcher and the
control socket (`handlers`) only queue or read.

Start order: control socket (before the model loads: a second daemon on the same socket fails at
once), the settings page's process (service.ui, off by default), pipeline (its parts from
`vcamseg.pipeline.builder`), reload thread, file watcher, READY. Stop order, within a second of
SIGTERM: STOPPING (and SIGTERM to the settings page), watcher, reload thread, pipeline (camera and
virtual camera released, files finished), the settings page, control socket.
"""

from __future__ import annotations

import logging
import signal
import threading
import time

from vcamseg.config import Config
from vcamseg.config.service import ServiceConfig
from vcamseg.logs import set_log_level
from vcamseg.pipeline import builder
from vcamseg.pipeline.frames import Frame
from vcamseg.pipeline.pipeline import Pipeline
from vcamseg.pipeline.report import Reporter
from vcamseg.pipeline.send import SendKind
from vcamseg.service.client import socket_path
from vcamseg.service.config_file import ConfigFile, LoadedConfig
from vcamseg.service.control import ControlServer
from vcamseg.service.handlers import ControlHandlers
from vcamseg.service.notify import Notifier
from vcamseg.service.reload import Reloader
from vcamseg.service.reload_loop import ReloadLoop, ReloadRequest
from vcamseg.service.ui_child import UiChild
from vcamseg.service.watch import ConfigWatcher

log = logging.getLogger(__name__)

STOP_TIMEOUT_S = 0.8  # for the pipeline: the whole stop stays within a second of SIGTERM
MAIN_LOOP_S = 0.1  # how often the main thread checks the pipeline, pings the watchdog, reports


class Daemon:
    """``run()`` until SIGTERM/SIGINT (or the end of a finite source); returns the exit code.
    ``log_level``: the command line's --log-level, which wins over service.log_level."""

    def __init__(self, config_file: ConfigFile, log_level: str | None = None) -> None:
        self.config_file = config_file
        self.cli_log_level = log_level
        loaded = config_file.load(config_file.read_text())  # ConfigError: before anything starts
        self.started = time.monotonic()
        self.notifier = Notifier()
        self.reloads = ReloadLoop(config_file, loaded, self.notifier)
        self.last_frame: Frame | None = None
        self._stop = threading.Event()
        self.server: ControlServer | None = None
        self.ui: UiChild | None = None  # service.ui.enabled: the settings page, a child process
        self.pipeline: Pipeline | None = None
        self.reloader: Reloader | None = None

    @property
    def loaded(self) -> LoadedConfig:
        """What the user wrote: the file, the command line and unsaved `vcamseg set` changes."""
        return self.reloads.loaded

    @property
    def running_config(self) -> Config:
        """What runs (`Reloader.running`): ``loaded`` except what waits for a restart or a model."""
        return self.reloader.running if self.reloader is not None else self.reloads.loaded.config

    # --- lifecycle ---------------------------------------------------------------------------------

    def run(self) -> int:
        config = self.loaded.config
        self._apply_log_level(config.service)
        if config.service.control_socket:
            self.server = ControlServer(socket_path(config.service.control_socket_path), ControlHandlers(self))
            self.server.start()
            if config.service.ui.enabled:
                self.ui = UiChild(self.server.path, config.service.ui.port)
                self.ui.start()
        elif config.service.ui.enabled:
            log.warning("service.ui is enabled, but the settings page needs service.control_socket: not started")
        try:
            return self._run(config)
        finally:
            if self.ui is not None:
                self.ui.stop()
            if self.server is not None:
                self.server.stop()

    def _run(self, config: Config) -> int:
        compositor = builder.build_compositor(config)
        pipeline = builder.build_pipeline(config, paced=True, compositor=compositor, on_frame_sent=self._frame_sent)
        self.pipeline = pipeline
        self.reloader = Reloader(pipeline, compositor, config, self._apply_log_level)
        reporter = Reporter(pipeline.stats, on_status=self.notifier.status)
        previous = {sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)}
        watcher = None
        try:
            pipeline.start()
            self.reloads.start(self.reloader)
            if config.service.watch_config:
                watcher = ConfigWatcher(
                    self.config_file.path,
                    lambda: self.reloads.put(ReloadRequest("file")),
                    config.service.reload_debounce_ms,
                )
                watcher.start()
            log.info(
                "running; config %s%s",
                self.config_file.path,
                ""
                if self.config_file.path.exists()
                else " (not there yet: defaults, and it is picked up when created)",
            )
            self.notifier.ready("starting: loading the model")
            self._main_loop(pipeline, reporter)
            self.notifier.stopping()
            if self.ui is not None:
                self.ui.signal_stop()  # it stops while the pipeline does
            if watcher is not None:
                watcher.stop()
            self.reloads.stop()
            pipeline.stop(timeout=STOP_TIMEOUT_S)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        log.info("stopped: %s", reporter.final_line())
        if pipeline.error is not None:
            raise pipeline.error
        return 0

    def _on_signal(self, signum: int, _frame: object) -> None:
        if signum == signal.SIGHUP:
            self.reloads.put(ReloadRequest("SIGHUP"))  # logged by the reload thread, once per coalesced burst
            return
        log.info("%s: stopping", signal.Signals(signum).name)
        self._stop.set()

    def _main_loop(self, pipeline: Pipeline, reporter: Reporter) -> None:
        while not self._stop.wait(MAIN_LOOP_S):
            if pipeline.wait(0):
                break  # a finite source ended, or a stage failed (pipeline.error)
            self.notifier.watchdog(self._healthy(pipeline))
            running = self.running_config
            reporter.tick(running.pipeline.stats_interval_s, running.service.notify_status_interval_s)

    @staticmethod
    def _healthy(pipeline: Pipeline) -> bool:
        """The send loop turns at least once per idle frame or every 0.2 s: if it stalls, the
        watchdog ping stops and systemd restarts the daemon."""
        idle_fps = pipeline.settings.idle_fps
        return time.monotonic() - pipeline.heartbeat < max(5.0, 2.0 / idle_fps + 1.0)

    def _frame_sent(self, kind: SendKind, frame: Frame | None) -> None:
        if frame is not None:
            self.last_frame = frame  # the send thread: a reference, encoded only when asked for

    def _apply_log_level(self, service: ServiceConfig) -> None:
        if self.cli_log_level is None:
            set_log_level(service.log_level)
