"""Who has a device node open, from /proc/*/fd: diagnostics (`vcamseg devices`) and the inotify
monitor's baseline and own-fd compensation; never the primary reader signal."""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path


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
