"""The reader monitors: whether any application reads the virtual camera, watched in a thread.

Reader detection, best first (research notes: shared/research/peers.md §4):

* ``event`` — v4l2loopback >= 0.13's client-usage event (`events`) on a fd of our own. It keys on
  the capture STREAMON, so device-list probes never count. The event is edge-triggered: a fresh fd
  re-reads the absolute state every ``resync_interval_s``.
* ``inotify`` — when subscribing fails (older module): count IN_OPEN minus IN_CLOSE on the node,
  minus our own fds (from /proc/self/fd), plus the holders found in /proc when the watch starts
  (`procfs`); an open must last ``min_reader_hold_s`` to count (probes open and close quickly).
  Queue overflow or a vanished node make the state *unknown*, which the pipeline treats as "in use".
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import select
import threading
import time
from collections.abc import Callable
from typing import Protocol

from vcamseg.io.inotify import IN_CLOSE_NOWRITE, IN_CLOSE_WRITE, IN_IGNORED, IN_OPEN, IN_Q_OVERFLOW, Inotify
from vcamseg.io.loopback.events import (
    CannotOpenNode,
    drain_events,
    read_client_usage,
    subscribed_fd,
    supports_client_usage,
)
from vcamseg.io.loopback.procfs import holders, own_fd_count

log = logging.getLogger(__name__)

# After an inotify queue overflow the count is a guess: report "unknown" (= in use) this long.
DISTRUST_AFTER_OVERFLOW_S = 30.0

ReaderState = bool | None  # True: someone reads; False: nobody; None: unknown (treat as in use)


class ReaderMonitor(Protocol):
    """Watches one virtual camera node for readers. The pipeline's duties for a monitor:

    * ``method`` names how it detects (``off``, ``event`` or ``inotify``), for the log and status.
    * ``state`` may be read from any thread at any time, also before ``start``: True while an
      application reads, False while none does, None when that is unknown, which the pipeline
      treats as "in use" (so a doubt never blanks a camera someone watches). Reading it is cheap.
    * ``start`` returns at once; the watching happens in a daemon thread of the monitor's own.
      A failure inside that thread never propagates: the state becomes None.
    * ``on_change`` (given when the monitor is made, see `create_monitor`) is called from the
      monitor's thread, with the new state, each time ``state`` changes; it must not block.
    * ``stop`` returns within about a second, releases every fd, and may be called twice or
      without ``start``. A stopped monitor is not started again.
    """

    method: str

    @property
    def state(self) -> ReaderState: ...

    def start(self) -> None: ...

    def stop(self) -> None: ...


class AlwaysWatched:
    """Detection off (or an output nobody "reads", e.g. a file): never idle."""

    method = "off"
    state: ReaderState = True

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass


class _MonitorThread:
    """Thread plumbing shared by the monitors: a wake-up pipe so stop() returns at once."""

    method = "?"

    def __init__(self, path: str, on_change: Callable[[ReaderState], None] | None) -> None:
        self.path = path
        self._on_change = on_change
        self._state: ReaderState = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._wake_r, self._wake_w = os.pipe()
        self._thread: threading.Thread | None = None

    @property
    def state(self) -> ReaderState:
        with self._lock:
            return self._state

    def _set_state(self, value: ReaderState, why: str) -> None:
        with self._lock:
            changed = value != self._state
            self._state = value
        if changed:
            label = {True: "in use", False: "not in use", None: "unknown (treated as in use)"}[value]
            log.info("virtual camera %s: %s (%s, %s)", self.path, label, self.method, why)
            if self._on_change is not None:
                self._on_change(value)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run_guarded, name=f"readers-{self.method}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._stop.is_set():
            return  # stopped before: the wake-up fds are closed and their numbers may be reused
        self._stop.set()
        with contextlib.suppress(OSError):
            os.write(self._wake_w, b"x")
        if self._thread is not None:
            self._thread.join(timeout=1.0)
        for fd in (self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                os.close(fd)

    def _sleep(self, seconds: float) -> None:
        self._stop.wait(seconds)

    def _run_guarded(self) -> None:
        try:
            self._run()
        except Exception:  # never let detection take the daemon down: unknown = in use
            log.exception("reader detection on %s failed; treating the camera as in use", self.path)
            self._set_state(None, "detection failed")

    def _run(self) -> None:
        raise NotImplementedError


class EventReaderMonitor(_MonitorThread):
    """v4l2loopback's client-usage event on a second fd, resynced through a fresh fd."""

    method = "event"

    def __init__(
        self, path: str, resync_interval_s: float = 10.0, on_change: Callable[[ReaderState], None] | None = None
    ) -> None:
        super().__init__(path, on_change)
        self.resync_interval_s = resync_interval_s
        self._absent_readings = 0

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with subscribed_fd(self.path) as fd:
                    self._watch(fd)
            except CannotOpenNode as exc:
                self._set_state(None, f"cannot open the node: {exc.strerror}")
                self._sleep(1.0)
            except OSError as exc:
                self._set_state(None, f"event subscription lost: {exc.strerror}")
                self._sleep(1.0)

    def _watch(self, fd: int) -> None:
        poller = select.poll()
        poller.register(fd, select.POLLPRI)
        poller.register(self._wake_r, select.POLLIN)
        next_resync = time.monotonic() + self.resync_interval_s
        while not self._stop.is_set():
            timeout_ms = max(0.0, next_resync - time.monotonic()) * 1000
            for ready_fd, mask in poller.poll(timeout_ms):
                if ready_fd != fd:
                    continue
                if mask & (select.POLLERR | select.POLLHUP | select.POLLNVAL) and not mask & select.POLLPRI:
                    raise OSError(errno.ENODEV, "device gone")
                for event in drain_events(fd):
                    self._absent_readings = 0
                    self._set_state(event.count > 0, "client-usage event")
            if time.monotonic() >= next_resync:
                next_resync = time.monotonic() + self.resync_interval_s
                self._resync()

    def _resync(self) -> None:
        fresh = read_client_usage(self.path)
        if fresh is None:
            return
        if fresh > 0:
            self._absent_readings = 0
            self._set_state(True, "resync")
        elif self.state:
            # Two absent readings in a row before tearing down a latched "in use".
            self._absent_readings += 1
            if self._absent_readings >= 2:
                self._set_state(False, "resync")


