"""The live-reload policy, declared once: every config key says how a change to it reaches the
running daemon. The reloader, the commented example config and the README's table are derived
from it (`policy`, `keys`, `render_table`); nothing else lists keys.

A key is marked in its model with ``json_schema_extra={"live": Live.X}`` (see `marked`); an unmarked
key takes the mark of the section around it, and the root `Config` marks every section.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel


class Live(StrEnum):
    """How a change applies while the daemon runs (the virtual camera never closes for one)."""

    AT_ONCE = "at once"  # read while running: used from the next frame on
    REBUILD = "at the next frame"  # built beside the running one, switched to between two frames
    MODEL = "once the new model is ready (the old one runs meanwhile)"  # prepared in the background
    REOPEN = "by switching the source"  # the camera (or file) is switched; the output stays open
    RESTART = "on the next start"  # used to open the output or the service

    def describe(self) -> str:
        return {
            Live.AT_ONCE: "at once",
            Live.REBUILD: "at the next frame (built beside the running one, then switched to)",
            Live.MODEL: "in the background: the new model (or decoding) is prepared while the running one serves, "
            "then swapped in",
            Live.REOPEN: "by switching the source (the virtual camera stays open)",
            Live.RESTART: "on the next start (`systemctl --user restart vcamseg`): it opens the virtual camera or "
            "the service, which stay open while running",
        }[self]


def marked(live: Live, **extra: Any) -> dict[str, Any]:
    """``json_schema_extra`` for a field (or section) with this live mark, plus other extras."""
    return {"live": live.value, **extra}


def mark_of(extra: object) -> Live | None:
    if isinstance(extra, dict) and "live" in extra:
        return Live(extra["live"])
    return None


def policy(model: type[BaseModel] | None = None, inherited: Live = Live.RESTART, prefix: str = "") -> dict[str, Live]:
    """{dotted key: how a change to it applies}, for every leaf key of ``model`` (default: `Config`);
    sections are walked into, lists (``effects``) are one key."""
    if model is None:
        from vcamseg.config.root import Config

        model = Config
    out: dict[str, Live] = {}
    for name, info in model.model_fields.items():
        mark = mark_of(info.json_schema_extra) or inherited
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            out.update(policy(annotation, mark, f"{prefix}{name}."))
        else:
            out[f"{prefix}{name}"] = mark
    return out


def keys(live: Live, section: str | None = None) -> frozenset[str]:
    """The keys with this mark (relative to ``section`` when given: ``idle.fps`` for output)."""
    head = f"{section}." if section else ""
    return frozenset(k.removeprefix(head) for k, v in policy().items() if v is live and k.startswith(head))


def render_table() -> str:
    """The README's table of what applies live: per section, the keys grouped by how they apply."""
    by_section: dict[str, dict[Live, list[str]]] = {}
    for key, live in policy().items():
        section, _, rest = key.partition(".")
        by_section.setdefault(section, {}).setdefault(live, []).append(rest or section)
    lines = ["| section | keys | a change applies |", "|---|---|---|"]
    for section, groups in by_section.items():
        only = len(groups) == 1
        for live, names in groups.items():
            shown = "all" if only else ", ".join(f"`{n}`" for n in names)
            lines.append(f"| `{section}` | {shown} | {live.describe()} |")
    return "\n".join(lines) + "\n"
