"""The daemon's config file, and how each reload reads it again: the YAML file
(which may not exist yet), the command line's ``--set`` and ``--source``/``--output``, and runtime
changes from ``vcamseg set``. Every path goes through the same parsing and validation as
``vcamseg config check``, so an error names the file, the line (or the --set) and the key."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vcamseg.config import Config, apply_override, parse_yaml, validate
from vcamseg.config.yaml import LineIndex, read_config_text


@dataclass(frozen=True)
class LoadedConfig:
    """One validated configuration, as the user wrote it (file, command line, `vcamseg set`), and
    what it was made of. What runs may differ until a restart or a model load (the reloader's
    ``running``)."""

    config: Config
    data: dict[str, Any]  # the raw values (file + overrides), the base for runtime changes
    index: LineIndex
    text: str | None  # the file's text (None: there was no file)
    runtime_changes: tuple[str, ...] = field(default=())  # `vcamseg set` KEY=VALUEs not in the file


class ConfigFile:
    """``path``: the file (watched; it may appear later unless ``required``). ``overrides``: the
    command line's --set. ``devices``: --source / --output, which win over both."""

    def __init__(
        self,
        path: Path,
        overrides: Sequence[str] = (),
        *,
        source: str | None = None,
        output: str | None = None,
        required: bool = False,
    ) -> None:
        self.path = path
        self.overrides = list(overrides)
        self.devices = {key: value for key, value in (("source", source), ("output", output)) if value}
        self.required = required

    def read_text(self) -> str | None:
        """The file's text; None when it does not exist (and is not required). Raises ConfigError."""
        if not self.required and not self.path.exists():
            return None
        return read_config_text(self.path)

    def load(self, text: str | None) -> LoadedConfig:
        """Validate ``text`` (the file's, or None for no file) with the command line on top."""
        data, index = parse_yaml(text or "", str(self.path))
        for item in self.overrides:
            apply_override(data, item)
        self._apply_devices(data)
        return LoadedConfig(self._validate(data, index, self.overrides), data, index, text)

    def with_changes(self, base: LoadedConfig, changes: Sequence[str]) -> LoadedConfig:
        """``base`` with runtime ``KEY=VALUE`` changes (the --set syntax) on top; errors name them."""
        data = copy.deepcopy(base.data)  # the command line is in it already; these changes go on top
        for item in changes:
            apply_override(data, item)
        config = self._validate(data, base.index, [*self.overrides, *changes])
        return LoadedConfig(config, data, base.index, base.text, (*base.runtime_changes, *changes))

    def _validate(self, data: dict[str, Any], index: LineIndex, overrides: Sequence[str]) -> Config:
        # Relative paths in the file (background images, ...) are relative to the file's folder:
        # the real file's, behind a symlink (a config kept with its pictures in a dotfiles folder),
        # as `vcamseg config check` (load_config) takes them.
        return validate(data, index, str(self.path), overrides, base_dir=self.path.resolve().parent)

    def _apply_devices(self, data: dict[str, Any]) -> None:
        # Set as text, not through --set: YAML would read "null" as None and "0" as a number.
        for section, device in self.devices.items():
            node = data.setdefault(section, {})
            if node is None:
                node = data[section] = {}
            if isinstance(node, dict):  # anything else is the file's error, reported by validation
                node["device"] = device
