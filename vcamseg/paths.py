"""Where vcamseg keeps things (XDG base directories)."""

from __future__ import annotations

import os
from pathlib import Path


def _xdg(var: str, fallback: str) -> Path:
    value = os.environ.get(var)
    return Path(value) if value and os.path.isabs(value) else Path.home() / fallback


def config_file() -> Path:
    """The default YAML config: $XDG_CONFIG_HOME/vcamseg/config.yaml."""
    return _xdg("XDG_CONFIG_HOME", ".config") / "vcamseg" / "config.yaml"


def systemd_user_dir() -> Path:
    """Where user units live: $XDG_CONFIG_HOME/systemd/user."""
    return _xdg("XDG_CONFIG_HOME", ".config") / "systemd" / "user"


def cache_dir() -> Path:
    """Downloaded models and TFLite conversions: $XDG_CACHE_HOME/vcamseg."""
    return _xdg("XDG_CACHE_HOME", ".cache") / "vcamseg"


def runtime_dir() -> Path:
    """The control socket's folder: $XDG_RUNTIME_DIR/vcamseg (falls back to the cache dir)."""
    value = os.environ.get("XDG_RUNTIME_DIR")
    base = Path(value) if value and os.path.isabs(value) else cache_dir() / "run"
    return base / "vcamseg"


def expand_home(path: Path) -> Path:
    """``~`` and ``~user`` expanded; ValueError (not the RuntimeError of Path.expanduser) when
    that home folder is unknown, so that a config naming one is a config error, not a crash."""
    try:
        return path.expanduser()
    except RuntimeError:
        head = str(path).split("/", 1)[0]
        raise ValueError(
            f"{str(path)!r} starts with {head!r}, but no home folder is known for "
            f"{'that user' if head != '~' else 'this user ($HOME is not set)'}: "
            "write the full path"
        ) from None
