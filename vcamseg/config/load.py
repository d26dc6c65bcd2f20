"""YAML file (or text) + ``--set`` overrides -> a validated `Config`; every failure a ConfigError
that names the file, the line (or the --set), the key, what was expected and what was given."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from vcamseg.config.errors import Origin, validation_error
from vcamseg.config.overrides import apply_override
from vcamseg.config.root import Config
from vcamseg.config.yaml import LineIndex, parse_yaml, read_config_text


def load_config(path: Path | str | None = None, overrides: Sequence[str] = (), *, text: str | None = None) -> Config:
    """Read ``path`` (or ``text``), apply ``--set`` overrides, validate. Raises ConfigError."""
    source = str(path) if path is not None else "<config>"
    if text is None:
        text = read_config_text(Path(path)) if path is not None else ""
    data, index = parse_yaml(text, source)
    for item in overrides:
        apply_override(data, item)
    # Relative paths in the file (background images, ...) are relative to the file's folder.
    base = Path(path).resolve().parent if path is not None else Path.cwd()
    return validate(data, index, source, overrides, base_dir=base)


def validate(
    data: dict[str, Any],
    index: LineIndex | None = None,
    source: str = "<config>",
    overrides: Sequence[str] = (),
    base_dir: Path | None = None,
) -> Config:
    """Validate raw config data (parsed YAML with overrides applied). ``index``, ``source`` and
    ``overrides`` say where it came from, for the errors; relative paths are taken relative to
    ``base_dir`` (default: the working directory). Raises ConfigError."""
    try:
        return Config.model_validate(data, context={"config_dir": str(base_dir or Path.cwd())})
    except ValidationError as exc:
        raise validation_error(exc, data, Origin(source, index or LineIndex(), overrides)) from None
