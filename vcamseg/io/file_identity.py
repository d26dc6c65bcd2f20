"""Notice that the file behind an open source or output was removed or replaced.

A file that is read or written through an open descriptor keeps working after it is deleted or
renamed over (the descriptor holds the old inode), so without a check the daemon would play a
deleted video for ever, never show a replaced background-camera image, and write an output file
nobody can reach. Files stand in for devices here: a removed file is an unplugged camera (or a
vanished virtual camera) and is reopened like one.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Literal

CHECK_INTERVAL_S = 1.0  # a stat() a second: cheap, and as quick as a camera's unplug detection

Change = Literal["removed", "replaced"]


def _identity(path: Path) -> tuple[int, int, int, int] | None:
    try:
        info = os.stat(path)
    except OSError:  # gone, or its folder is gone or unreadable: not usable any more either way
        return None
    return info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns


class FileIdentity:
    """Remembers which file ``path`` named when created; ``change()`` says (at most once per
    ``interval_s``) whether it was since removed or replaced. ``growing=True``: a file we write
    ourselves, whose size and modification time change all the time, is compared by inode only."""

    def __init__(self, path: Path, *, interval_s: float = CHECK_INTERVAL_S, growing: bool = False) -> None:
        self.path = path
        self.interval_s = interval_s
        self.growing = growing
        self._known = self._key()
        self._next = time.monotonic() + interval_s

    def _key(self) -> tuple[int, ...] | None:
        identity = _identity(self.path)
        if identity is None or not self.growing:
            return identity
        return identity[:2]

    def change(self) -> Change | None:
        now = time.monotonic()
        if now < self._next:
            return None
        self._next = now + self.interval_s
        current = self._key()
        if self._known is None:  # not there yet when opened (a writer that creates it lazily)
            self._known = current
            return None
        if current is None:
            return "removed"
        return "replaced" if current != self._known else None
