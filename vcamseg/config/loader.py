"""YAML -> Config, with errors that name the file, the line, the key path, what was expected and
what was given (never a traceback), and ``--set KEY=VALUE`` overrides."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from vcamseg.config.effects import EFFECT_CONFIGS, effect_config_class
from vcamseg.config.root import Config
from vcamseg.errors import ConfigError

Path_ = tuple[str | int, ...]
_UNKNOWN_TAG = re.compile(r"constructor for the tag '([^']*)'")


class _SelfReference(Exception):
    def __init__(self, line: int) -> None:
        super().__init__(line)
        self.line = line


class LineIndex:
    """Line numbers (1-based) of every key and value in a YAML document."""

    def __init__(self) -> None:
        self.lines: dict[Path_, int] = {}
        self._indexed: set[int] = set()

    def line_of(self, path: Path_) -> int | None:
        # The deepest known prefix: an error inside a value points at its key's line.
        for end in range(len(path), -1, -1):
            if path[:end] in self.lines:
                return self.lines[path[:end]]
        return None

    def add(self, node: yaml.Node, path: Path_ = (), parents: tuple[yaml.Node, ...] = ()) -> None:
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


def parse_yaml(text: str, source: str) -> tuple[dict[str, Any], LineIndex]:
    """Parse safely (no Python tags); the top level must be a mapping (or empty)."""
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
            fix="remove the tag (no !!python/... or other !tags)") from None
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
        raise ConfigError(f"{source}: the YAML is nested too deeply to be a vcamseg config",
                          fix="a config is sections of keys, a few levels deep") from None
    except _SelfReference as exc:
        raise ConfigError(f"{source}:{exc.line}: a YAML alias refers to the anchor it is inside of",
                          fix="remove the *alias from within its own &anchor") from None
    if data is None:
        return {}, index
    if not isinstance(data, dict):
        raise ConfigError(
            f"{source}:1: the top level must be a mapping of sections "
            f"(model:, segmentation:, effects:, ...), not {_given(data)}",
            fix="start the file with section names such as 'model:' or leave it empty for the defaults",
        )
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


_YAML_NULLS = {"null", "Null", "NULL", "~"}


def parse_override(item: str) -> tuple[list[str | int], Any]:
    key, sep, raw = item.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ConfigError(f"--set {item!r}: expected KEY=VALUE, e.g. --set model.multiplier=0.75")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    if value is None and raw.strip() not in _YAML_NULLS:
        value = raw.strip()  # "#00ff00" is a YAML comment, i.e. null: on the command line it is the text
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
        if parts[0] == "effects" and len(parts) == 3 and last == "type" and node.get("type") != value:
            node.clear()  # another effect: the old one's parameters mean nothing to it (set the type first)
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
        # One line per key: a value a union rejects yields one error per member; they are joined.
        problems: dict[str, list[str]] = {}
        given: dict[str, str] = {}
        order: dict[str, int] = {}
        for err in exc.errors():
            head, message, shown, line = _describe(err, data, index or LineIndex(), source, overrides)
            messages = problems.setdefault(head, [])
            if message not in messages:
                messages.append(message)
            given.setdefault(head, shown)
            order.setdefault(head, line or 0)
        lines = [f"{head}: {_joined(problems[head])}{given[head]}" for head in sorted(problems, key=order.__getitem__)]
        raise ConfigError(
            "invalid configuration:\n" + "\n".join(f"  {line}" for line in lines),
            fix="correct the keys above (`vcamseg config example` shows every key with its default and meaning)",
        ) from None


def _joined(messages: list[str]) -> str:
    rest = [m.removeprefix("expected ") for m in messages[1:]]
    return ", or ".join([messages[0], *rest])


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
    return set(EFFECT_CONFIGS)


_SECTION = "expected a section: keys on the lines below it, indented"
# pydantic's words for a type mismatch, in the words of the YAML file.
_TYPE_MESSAGES = {
    "dict_type": _SECTION,
    "model_type": _SECTION,
    "model_attributes_type": _SECTION,
    "list_type": "expected a list: items on lines starting with '- ', or [a, b]",
    "string_type": "expected text",
    "bool_type": "expected true or false",
    "bool_parsing": "expected true or false",
    "int_type": "expected a whole number",
    "int_parsing": "expected a whole number",
    "int_from_float": "expected a whole number, not a fraction",
    "float_type": "expected a number",
    "float_parsing": "expected a number",
    "finite_number": "expected a finite number",
    "path_type": "expected a path (text)",
    "invalid_key": "keys must be text",
}


def _describe(
    err: dict[str, Any], data: dict[str, Any], index: LineIndex, source: str, overrides: Sequence[str]
) -> tuple[str, str, str, int | None]:
    """(where and which key, what is wrong, " (given: ...)" or "", line) for one pydantic error."""
    path = _data_path(err.get("loc", ()), data)
    kind = err.get("type", "")
    given: Any = err.get("input")
    ctx = err.get("ctx") or {}
    if kind in ("union_tag_invalid", "union_tag_not_found") and isinstance(given, dict) and "type" in given:
        path = [*path, "type"]  # point at the effect's type: line
    dotted = ".".join(str(p) for p in path) or "(top level)"
    override, inside = _override_for(path, overrides)
    line = index.line_of(tuple(path))
    if override and inside and tuple(path) in index.lines:
        # A check on a whole section the file has, with a --set inside it: either may be the cause.
        where = f"{source}:{line} (with --set {override})"
    else:
        where = f"--set {override}" if override else (f"{source}:{line}" if line else source)
    head = f"{where}: {dotted}"
    if kind == "extra_forbidden":
        valid = _valid_keys(path[:-1], data)
        hint = difflib.get_close_matches(str(path[-1]), valid, n=1)
        msg = f"unknown key {path[-1]!r}"
        if hint:
            msg += f" (did you mean {hint[0]!r}?)"
        if valid:
            msg += f"; valid keys here: {', '.join(valid)}"
        return head, msg, "", line
    if kind == "union_tag_invalid":
        tags = [t.strip(" '") for t in str(ctx.get("expected_tags", "")).split(",") if t.strip()]
        hint = difflib.get_close_matches(str(ctx.get("tag", "")), tags, n=1)
        msg = f"unknown type {ctx.get('tag')!r}" + (f" (did you mean {hint[0]!r}?)" if hint else "")
        return head, f"{msg}; the types are {', '.join(map(repr, tags))}", "", line
    if kind == "union_tag_not_found":
        return head, f"every effect needs a 'type': one of {', '.join(map(repr, EFFECT_CONFIGS))}", "", line
    msg = _TYPE_MESSAGES.get(kind) or str(err.get("msg", "invalid value"))
    msg = msg.removeprefix("Value error, ").replace("Input should be", "expected", 1)
    # A check on a whole section or list says what it found itself.
    quiet = kind == "missing" or (kind == "value_error" and isinstance(given, dict | list))
    return head, msg, "" if quiet else f" (given: {_given(given)})", line


def _given(value: Any) -> str:
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


def _override_for(path: list[str | int], overrides: Sequence[str]) -> tuple[str | None, bool]:
    """The last --set that wrote ``path`` or a section around it (False), else one that wrote a
    key inside ``path`` (True: ``path`` is a section, checked as a whole), else None."""
    dotted = ".".join(str(p) for p in path)
    inside = None
    for item in reversed(overrides):
        key = item.partition("=")[0].strip()
        if dotted == key or dotted.startswith(key + "."):
            return item, False
        if inside is None and dotted and key.startswith(dotted + "."):
            inside = item
    return inside, inside is not None


def _valid_keys(path: list[str | int], data: dict[str, Any]) -> list[str]:
    """Field names of the config model found at ``path``."""
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
