"""pydantic's ValidationError -> one ConfigError in the words of the YAML file: one line per key,
``file:line: dotted.key: what is wrong (given: the value)``, or ``--set KEY=VALUE: ...`` when a
``--set`` wrote the key, with "did you mean ...?" for misspelt keys and effect types."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from vcamseg.config.root import Config
from vcamseg.config.tagged import TaggedList, is_item_model_name, tagged_list
from vcamseg.config.yaml import LineIndex, describe_value
from vcamseg.errors import ConfigError

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


@dataclass(frozen=True)
class Origin:
    """Where raw config data came from, to point at it: the file (its name in messages and the
    lines of its keys) and the ``--set`` items applied on top, in order."""

    source: str = "<config>"
    index: LineIndex = field(default_factory=LineIndex)
    overrides: Sequence[str] = ()


def validation_error(exc: ValidationError, data: dict[str, Any], origin: Origin) -> ConfigError:
    """The ConfigError listing every problem of ``exc`` (raised validating ``data``), in file order."""
    # One line per key: a value a union rejects yields one error per member; they are joined.
    problems: dict[str, list[str]] = {}
    given: dict[str, str] = {}
    order: dict[str, int] = {}
    for err in exc.errors():
        head, message, shown, line = _describe(err, data, origin)
        messages = problems.setdefault(head, [])
        if message not in messages:
            messages.append(message)
        given.setdefault(head, shown)
        order.setdefault(head, line or 0)
    lines = [f"{head}: {_joined(problems[head])}{given[head]}" for head in sorted(problems, key=order.__getitem__)]
    return ConfigError(
        "invalid configuration:\n" + "\n".join(f"  {line}" for line in lines),
        fix="correct the keys above (`vcamseg config example` shows every key with its default and meaning)",
    )


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
    return "[" in part or is_item_model_name(part)


def _where(path: list[str | int], origin: Origin) -> tuple[str, int | None]:
    """(the file and line, or the --set, that wrote ``path``; the line)."""
    override, inside = _override_for(path, origin.overrides)
    line = origin.index.line_of(tuple(path))
    if override and inside and tuple(path) in origin.index.lines:
        # A check on a whole section the file has, with a --set inside it: either may be the cause.
        return f"{origin.source}:{line} (with --set {override})", line
    if override:
        return f"--set {override}", line
    return (f"{origin.source}:{line}" if line else origin.source), line


def _describe(err: dict[str, Any], data: dict[str, Any], origin: Origin) -> tuple[str, str, str, int | None]:
    """(where and which key, what is wrong, " (given: ...)" or "", line) for one pydantic error."""
    path = _data_path(err.get("loc", ()), data)
    kind = err.get("type", "")
    given: Any = err.get("input")
    ctx = err.get("ctx") or {}
    tagged = tagged_list(path[0]) if path else None
    if (
        kind in ("union_tag_invalid", "union_tag_not_found")
        and tagged is not None
        and isinstance(given, dict)
        and tagged.tag in given
    ):
        path = [*path, tagged.tag]  # point at the item's type: line
    where, line = _where(path, origin)
    head = f"{where}: {'.'.join(str(p) for p in path) or '(top level)'}"
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
    if kind == "union_tag_not_found" and tagged is not None:
        kinds = ", ".join(map(repr, tagged.models))
        return head, f"every {tagged.item} needs a {tagged.tag!r}: one of {kinds}", "", line
    msg = _TYPE_MESSAGES.get(kind) or str(err.get("msg", "invalid value"))
    msg = msg.removeprefix("Value error, ").replace("Input should be", "expected", 1)
    # A check on a whole section or list says what it found itself.
    quiet = kind == "missing" or (kind == "value_error" and isinstance(given, dict | list))
    return head, msg, "" if quiet else f" (given: {describe_value(given)})", line


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
    within: TaggedList | None = None  # the tagged list the path goes into: its items' tag picks their model
    for depth, part in enumerate(path):
        if isinstance(part, int):
            node = node[part] if isinstance(node, list) and part < len(node) else None
            model = within.model_for(node.get(within.tag)) if within is not None and isinstance(node, dict) else None
            continue
        if model is None:
            return []
        if depth == 0:
            within = tagged_list(part)
        info = model.model_fields.get(str(part))
        node = node.get(part) if isinstance(node, dict) else None
        annotation = getattr(info, "annotation", None)
        model = annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None
    return sorted(model.model_fields) if model is not None else []
