"""systemd notifications (Type=notify): READY, RELOADING, STATUS, WATCHDOG, STOPPING.

Through cysystemd's sd_notify; a no-op where systemd did not ask for them (no $NOTIFY_SOCKET:
a terminal, a test), so the daemon runs the same everywhere.
"""

from __future__ import annotations

import logging
import os
import time

log = logging.getLogger(__name__)


class Notifier:
    def __init__(self) -> None:
        self.enabled = bool(os.environ.get("NOTIFY_SOCKET"))
        self.watchdog_interval_s = _watchdog_interval_s()
        self._next_watchdog = 0.0
        self._notify = None
        if self.enabled:
            from cysystemd.daemon import Notification, notify

            self._notify, self._kinds = notify, Notification

    def ready(self, status: str) -> None:
        self._send("READY")
        self.status(status)

    def reloading(self) -> None:
        self._send("RELOADING")

    def status(self, text: str) -> None:
        self._send("STATUS", text)

    def stopping(self) -> None:
        self._send("STOPPING")

    def watchdog(self, healthy: bool) -> None:
        """Ping at half the watchdog interval while ``healthy``; a daemon that stops pinging is
        killed and restarted by systemd (WatchdogSec=, Restart=on-failure)."""
        if self.watchdog_interval_s is None or not healthy or time.monotonic() < self._next_watchdog:
            return
        self._next_watchdog = time.monotonic() + self.watchdog_interval_s / 2
        self._send("WATCHDOG")

    def _send(self, kind: str, value: str | None = None) -> None:
        if self._notify is None:
            return
        result = self._notify(getattr(self._kinds, kind), value)
        if isinstance(result, Exception):
            log.debug("sd_notify %s failed: %s", kind, result)


def _watchdog_interval_s() -> float | None:
    """systemd's WatchdogSec, when it is meant for this process (WATCHDOG_PID, if set, is ours)."""
    usec = os.environ.get("WATCHDOG_USEC", "")
    pid = os.environ.get("WATCHDOG_PID", "")
    if not usec.isdigit() or int(usec) == 0 or (pid and pid != str(os.getpid())):
        return None
    return int(usec) / 1e6
