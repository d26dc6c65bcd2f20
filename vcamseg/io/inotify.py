"""Minimal inotify through ctypes on libc (three calls and one struct).

Why not a library: ``inotify_simple`` would do, but this is all of it we need and it keeps the
runtime dependencies unchanged; the kernel interface is stable and tested here on real files.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import struct
from dataclasses import dataclass

IN_CLOSE_WRITE = 0x00000008
IN_CLOSE_NOWRITE = 0x00000010
IN_OPEN = 0x00000020
IN_Q_OVERFLOW = 0x00004000
IN_IGNORED = 0x00008000
IN_CLOEXEC = 0o2000000
IN_NONBLOCK = 0o4000

_EVENT_HEADER = struct.Struct("iIII")  # wd, mask, cookie, len (struct inotify_event)

_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
_libc.inotify_init1.argtypes = [ctypes.c_int]
_libc.inotify_add_watch.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32]
_libc.inotify_rm_watch.argtypes = [ctypes.c_int, ctypes.c_int]


@dataclass(frozen=True)
class InotifyEvent:
    wd: int
    mask: int
    name: str


class Inotify:
    """An inotify instance: ``add_watch(path, mask)``, then ``read()`` when ``fileno()`` is readable."""

    def __init__(self) -> None:
        fd = _libc.inotify_init1(IN_CLOEXEC | IN_NONBLOCK)
        if fd < 0:
            err = ctypes.get_errno()
            raise OSError(err, f"inotify_init1: {os.strerror(err)}")
        self._fd = fd

    def fileno(self) -> int:
        return self._fd

    def add_watch(self, path: str, mask: int) -> int:
        wd = _libc.inotify_add_watch(self._fd, os.fsencode(path), mask)
        if wd < 0:
            err = ctypes.get_errno()
            raise OSError(err, f"inotify_add_watch {path}: {os.strerror(err)}", path)
        return wd

    def rm_watch(self, wd: int) -> None:
        _libc.inotify_rm_watch(self._fd, wd)  # fails harmlessly when the kernel already dropped it

    def read(self) -> list[InotifyEvent]:
        """Every queued event (empty when none: the fd is non-blocking)."""
        try:
            data = os.read(self._fd, 64 * 1024)
        except BlockingIOError:
            return []
        return parse_events(data)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def parse_events(data: bytes) -> list[InotifyEvent]:
    events: list[InotifyEvent] = []
    offset = 0
    while offset + _EVENT_HEADER.size <= len(data):
        wd, mask, _cookie, length = _EVENT_HEADER.unpack_from(data, offset)
        offset += _EVENT_HEADER.size
        name = data[offset : offset + length].split(b"\0", 1)[0].decode(errors="replace")
        offset += length
        events.append(InotifyEvent(wd, mask, name))
    return events
