"""v4l2loopback devices: finding them by card label, and knowing whether any application reads one.

Reader detection, best first (research notes: shared/research/peers.md §4):

* ``event`` — v4l2loopback >= 0.13 queues ``V4L2_EVENT_PRI_CLIENT_USAGE`` (payload ``u32 count``,
  1 while a reader holds the capture stream) on capture STREAMON/STREAMOFF. We subscribe on a
  second fd of our own (pyvirtualcam does not expose its fd) with SEND_INITIAL, poll for POLLPRI
  and drain with VIDIOC_DQEVENT. It keys on STREAMON, so device-list probes never count. The event
  is edge-triggered: a fresh fd re-reads the absolute state every ``resync_interval_s``.
* ``inotify`` — when subscribing fails (older module): count IN_OPEN minus IN_CLOSE on the node,
  minus our own fds (from /proc/self/fd), plus the holders found in /proc when the watch starts;
  an open must last ``min_reader_hold_s`` to count (probes open and close quickly). Queue
  overflow or a vanished node make the state *unknown*, which the pipeline treats as "in use".
"""

from __future__ import annotations

import contextlib
import errno
import glob
import logging
import os
import select
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from vcamseg.errors import OutputError
from vcamseg.io import v4l2
from vcamseg.io.inotify import IN_CLOSE_NOWRITE, IN_CLOSE_WRITE, IN_IGNORED, IN_OPEN, IN_Q_OVERFLOW, Inotify

log = logging.getLogger(__name__)

SYSFS_VIDEO4LINUX = "/sys/devices/virtual/video4linux"
MODPROBE_HINT = "sudo modprobe v4l2loopback devices=1 video_nr=10 card_label=vcamseg exclusive_caps=1"
# After an inotify queue overflow the count is a guess: report "unknown" (= in use) this long.
DISTRUST_AFTER_OVERFLOW_S = 30.0

ReaderState = bool | None  # True: someone reads; False: nobody; None: unknown (treat as in use)


@dataclass(frozen=True)
class LoopbackDevice:
    path: str  # /dev/videoN
    label: str  # the card_label given to modprobe
    sysfs: Path

    @property
    def state(self) -> str:
        """'capture' while a producer holds the output (or keep_format is set), else 'output'."""
        try:
            return (self.sysfs / "state").read_text().strip()
        except OSError:
            return "unknown"


def loopback_devices(sysfs_root: str = SYSFS_VIDEO4LINUX) -> list[LoopbackDevice]:
    """Every v4l2loopback node, by number. Loopback nodes are the virtual video4linux devices."""
    found: list[LoopbackDevice] = []
    for node in sorted(glob.glob(os.path.join(sysfs_root, "video*")), key=_node_number):
        sysfs = Path(node)
        try:
            label = (sysfs / "name").read_text().strip()
        except OSError:
            continue
        found.append(LoopbackDevice(f"/dev/{sysfs.name}", label, sysfs))
    return found


def _node_number(path: str) -> int:
    digits = "".join(c for c in os.path.basename(path) if c.isdigit())
    return int(digits) if digits else -1


def resolve_output_device(spec: str, sysfs_root: str = SYSFS_VIDEO4LINUX) -> str:
    """``/dev/videoN`` or ``label:NAME`` -> the device path; a clear error when there is none."""
    devices = loopback_devices(sysfs_root)
    if spec.startswith("label:"):
        label = spec.removeprefix("label:")
        for dev in devices:
            if dev.label == label:
                return dev.path
        known = ", ".join(f"{d.path} ({d.label!r})" for d in devices) or "none"
        raise OutputError(
            f"no v4l2loopback device with card label {label!r} (loopback devices: {known})",
            fix=f"load the module with that label: {MODPROBE_HINT.replace('vcamseg', label)} "
                "(or set output.device to one of the devices above)")
    if not os.path.exists(spec):
        raise OutputError(f"virtual camera {spec} does not exist",
                          fix=f"load v4l2loopback: {MODPROBE_HINT} (then use /dev/video10 or label:vcamseg)")
    return spec


def _same_file(link_target: str, path: str, real: str) -> bool:
    target = link_target.removesuffix(" (deleted)")
    return target in (path, real)


def own_fd_count(path: str) -> int:
    """How many of this process's fds are open on ``path``."""
    real = os.path.realpath(path)
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            if _same_file(os.readlink(f"/proc/self/fd/{fd}"), path, real):
                count += 1
    return count


@dataclass(frozen=True)
class Holder:
    pid: int
    command: str
    fds: int


