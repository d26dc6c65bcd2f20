"""The model cache: where it is, and the lock that lets one process at a time check, repair and
fill it. The cache holds the official layout under ``<cache_dir>/models``; it belongs to vcamseg
(damaged files there are deleted and downloaded again), unlike the user's model folder."""

from __future__ import annotations

import contextlib
import fcntl
import logging
from collections.abc import Iterator
from pathlib import Path

from vcamseg import paths
from vcamseg.config.model import ModelConfig

log = logging.getLogger(__name__)

LOCK_FILE = ".lock"


def models_cache_dir(cfg: ModelConfig) -> Path:
    """``<cache_dir>/models``: the root of the cached official layout."""
    base = cfg.cache_dir.expanduser() if cfg.cache_dir is not None else paths.cache_dir()
    return base / "models"


@contextlib.contextmanager
def cache_lock(root: Path) -> Iterator[None]:
    """One process at a time checks, repairs and fills the cache (the daemon and `models fetch`)."""
    try:
        root.mkdir(parents=True, exist_ok=True)
        fh = (root / LOCK_FILE).open("a")
    except OSError as exc:
        # A read-only cache can still serve verified files; writing to it fails later, clearly.
        log.debug("cannot lock %s (%s); going on without the lock", root, exc)
        fh = None
    if fh is None:
        yield
        return
    with fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        yield
