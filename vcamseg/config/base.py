"""Shared base for every config section: strict, typed, documented."""

from __future__ import annotations

import types
import typing
from pathlib import Path
from typing import Annotated, Any, Literal, get_args, get_origin

from pydantic import AfterValidator, BaseModel, ConfigDict, model_validator

from vcamseg.paths import expand_home


class Section(BaseModel):
    """A config section. Unknown keys are errors (typos fail loudly), values are re-validated
    on assignment (``vcamseg set`` and live reload go through the same checks)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=False)

    @model_validator(mode="before")
    @classmethod
    def _read_yaml_values(cls, data: Any) -> Any:
        # "mask:" with every key below commented out reads as null: the section at its defaults.
        if data is None:
            return {}
        if not isinstance(data, dict):
            return data
        # pydantic turns true/false into 1/0 for numbers, and YAML reads yes/no/on/off as booleans:
        # "threads: yes" or "quant_bytes: true" would silently mean 1. Such a value is handed on as
        # a YAML boolean that no number type accepts, so the error names the key and the value.
        fields = cls.model_fields
        return {
            key: YamlBoolean(value)
            if isinstance(value, bool)
            and key in fields
            and _takes_numbers(fields[key].annotation)
            and not _takes_booleans(fields[key].annotation)
            else value
            for key, value in data.items()
        }


class YamlBoolean:
    """true/false where a number belongs: fails validation, shown as the YAML value."""

    def __init__(self, value: bool) -> None:
        self.value = value

    def __repr__(self) -> str:
        return str(self.value).lower()


def _members(annotation: Any) -> list[Any]:
    """The types a field accepts, with unions and Annotated unpacked."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _members(get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return [m for arg in get_args(annotation) for m in _members(arg)]
    return [annotation]


def _takes_numbers(annotation: Any) -> bool:
    for member in _members(annotation):
        if member in (int, float):
            return True
        if get_origin(member) is Literal and any(
            isinstance(a, int | float) and not isinstance(a, bool) for a in get_args(member)
        ):
            return True
    return False


def _takes_booleans(annotation: Any) -> bool:
    for member in _members(annotation):
        if member is bool or member is Any:
            return True
        if get_origin(member) is Literal and any(isinstance(a, bool) for a in get_args(member)):
            return True
    return False


def home_checked(value: Any) -> Any:
    """A path (or a device text that may be one) whose ``~`` can be expanded: checked when the
    config loads, kept as written (it is expanded where it is used)."""
    if isinstance(value, Path | str) and str(value).startswith("~"):
        expand_home(Path(value))
    return value


# A path in the config that may start with ~ (expanded where used; an unknown ~user is an error).
UserPath = Annotated[Path, AfterValidator(home_checked)]
