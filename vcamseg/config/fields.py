"""Config value types shared by the effect sections, each with a validator whose message says what
to write instead (the loader prefixes it with the file, line and key).

Validation reads no media: a background file is checked to exist and be a file; whether it can be
decoded is found out when the effect is built (a live edit that names an undecodable file is then
refused like any other invalid config, and the running one stays)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BeforeValidator, Field, ValidationInfo

from vcamseg.body import PALETTES, PART_IDS, PART_NAMES, Palette
from vcamseg.paths import expand_home

RGB = tuple[int, int, int]

Opacity = Annotated[float, Field(ge=0.0, le=1.0)]

# Standard keying colours (Rec. 709 chroma-key green/blue) and a few plain ones.
NAMED_COLORS: dict[str, RGB] = {
    "black": (0, 0, 0),
    "white": (255, 255, 255),
    "gray": (128, 128, 128),
    "grey": (128, 128, 128),
    "green": (0, 177, 64),
    "chroma_green": (0, 177, 64),
    "blue": (0, 71, 187),
    "chroma_blue": (0, 71, 187),
}


def parse_rgb(value: object, what: str = "colour") -> RGB:
    """[R, G, B] (0-255 each), '#RRGGBB' or a name from NAMED_COLORS."""
    if isinstance(value, str):
        text = value.strip().lower().replace(" ", "_").replace("-", "_")
        if text in NAMED_COLORS:
            return NAMED_COLORS[text]
        if len(text) == 7 and text.startswith("#"):
            try:
                return int(text[1:3], 16), int(text[3:5], 16), int(text[5:7], 16)
            except ValueError:
                pass
        raise ValueError(
            f"{what} {value!r} is not a colour: write [R, G, B] with values 0-255, "
            f"'#RRGGBB' or one of {', '.join(NAMED_COLORS)}"
        )
    if isinstance(value, list | tuple) and len(value) == 3:
        channels = []
        for c in value:
            if isinstance(c, bool) or not isinstance(c, int | float) or c != int(c) or not 0 <= c <= 255:
                raise ValueError(f"{what} {list(value)!r}: each of R, G, B must be a whole number 0-255")
            channels.append(int(c))
        return channels[0], channels[1], channels[2]
    raise ValueError(f"{what} {value!r} is not a colour: write [R, G, B] with values 0-255, e.g. [0, 177, 64]")


def _rgb(value: object) -> RGB:
    return parse_rgb(value)


_RGB_INPUT = Annotated[list[int], Field(min_length=3, max_length=3)] | str
Color = Annotated[RGB, BeforeValidator(_rgb, json_schema_input_type=_RGB_INPUT)]


def _palette(value: object) -> str | tuple[RGB, ...]:
    if isinstance(value, str):
        name = value.strip().lower()
        if name not in PALETTES:
            raise ValueError(
                f"unknown palette {value!r}: use one of {', '.join(PALETTES)} "
                f"or a list of {len(PART_NAMES)} [R, G, B] colours"
            )
        return name
    if not isinstance(value, list | tuple):
        raise ValueError(
            f"palette must be one of {', '.join(PALETTES)} or a list of {len(PART_NAMES)} [R, G, B] colours"
        )
    if len(value) != len(PART_NAMES):
        raise ValueError(
            f"palette has {len(value)} colour(s): give exactly {len(PART_NAMES)} [R, G, B] "
            f"(one per body part, in BodyPix order: {', '.join(PART_NAMES)})"
        )
    return tuple(parse_rgb(c, f"palette colour {i} ({PART_NAMES[i]})") for i, c in enumerate(value))


PaletteSpec = Annotated[
    str | tuple[RGB, ...],
    BeforeValidator(
        _palette,
        json_schema_input_type=Literal["rainbow", "warm", "spectral"]
        | Annotated[list[_RGB_INPUT], Field(min_length=len(PART_NAMES), max_length=len(PART_NAMES))],
    ),
]


def palette_colors(spec: str | tuple[RGB, ...]) -> Palette:
    return PALETTES[spec] if isinstance(spec, str) else spec


def _part_names(value: object) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple) or not value:
        raise ValueError(
            f"list one or more body parts by BodyPix name, e.g. [left_face, right_face]; "
            f"valid parts: {', '.join(PART_NAMES)}"
        )
    names = [str(v).strip().lower().replace("-", "_") for v in value]
    unknown = [n for n in names if n not in PART_IDS]
    if unknown:
        raise ValueError(
            f"unknown body part(s) {', '.join(map(repr, unknown))}: valid parts are {', '.join(PART_NAMES)}"
        )
    return names


PartNames = Annotated[list[str], BeforeValidator(_part_names, json_schema_input_type=list[Literal[PART_NAMES]])]


def part_id_set(names: list[str] | None) -> set[int]:
    """Part ids for names (all parts when None)."""
    return set(range(len(PART_NAMES))) if names is None else {PART_IDS[n] for n in names}


def _existing_file(value: Path, what: str, info: ValidationInfo) -> Path:
    """``~`` expanded; a relative path is taken from the config file's folder when the loader
    passes it as validation context ``{"config_dir": ...}``, else from the working directory."""
    try:
        path = expand_home(value)
    except ValueError as exc:
        raise ValueError(f"{what} {exc}") from None
    context = info.context if isinstance(info.context, dict) else {}
    if not path.is_absolute() and context.get("config_dir"):
        path = Path(context["config_dir"]) / path
    if not path.exists():
        if path.is_symlink():  # a link whose target is gone: name both, or the message looks wrong
            raise ValueError(
                f"{what} {str(path)!r} is a symbolic link to {os.readlink(path)!r}, which does not "
                "exist: fix the link or give the path of an existing file"
            )
        raise ValueError(
            f"{what} {str(path)!r} does not exist: give the path of an existing file "
            "(absolute, or relative to the config file; ~ is expanded)"
        )
    if not path.is_file():
        raise ValueError(f"{what} {str(path)!r} is not a file: give the path of the file itself")
    return path


def _image_file(value: Path, info: ValidationInfo) -> Path:
    return _existing_file(value, "background image", info)


def _video_file(value: Path, info: ValidationInfo) -> Path:
    return _existing_file(value, "background video", info)


ImageFile = Annotated[Path, AfterValidator(_image_file)]
VideoFile = Annotated[Path, AfterValidator(_video_file)]

# How a background picture or video fills the frame.
Fit = Literal["cover", "contain", "stretch"]
