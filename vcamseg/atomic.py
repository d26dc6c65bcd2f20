"""Replace a file all at once: a temporary file in the same folder, renamed over the target.

Readers (the daemon's config watcher, a second process loading a cached model) never see half a
file, and a write that fails (a full disk, a read-only folder) leaves the old file as it was and
no temporary file behind.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def replace_file(target: Path, data: bytes, *, mode: int | None = None) -> None:
    """Write ``data`` to ``target`` (its folder created if needed) through a temporary file that is
    flushed to disk and then renamed over it; ``mode``: the new file's permissions (default: 0600
    from mkstemp, as the umask allows). Raises OSError."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
