"""``--set KEY=VALUE``: a dotted key (list items by index: ``effects.0.opacity``) and a YAML value,
applied to the raw data before validation, the same way to a parsed file (`load_config`), to
the daemon's runtime changes (`vcamseg set`) and to the ruamel document that ``set --save`` writes.

Two rules for tagged lists (`vcamseg.config.tagged`: ``effects``): a list that is absent is
filled with its defaults first (``--set effects.0.background_blur=5`` changes the default blur),
and setting an item's tag to another kind clears the item (the old kind's keys mean nothing to
the new one; set the type first, then its keys)."""

from __future__ import annotations

from typing import Any

import yaml

from vcamseg.config.tagged import tagged_list
from vcamseg.errors import ConfigError

_YAML_NULLS = {"null", "Null", "NULL", "~"}


def parse_override(item: str) -> tuple[list[str | int], Any]:
    """``KEY=VALUE`` -> (the key's parts, digits as list indexes; the value read as YAML)."""
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
    node = _parent_of(data, parts, item)
    last = parts[-1]
    if isinstance(node, list):
        if not isinstance(last, int) or last > len(node):
            raise ConfigError(f"--set {item!r}: no list index {last}", fix=f"the list has {len(node)} item(s)")
        if last == len(node):
            node.append(value)
        else:
            node[last] = value
    elif isinstance(node, dict):
        tagged = tagged_list(parts[0])
        if tagged is not None and len(parts) == 3 and last == tagged.tag and node.get(tagged.tag) != value:
            node.clear()  # another kind: the old one's parameters mean nothing to it (set the type first)
        node[last] = value
    else:
        raise ConfigError(f"--set {item!r}: {'.'.join(map(str, parts[:-1]))} is not a section")


def _parent_of(data: dict[str, Any], parts: list[str | int], item: str) -> Any:
    """The node that holds ``parts[-1]``, creating missing sections and lists on the way."""
    node: Any = data
    for i, part in enumerate(parts[:-1]):
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
            node[part] = _new_container(part, parts[i + 1])
        node = node[part]
    return node


def _new_container(key: str | int, next_part: str | int) -> list[Any] | dict[str, Any]:
    if not isinstance(next_part, int):
        return {}
    # A tagged list's defaults at any depth: a misplaced "effects" then gets validation's "unknown
    # key" error, which says more than "not an existing list index".
    tagged = tagged_list(key)
    return tagged.default_items() if tagged is not None else []
