"""The config file: valid or not (the loader's own message, with file, line and key), and which keys
differ from the defaults: the first thing to read in a pasted report. An invalid file does not stop
the doctor: the other checks then use the defaults, and say so."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from vcamseg.config import Config, load_config
from vcamseg.doctor.report import Finding, ok, problem
from vcamseg.errors import ConfigError

AREA = "config"


def load_checked(path: Path | None, default_path: Path, overrides: Sequence[str] = ()) -> tuple[Config, Finding]:
    """The config to check the rest against (the file plus ``--set`` overrides), and the finding about it."""
    if path is None and not overrides:
        return Config(), ok(
            AREA,
            "file",
            f"no config file ({default_path} does not exist): every key has its default",
            path=None,
            changed=[],
        )
    try:
        config = load_config(path, overrides)
    except ConfigError as exc:
        return Config(), problem(
            AREA,
            "file",
            f"{_one_line(exc.message)} (the checks below use the defaults)",
            fix=exc.fix or f"`vcamseg config check {path}` shows the error",
            path=str(path) if path else None,
        )
    changed = changed_keys(config)
    what = f"these keys differ from the defaults: {', '.join(changed)}" if changed else "every key has its default"
    source = f"{path or 'no config file (the defaults)'}{' + --set ' + ' '.join(overrides) if overrides else ''}"
    return config, ok(AREA, "file", f"{source}: valid; {what}", path=str(path) if path else None, changed=changed)


def _one_line(message: str) -> str:
    """The loader's "invalid configuration:" + one indented line per error, as one line."""
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    if len(lines) > 1 and lines[0].endswith(":"):
        return f"{lines[0]} {'; '.join(lines[1:])}"
    return "; ".join(lines)


def changed_keys(config: Config) -> list[str]:
    """Dotted names of the keys whose value is not the default (a list such as ``effects`` as a whole)."""
    return _diff(config.model_dump(mode="json"), Config().model_dump(mode="json"), "")


def _diff(value: Any, default: Any, prefix: str) -> list[str]:
    if isinstance(value, dict) and isinstance(default, dict):
        keys: list[str] = []
        for key in value:
            keys += _diff(value[key], default.get(key), f"{prefix}{key}.")
        return keys
    return [] if value == default else [prefix.rstrip(".")]