def holders(path: str, *, include_self: bool = False) -> list[Holder]:
    """Processes with ``path`` open, from /proc/*/fd (only those we may inspect: our own user's,
    or all as root). Diagnostics and the inotify baseline; never the primary signal."""
    real = os.path.realpath(path)
    me = os.getpid()
    found: list[Holder] = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or (int(entry.name) == me and not include_self):
            continue
        fds = 0
        try:
            for fd in os.scandir(f"/proc/{entry.name}/fd"):
                with contextlib.suppress(OSError):
                    if _same_file(os.readlink(fd.path), path, real):
                        fds += 1
        except OSError:  # gone, or not ours to read
            continue
        if fds:
            try:
                command = Path(f"/proc/{entry.name}/comm").read_text().strip()
            except OSError:
                command = "?"
            found.append(Holder(int(entry.name), command, fds))
    return found


# --- the client-usage event -------------------------------------------------------------------

_COUNT = struct.Struct("=I")


@dataclass(frozen=True)
class ClientUsage:
    type: int
    count: int
    pending: int
    sequence: int


def decode_event(raw: bytes | v4l2.Event) -> ClientUsage:
    """A struct v4l2_event (136 bytes, as the kernel lays it out) -> the client-usage payload."""
    event = raw if isinstance(raw, v4l2.Event) else v4l2.Event.from_buffer_copy(raw)
    (count,) = _COUNT.unpack_from(bytes(event.u.data), 0)
    return ClientUsage(event.type, count, event.pending, event.sequence)


def subscribe_client_usage(fd: int) -> int:
    """Subscribe ``fd`` (with SEND_INITIAL); returns the event type the driver accepted.
    Raises OSError(EINVAL/ENOTTY) when the driver has no client-usage event."""
    last: OSError | None = None
    for kind in (v4l2.EVENT_PRI_CLIENT_USAGE, v4l2.EVENT_PRI_CLIENT_USAGE_OLD):
        sub = v4l2.EventSubscription(type=kind, id=0, flags=v4l2.EVENT_SUB_FL_SEND_INITIAL)
        try:
            v4l2.ioctl(fd, v4l2.VIDIOC_SUBSCRIBE_EVENT, sub)
            return kind
        except OSError as exc:
            if exc.errno not in (errno.EINVAL, errno.ENOTTY):
                raise
            last = exc
    assert last is not None
    raise last


def drain_events(fd: int) -> list[ClientUsage]:
    events: list[ClientUsage] = []
    while True:
        event = v4l2.Event()
        try:
            v4l2.ioctl(fd, v4l2.VIDIOC_DQEVENT, event)
        except OSError as exc:
            if exc.errno in (errno.ENOENT, errno.EAGAIN):  # queue empty
                return events
            raise
        events.append(decode_event(event))
        if event.pending == 0:
            return events


def read_client_usage(path: str, timeout_s: float = 0.3) -> int | None:
    """The current reader flag through a fresh fd (SEND_INITIAL), or None when unsupported."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        subscribe_client_usage(fd)
        poller = select.poll()
        poller.register(fd, select.POLLPRI)
        if not poller.poll(timeout_s * 1000):
            return None
        events = drain_events(fd)
        return events[-1].count if events else None
    except OSError:
        return None
    finally:
        os.close(fd)


# --- monitors -----------------------------------------------------------------------------------


class ReaderMonitor(Protocol):
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

    def __init__(self, path: str, resync_interval_s: float = 10.0,
                 on_change: Callable[[ReaderState], None] | None = None) -> None:
        super().__init__(path, on_change)
        self.resync_interval_s = resync_interval_s
        self._absent_readings = 0

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                fd = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK)
            except OSError as exc:
                self._set_state(None, f"cannot open the node: {exc.strerror}")
                self._sleep(1.0)
                continue
            try:
                subscribe_client_usage(fd)
                self._watch(fd)
            except OSError as exc:
                self._set_state(None, f"event subscription lost: {exc.strerror}")
                self._sleep(1.0)
            finally:
                os.close(fd)

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

    def __init__(self, path: str, min_hold_s: float = 0.7, on_change: Callable[[ReaderState], None] | None = None,
                 *, baseline_from_proc: bool = True) -> None:
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
                    log.warning("inotify queue overflow on %s: reader count unknown for %.0f s",
                                self.path, DISTRUST_AFTER_OVERFLOW_S)
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


def create_monitor(path: str, method: str, *, resync_interval_s: float = 10.0, min_hold_s: float = 0.7,
                   on_change: Callable[[ReaderState], None] | None = None) -> ReaderMonitor:
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


def supports_client_usage(path: str) -> bool:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return False
    try:
        subscribe_client_usage(fd)
        return True
    except OSError:
        return False
    finally:
        os.close(fd)
