"""v4l2loopback's client-usage event: its codec, and one way to get a subscribed fd.

v4l2loopback >= 0.13 queues ``V4L2_EVENT_PRI_CLIENT_USAGE`` (payload ``u32 count``, 1 while a
reader holds the capture stream) on capture STREAMON/STREAMOFF. We subscribe on a fd of our own
(pyvirtualcam does not expose its fd) with SEND_INITIAL, so the current state is queued at once;
POLLPRI says an event is waiting and VIDIOC_DQEVENT drains them.
"""

from __future__ import annotations

import contextlib
import errno
import os
import select
import struct
from collections.abc import Iterator
from dataclasses import dataclass

from vcamseg.io import v4l2

_COUNT = struct.Struct("=I")


class CannotOpenNode(OSError):
    """`subscribed_fd` could not open the device node at all (as opposed to a driver without the
    event, or a subscription lost later): the node is gone or not ours to open."""


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


@contextlib.contextmanager
def subscribed_fd(path: str) -> Iterator[int]:
    """A fresh non-blocking read-only fd on ``path``, subscribed to the client-usage event, closed
    on leaving the block (which also ends the subscription). Raises `CannotOpenNode` when the node
    cannot be opened, OSError(EINVAL/ENOTTY) when the driver has no such event."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        raise CannotOpenNode(exc.errno, exc.strerror, path) from None
    try:
        subscribe_client_usage(fd)
        yield fd
    finally:
        os.close(fd)


def drain_events(fd: int) -> list[ClientUsage]:
    """Every queued event on a subscribed fd, oldest first (empty when none is queued)."""
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
        with subscribed_fd(path) as fd:
            poller = select.poll()
            poller.register(fd, select.POLLPRI)
            if not poller.poll(timeout_s * 1000):
                return None
            events = drain_events(fd)
            return events[-1].count if events else None
    except OSError:
        return None


def supports_client_usage(path: str) -> bool:
    """Whether the driver behind ``path`` offers the client-usage event (v4l2loopback >= 0.13)."""
    try:
        with subscribed_fd(path):
            return True
    except OSError:
        return False
