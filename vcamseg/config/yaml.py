"""Reading a config file's YAML: the text (UTF-8), parsed safely (PyYAML's SafeLoader: no Python
tags), with the line number of every key and value so that errors can point at them. Every error
is a ConfigError naming the file and line, never a traceback.

PyYAML rather than ruamel (which `config/edit.py` uses to write): ruamel reads YAML 1.2, where
``yes``/``no``/``on``/``off`` are text and ``010`` is ten, so the same file would mean something else
(and `Section`'s guard against ``threads: yes`` would no longer see a boolean)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from vcamseg.errors import ConfigError

KeyPath = tuple[str | int, ...]
_UNKNOWN_TAG = re.compile(r"constructor for the tag '([^']*)'")


class _SelfReference(Exception):
    def __init__(self, line: int) -> None:
        super().__init__(line)
        self.line = line


class LineIndex:
    """Line numbers (1-based) of every key and value in a YAML document."""

    def __init__(self) -> None:
        self.lines: dict[KeyPath, int] = {}
        self._indexed: set[int] = set()

    def line_of(self, path: KeyPath) -> int | None:
        # The deepest known prefix: an error inside a value points at its key's line.
        for end in range(len(path), -1, -1):
            if path[:end] in self.lines:
                return self.lines[path[:end]]
        return None

    def add(self, node: yaml.Node, path: KeyPath = (), parents: tuple[yaml.Node, ...] = ()) -> None:
        if any(node is parent for parent in parents):
            # An alias inside its own anchor (a: &x [*x]): the data would be infinitely deep.
            raise _SelfReference(node.start_mark.line + 1)
        self.lines[path] = node.start_mark.line + 1
        if id(node) in self._indexed:
            return  # an alias used again: its inside was indexed at the anchor (and fan-outs stay linear)
        self._indexed.add(id(node))
        parents = (*parents, node)
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                name = key.value if isinstance(key, yaml.ScalarNode) else str(key.start_mark)
                self.lines[(*path, name)] = key.start_mark.line + 1
                self.add(value, (*path, name), parents)
                self.lines[(*path, name)] = key.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                self.add(item, (*path, i), parents)


def read_config_text(path: Path) -> str:
    """The text of the config file at ``path``. Raises ConfigError (missing, a folder, unreadable)."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"config file {path} does not exist",
            fix="create it (see config/vcamseg.yaml for a commented example) or pass --config",
        ) from None
    except IsADirectoryError:
        raise ConfigError(f"config path {path} is a folder, not a file", fix="pass the YAML file itself") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"config file {path} is not readable: {exc}", fix="check its permissions and encoding (UTF-8)"
        ) from None


def parse_yaml(text: str, source: str) -> tuple[dict[str, Any], LineIndex]:
    """Parse safely (no Python tags); the top level must be a mapping (or empty). ``source`` names
    the text in errors (the file's path)."""
    index = LineIndex()
    try:
        loader = yaml.SafeLoader(text)
        try:
            node = loader.get_single_node()
            if node is not None:
                index.add(node)  # first: it refuses self-referencing aliases, which construction would nest for ever
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.constructor.ConstructorError as exc:
        # SafeLoader refuses tags such as !!python/object (they would run code): never constructed.
        mark = exc.problem_mark or exc.context_mark
        where = f"{source}:{mark.line + 1}" if mark else source
        tag = _UNKNOWN_TAG.search(exc.problem or "")
        if tag is None:
            raise ConfigError(f"{where}: YAML error: {exc.problem or exc.context}", fix="fix the YAML syntax") from None
        raise ConfigError(
            f"{where}: the YAML tag {tag.group(1).replace('tag:yaml.org,2002:', '!!')!r} is not allowed: a vcamseg "
            "config is plain YAML (mappings, lists, text, numbers, true/false)",
            fix="remove the tag (no !!python/... or other !tags)",
        ) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{source}:{mark.line + 1}" if mark else source
        problem = exc.problem or exc.context or "invalid YAML"
        raise ConfigError(
            f"{where}: YAML syntax error: {problem}",
            fix="check the indentation and quoting on that line (and the one before)",
        ) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: YAML error: {exc}", fix="fix the YAML syntax") from None
    except RecursionError:
        raise ConfigError(
            f"{source}: the YAML is nested too deeply to be a vcamseg config",
            fix="a config is sections of keys, a few levels deep",
        ) from None
    except _SelfReference as exc:
        raise ConfigError(
            f"{source}:{exc.line}: a YAML alias refers to the anchor it is inside of",
            fix="remove the *alias from within its own &anchor",
        ) from None
    if data is None:
        return {}, index
    if not isinstance(data, dict):
        raise ConfigError(
            f"{source}:1: the top level must be a mapping of sections "
            f"(model:, segmentation:, effects:, ...), not {describe_value(data)}",
            fix="start the file with section names such as 'model:' or leave it empty for the defaults",
        )
    return data, index


def describe_value(value: Any) -> str:
    """A YAML value as the person who wrote it would name it."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, dict):
        return "a section"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bytes):
        return "binary data"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