class InotifyReaderMonitor(_MonitorThread):
    """Open/close counting on the node, compensated for our own fds and debounced."""

    method = "inotify"

    def __init__(
        self,
        path: str,
        min_hold_s: float = 0.7,
        on_change: Callable[[ReaderState], None] | None = None,
        *,
        baseline_from_proc: bool = True,
    ) -> None:
        super().__init__(path, on_change)
        self.min_hold_s = min_hold_s
        self.baseline_from_proc = baseline_from_proc
        self._net_opens = 0
        self._others_at_start = 0
        self._own_at_start = 0
        self._positive_since: float | None = None
        self._distrust_until = 0.0

    def others(self) -> int:
        """Other openers now (after compensation); before the hold time is applied."""
        own_delta = own_fd_count(self.path) - self._own_at_start
        raw = self._others_at_start + self._net_opens - own_delta
        if raw < 0:  # a holder we could not see at start has closed: re-baseline
            self._others_at_start -= raw
            raw = 0
        return raw

    def _baseline(self) -> None:
        self._net_opens = 0
        self._own_at_start = own_fd_count(self.path)
        self._others_at_start = len(holders(self.path)) if self.baseline_from_proc else 0
        self._positive_since = None

    def _run(self) -> None:
        inotify = Inotify()
        try:
            while not self._stop.is_set():
                try:
                    wd = inotify.add_watch(self.path, IN_OPEN | IN_CLOSE_WRITE | IN_CLOSE_NOWRITE)
                except OSError as exc:
                    self._set_state(None, f"cannot watch the node: {exc.strerror}")
                    self._sleep(1.0)
                    continue
                self._baseline()
                self._watch(inotify)
                inotify.rm_watch(wd)
        finally:
            inotify.close()

    def _watch(self, inotify: Inotify) -> None:
        poller = select.poll()
        poller.register(inotify.fileno(), select.POLLIN)
        poller.register(self._wake_r, select.POLLIN)
        while not self._stop.is_set():
            self._evaluate()
            # Wake when a pending reader reaches its hold time, at the latest every second.
            timeout = 1.0
            if self._positive_since is not None:
                timeout = min(timeout, max(0.01, self._positive_since + self.min_hold_s - time.monotonic()))
            poller.poll(timeout * 1000)
            for event in inotify.read():
                if event.mask & IN_Q_OVERFLOW:
                    log.warning(
                        "inotify queue overflow on %s: reader count unknown for %.0f s",
                        self.path,
                        DISTRUST_AFTER_OVERFLOW_S,
                    )
                    self._baseline()
                    self._distrust_until = time.monotonic() + DISTRUST_AFTER_OVERFLOW_S
                elif event.mask & IN_IGNORED:  # node deleted (module unloaded): watch again when it is back
                    self._set_state(None, "the node disappeared")
                    return
                elif event.mask & IN_OPEN:
                    self._net_opens += 1
                elif event.mask & (IN_CLOSE_WRITE | IN_CLOSE_NOWRITE):
                    self._net_opens -= 1

    def _evaluate(self) -> None:
        now = time.monotonic()
        if self.others() > 0:
            if self._positive_since is None:
                self._positive_since = now
        else:
            self._positive_since = None
        if now < self._distrust_until:
            self._set_state(None, "recovering from a queue overflow")
            return
        held = self._positive_since is not None and now - self._positive_since >= self.min_hold_s
        self._set_state(held, "open/close count")


def create_monitor(
    path: str,
    method: str,
    *,
    resync_interval_s: float = 10.0,
    min_hold_s: float = 0.7,
    on_change: Callable[[ReaderState], None] | None = None,
) -> ReaderMonitor:
    """``auto``: the event when the driver supports it, else inotify."""
    if method == "off":
        return AlwaysWatched()
    if method == "event":
        return EventReaderMonitor(path, resync_interval_s, on_change)
    if method == "inotify":
        return InotifyReaderMonitor(path, min_hold_s, on_change)
    if supports_client_usage(path):
        return EventReaderMonitor(path, resync_interval_s, on_change)
    log.info("%s has no client-usage event (v4l2loopback < 0.13): detecting readers with inotify", path)
    return InotifyReaderMonitor(path, min_hold_s, on_change)
