"""Write ``vcamseg set --save`` changes into the user's YAML file, keeping its comments, key order
and layout (ruamel.yaml round trip). The file is the user's: it is only ever changed at the keys
set, and replaced atomically so the daemon's watcher never reads half a file."""

from __future__ import annotations

import errno
import io
import itertools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

from vcamseg.atomic import replace_file
from vcamseg.config.overrides import apply_override
from vcamseg.config.yaml import read_config_text
from vcamseg.errors import ConfigError


def save_overrides(path: Path, items: Sequence[str]) -> str:
    """Set each ``KEY=VALUE`` (the ``--set`` syntax) in the file at ``path`` (created when missing)
    and return the new text. Values must have been validated already (`load_config`)."""
    text = read_config_text(path) if path.exists() else ""
    yaml = _round_trip(text)
    try:
        data = yaml.load(text)
    except YAMLError as exc:
        raise ConfigError(
            f"{path}: cannot be edited, it is not valid YAML: {exc}",
            fix="correct the file first (`vcamseg config check`)",
        ) from None
    prefix = ""
    if data is None:  # empty, or only comments: keep them above the new keys
        prefix = text if not text or text.endswith("\n") else text + "\n"
        data = CommentedMap()
    if not isinstance(data, CommentedMap):
        raise ConfigError(f"{path}: the top level is not a mapping of sections", fix="correct the file first")
    for item in items:
        apply_override(data, item)
    _style_new_values(data)
    out = io.StringIO()
    yaml.dump(data, out)
    new_text = prefix + out.getvalue()
    write_atomically(path, new_text)
    return new_text


def write_atomically(path: Path, text: str) -> None:
    """Replace the file (through a symlink: its target), keeping its permissions. Raises
    ConfigError naming the folder when it cannot be written (full, read-only, ...); the file is
    then unchanged and no temporary file is left."""
    target = path.resolve()
    try:
        mode = target.stat().st_mode & 0o777 if target.exists() else 0o644
        replace_file(target, text.encode("utf-8"), mode=mode)
    except OSError as exc:
        raise _write_error(target, exc) from None


def _write_error(target: Path, exc: OSError) -> ConfigError:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        problem, fix = "is full", "free some space there, then save again"
    elif exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        problem, fix = (
            "is not writable",
            ("check its permissions (under systemd, the unit may write only ~/.config/vcamseg: ReadWritePaths=)"),
        )
    else:
        problem, fix = "cannot be written", "check the folder"
    return ConfigError(
        f"cannot save {target}: its folder {target.parent} {problem} ({exc.strerror or exc}); the file is unchanged",
        fix=fix,
    )


def _round_trip(text: str) -> YAML:
    yaml = YAML(typ="rt")
    yaml.width = 4096  # never re-wrap the user's long lines
    yaml.preserve_quotes = True
    mapping, sequence, offset = _indentation(text)
    yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
    # ruamel writes None as nothing ("dir:"); the example and most files say null.
    yaml.representer.add_representer(
        type(None), lambda representer, _: representer.represent_scalar("tag:yaml.org,2002:null", "null")
    )
    return yaml


def _indentation(text: str) -> tuple[int, int, int]:
    """(mapping indent, sequence indent, dash offset) as the file writes them under its top-level
    keys; ruamel applies one setting to the whole file."""
    mapping = offset = None
    lines = [ln.split(" #")[0].rstrip() for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    for prev, line in itertools.pairwise(lines):
        if prev.startswith((" ", "-")) or not prev.endswith(":"):
            continue  # only the first line of a top-level block tells its indentation
        indent = len(line) - len(line.lstrip(" "))
        if line.lstrip().startswith("- "):
            offset = indent if offset is None else offset
        elif indent:
            mapping = indent if mapping is None else mapping
    mapping = mapping or 2
    offset = 2 if offset is None else offset  # the example config's layout
    return mapping, offset + 2, offset


def _style_new_values(node: Any) -> None:
    """Values from ``--set`` arrive as plain dicts and lists: sections in block style like the rest
    of the file, short lists of scalars ([0, 177, 64]) in flow style."""
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in list(items):
        if isinstance(value, dict) and not isinstance(value, CommentedMap):
            value = CommentedMap(value)
            node[key] = value
        elif isinstance(value, list) and not isinstance(value, CommentedSeq):
            seq = CommentedSeq(value)
            if all(not isinstance(v, dict | list) for v in value):
                seq.fa.set_flow_style()
            node[key] = value = seq
        _style_new_values(value)
