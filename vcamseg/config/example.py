"""Render the commented example config (config/vcamseg.yaml) from the config models themselves,
so every option, its default, what it does and its BodyPix name stay in step with the code."""

from __future__ import annotations

import re
import textwrap
from typing import Any

import yaml
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from vcamseg.config.effects import EFFECT_CONFIGS
from vcamseg.config.live import Live, mark_of, policy
from vcamseg.config.root import Config

INTRO = (
    "Copy to ~/.config/vcamseg/config.yaml (or pass --config FILE) and change what you need; an empty file is a "
    "valid config. The running daemon reloads this file when it changes (and on SIGHUP) without closing the "
    "virtual camera. {live} An invalid edit is logged and the last good configuration stays."
)
FOOTER = """\
# Any key can also be set on the command line: --set segmentation.threshold=0.6, or in the
# running daemon: vcamseg set segmentation.threshold=0.6 [--save]
# Editor completion: `vcamseg config schema > vcamseg.schema.json`.
# [BodyPix: name] gives the name of the same option in BodyPix 2.0 (bodyPix.load / segment*).
"""


def _live_summary() -> str:
    """How changes apply, from the policy (config/live.py): sections that apply alike together, with
    the keys that differ from their section; the keys that apply on the next start are also marked
    where they are listed."""
    groups: dict[Live, list[str]] = {}
    exceptions: dict[Live, list[str]] = {}
    marks = policy()
    for section, info in Config.model_fields.items():
        main = mark_of(info.json_schema_extra) or Live.RESTART
        groups.setdefault(main, []).append(section)
        for key, mark in marks.items():
            if key.startswith(f"{section}.") and mark is not main:
                exceptions.setdefault(main, []).append(key)
    parts = []
    for main, sections in groups.items():
        text = f"{' and '.join(sections)} {main.value}"
        by_mark: dict[Live, list[str]] = {}
        for key in exceptions.get(main, []):
            by_mark.setdefault(marks[key], []).append(key)
        if by_mark:
            listed = ["{}: {}".format(", ".join(keys), mark.value) for mark, keys in by_mark.items()]
            text += f" (except {'; '.join(listed)})"
        parts.append(text)
    return "Changes apply: " + "; ".join(parts) + "."


def _scalar(value: Any) -> str:
    text = yaml.safe_dump(value, default_flow_style=True, width=1000, sort_keys=False).strip()
    return text.removesuffix("\n...").removesuffix("...").strip()


def _comment(info: FieldInfo, indent: str, restart: bool = False) -> list[str]:
    parts = [info.description or ""]
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    if extra.get("bodypix"):
        parts.append(f"[BodyPix: {extra['bodypix']}]")
    if restart:
        parts.append("[on restart]")
    text = " ".join(p for p in parts if p)
    return [f"{indent}# {line}" for line in _wrap(text, 96 - len(indent))]


def _wrap(text: str, width: int) -> list[str]:
    """Wrapped at spaces only (paths keep their hyphens), "[BodyPix: name]" kept on one line so it
    can be searched for (a NUL stands for its space while wrapping)."""
    protected = re.sub(r"\[BodyPix: [^\]]*\]", lambda m: m.group(0).replace(" ", "\0"), text)
    return [line.replace("\0", " ") for line in textwrap.wrap(protected, width, break_on_hyphens=False)]


def _section(model: BaseModel, indent: str, prefix: str, marks: dict[str, Live]) -> list[str]:
    lines: list[str] = []
    for name, info in type(model).model_fields.items():
        value = getattr(model, name)
        key = f"{prefix}{name}"
        lines += _comment(info, indent, restart=marks.get(key) is Live.RESTART)
        if isinstance(value, BaseModel):
            lines.append(f"{indent}{name}:")
            lines += _section(value, indent + "  ", f"{key}.", marks)
        else:
            dumped = value.model_dump(mode="json") if isinstance(value, BaseModel) else _jsonable(value)
            lines.append(f"{indent}{name}: {_scalar(dumped)}")
    return lines


def _jsonable(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _effects(cfg: Config) -> list[str]:
    info = Config.model_fields["effects"]
    lines = _comment(info, "")
    lines.append("effects:")
    for effect in cfg.effects:
        lines.append(f"  - {_scalar(effect.model_dump(mode='json'))}")
    lines.append("# Every effect and its parameters (defaults shown); list them above in the order to apply:")
    for name, config_cls in EFFECT_CONFIGS.items():
        lines.append("#")
        doc = " ".join((config_cls.__doc__ or "").split())
        for line in _wrap(f"{name}: {doc}", 94):
            lines.append(f"# {line}")
        lines.append(f"#  - type: {name}")
        for field, finfo in config_cls.model_fields.items():
            if field == "type":
                continue
            default = finfo.get_default(call_default_factory=True)
            comment = " ".join(line.removeprefix("# ") for line in _comment(finfo, ""))
            lines.append(f"#    {field}: {_scalar(_jsonable(default))}")
            if comment:
                for line in _wrap(comment, 88):
                    lines.append(f"#      # {line}")
    return lines


def render_example() -> str:
    cfg = Config()
    marks = policy()
    intro = [f"# {line}" for line in _wrap(INTRO.format(live=_live_summary()), 96)]
    lines = ["# vcamseg configuration: every option with its default.\n#\n" + "\n".join(intro) + "\n" + FOOTER]
    for name, info in Config.model_fields.items():
        if name == "effects":
            lines += _effects(cfg)
        else:
            doc = " ".join((info.annotation.__doc__ or "").split())
            lines += [f"# {line}" for line in _wrap(f"{name}: {doc}", 96)]
            lines.append(f"{name}:")
            lines += _section(getattr(cfg, name), "  ", f"{name}.", marks)
        lines.append("")
    return "\n".join(lines)
