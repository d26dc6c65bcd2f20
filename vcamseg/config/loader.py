"""YAML -> Config, with errors that name the file, the line, the key path, what was expected and
what was given (never a traceback), and ``--set KEY=VALUE`` overrides."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from vcamseg.config.root import Config
from vcamseg.errors import ConfigError

Path_ = tuple[str | int, ...]


class LineIndex:
    """Line numbers (1-based) of every key and value in a YAML document."""

    def __init__(self) -> None:
        self.lines: dict[Path_, int] = {}

    def line_of(self, path: Path_) -> int | None:
        # The deepest known prefix: an error inside a value points at its key's line.
        for end in range(len(path), -1, -1):
            if path[:end] in self.lines:
                return self.lines[path[:end]]
        return None

    def add(self, node: yaml.Node, path: Path_ = ()) -> None:
        self.lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                name = key.value if isinstance(key, yaml.ScalarNode) else str(key.start_mark)
                self.lines[(*path, name)] = key.start_mark.line + 1
                self.add(value, (*path, name))
                self.lines[(*path, name)] = key.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                self.add(item, (*path, i))


def parse_yaml(text: str, source: str) -> tuple[dict[str, Any], LineIndex]:
    """Parse safely (no Python tags); the top level must be a mapping (or empty)."""
    index = LineIndex()
    try:
        loader = yaml.SafeLoader(text)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
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
    if data is None:
        return {}, index
    if not isinstance(data, dict):
        kind = type(data).__name__
        raise ConfigError(
            f"{source}:1: the top level must be a mapping of sections "
            f"(model:, segmentation:, effects:, ...), not a {kind}",
            fix="start the file with section names such as 'model:' or leave it empty for the defaults",
        )
    index.add(node)
    return data, index


def read_config_text(path: Path) -> str:
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


def parse_override(item: str) -> tuple[list[str | int], Any]:
    key, sep, raw = item.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ConfigError(f"--set {item!r}: expected KEY=VALUE, e.g. --set model.multiplier=0.75")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    parts: list[str | int] = [int(p) if p.isdigit() else p for p in key.split(".")]
    if any(p == "" for p in parts):
        raise ConfigError(
            f"--set {item!r}: empty part in key {key!r}", fix="use dotted keys such as segmentation.threshold"
        )
    return parts, value


def apply_override(data: dict[str, Any], item: str) -> None:
    """Set a dotted key (list items by index: effects.0.opacity) in the raw data."""
    parts, value = parse_override(item)
    node: Any = data
    for i, part in enumerate(parts[:-1]):
        nxt = parts[i + 1]
        if isinstance(node, list):
            if not isinstance(part, int) or part >= len(node):
                raise ConfigError(
                    f"--set {item!r}: {'.'.join(map(str, parts[: i + 1]))} is not an existing list index",
                    fix=f"the list has {len(node)} item(s); indexes start at 0",
                )
            node = node[part]
            continue
        if not isinstance(node, dict):
            raise ConfigError(f"--set {item!r}: {'.'.join(map(str, parts[:i]))} is not a section")
        if part not in node or node[part] is None:
            if part == "effects" and isinstance(nxt, int):
                node[part] = [dict(e) for e in _default_effect_dicts()]
            else:
                node[part] = [] if isinstance(nxt, int) else {}
        node = node[part]
    last = parts[-1]
    if isinstance(node, list):
        if not isinstance(last, int) or last > len(node):
            raise ConfigError(f"--set {item!r}: no list index {last}", fix=f"the list has {len(node)} item(s)")
        if last == len(node):
            node.append(value)
        else:
            node[last] = value
    elif isinstance(node, dict):
        node[last] = value
    else:
        raise ConfigError(f"--set {item!r}: {'.'.join(map(str, parts[:-1]))} is not a section")


def _default_effect_dicts() -> list[dict[str, Any]]:
    return [e.model_dump(mode="json") for e in Config().effects]


def validate(
    data: dict[str, Any],
    index: LineIndex | None = None,
    source: str = "<config>",
    overrides: Sequence[str] = (),
    base_dir: Path | None = None,
) -> Config:
    try:
        return Config.model_validate(data, context={"config_dir": str(base_dir or Path.cwd())})
    except ValidationError as exc:
        problems = [_describe(err, data, index or LineIndex(), source, overrides) for err in exc.errors()]
        raise ConfigError(
            "invalid configuration:\n" + "\n".join(f"  {p}" for p in problems),
            fix="correct the keys above (`vcamseg config schema` lists every key)",
        ) from None


def _data_path(loc: Iterable[Any], data: Any) -> list[str | int]:
    """Map pydantic's error location onto keys that exist in the data (drops union tags etc.)."""
    path: list[str | int] = []
    node = data
    for part in loc:
        in_dict = isinstance(node, dict) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and part < len(node)
        if in_dict or in_list:
            path.append(part)
            node = node[part]
        elif isinstance(node, dict) and isinstance(part, str) and part not in node and not _is_internal(part):
            path.append(part)  # a missing or extra key: name it
            node = None
    return path


def _is_internal(part: str) -> bool:
    # pydantic adds validator and union-member names to locations ("function-after[...]", tags).
    return "[" in part or part in _effect_type_names()


def _effect_type_names() -> set[str]:
    from vcamseg.effects.registry import EFFECT_TYPES

    return set(EFFECT_TYPES)


def _describe(
    err: dict[str, Any], data: dict[str, Any], index: LineIndex, source: str, overrides: Sequence[str]
) -> str:
    path = _data_path(err.get("loc", ()), data)
    dotted = ".".join(str(p) for p in path) or "(top level)"
    override = _override_for(path, overrides)
    line = index.line_of(tuple(path))
    where = f"--set {override}" if override else (f"{source}:{line}" if line else source)
    kind = err.get("type", "")
    if kind == "extra_forbidden":
        valid = _valid_keys(path[:-1], data)
        hint = difflib.get_close_matches(str(path[-1]), valid, n=1)
        msg = f"unknown key {path[-1]!r}"
        if hint:
            msg += f" (did you mean {hint[0]!r}?)"
        if valid:
            msg += f"; valid keys here: {', '.join(valid)}"
        return f"{where}: {dotted}: {msg}"
    msg = str(err.get("msg", "invalid value"))
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    given = err.get("input")
    text = f"{where}: {dotted}: {msg}"
    if kind not in ("missing",) and not isinstance(given, dict | list):
        text += f" (given: {given!r})"
    return text


def _override_for(path: list[str | int], overrides: Sequence[str]) -> str | None:
    dotted = ".".join(str(p) for p in path)
    for item in reversed(overrides):
        key = item.partition("=")[0].strip()
        if dotted == key or dotted.startswith(key + ".") or (key.startswith(dotted + ".") and dotted):
            return item
    return None


def _valid_keys(path: list[str | int], data: dict[str, Any]) -> list[str]:
    """Field names of the config model found at ``path``."""
    from vcamseg.effects.registry import effect_config_class

    model: type[BaseModel] | None = Config
    node: Any = data
    for part in path:
        if isinstance(part, int):
            node = node[part] if isinstance(node, list) and part < len(node) else None
            model = effect_config_class(node.get("type")) if isinstance(node, dict) else None
            continue
        if model is None:
            return []
        info = model.model_fields.get(str(part))
        node = node.get(part) if isinstance(node, dict) else None
        annotation = getattr(info, "annotation", None)
        model = annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None
        if str(part) == "effects":
            model = None
    return sorted(model.model_fields) if model is not None else []
