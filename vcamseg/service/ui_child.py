"""``service.ui.enabled``: the settings page (`vcamseg ui --no-browser`) as the daemon's child
process, started after the control socket and stopped with the daemon. Its own process, so the
daemon itself still listens on nothing but its Unix socket, and pays nothing for the page beyond
the ``frame`` requests the page makes while it is open. Its address (with the token of this
start) goes to the daemon's log."""

from __future__ import annotations

import contextlib
import logging
import subprocess
import sys
import threading
from pathlib import Path

log = logging.getLogger(__name__)

STOP_WAIT_S = 0.3  # the daemon's whole stop stays within a second of SIGTERM


class UiChild:
    def __init__(self, socket: Path, port: int) -> None:
        self.command = [
            sys.executable,
            "-m",
            "vcamseg",
            "ui",
            "--no-browser",
            "--port",
            str(port),
            "--socket",
            str(socket),
        ]
        self.proc: subprocess.Popen[str] | None = None

    def start(self) -> None:
        try:
            # stderr: the daemon's (the journal under systemd), where the page's own errors belong.
            self.proc = subprocess.Popen(self.command, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
        except OSError as exc:
            log.error("service.ui: the settings page could not be started: %s", exc)
            return
        threading.Thread(target=self._relay, args=(self.proc,), name="vcamseg-ui-log", daemon=True).start()

    def _relay(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            log.info("settings page (pid %d): %s", proc.pid, line.strip().removeprefix("vcamseg ui: "))
        code = proc.wait()
        if code != 0:
            log.error("service.ui: the settings page exited with code %d (see the lines above)", code)

    def signal_stop(self) -> None:
        """SIGTERM, without waiting (the daemon stops its other parts meanwhile)."""
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.terminate()

    def stop(self) -> None:
        if self.proc is None:
            return
        self.signal_stop()
        try:
            self.proc.wait(STOP_WAIT_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
