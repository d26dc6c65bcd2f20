"""The config's lists of tagged sections (today ``effects:``, told apart by ``type``), as the generic
``--set`` and error code needs to know them. Read off the models themselves (the root field's
``list[Annotated[Union[...], Field(discriminator=...)]]`` and its default factory), so a new
list of that kind, or a new effect in `vcamseg.config.effects`, needs no change here."""

from __future__ import annotations

import functools
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from vcamseg.config.root import Config


@dataclass(frozen=True)
class TaggedList:
    """A root-level list whose items are sections of several kinds, one key (``tag``) naming each
    item's kind."""

    key: str  # the list's key in the config: "effects"
    tag: str  # the key in each item that picks its model: "type"
    models: Mapping[str, type[BaseModel]]  # tag value -> the item's model, in declaration order
    defaults: Callable[[], Sequence[BaseModel]]  # the items an absent list stands for

    @property
    def item(self) -> str:
        """One item as messages name it: the list's key without its plural s ("effect")."""
        return self.key.removesuffix("s")

    def model_for(self, tag_value: object) -> type[BaseModel] | None:
        """The model of the item whose tag is ``tag_value`` (None: no such kind)."""
        return self.models.get(str(tag_value)) if tag_value is not None else None

    def default_items(self) -> list[dict[str, Any]]:
        """The default items as raw data, as if the file had them."""
        return [item.model_dump(mode="json") for item in self.defaults()]


@functools.cache
def tagged_lists() -> dict[str, TaggedList]:
    """Every tagged list of the root config, by key."""
    found = {}
    for key, info in Config.model_fields.items():
        if get_origin(info.annotation) is not list or info.default_factory is None:
            continue
        item = get_args(info.annotation)[0]
        if get_origin(item) is not Annotated:
            continue
        union, *metadata = get_args(item)
        tag = next(
            (m.discriminator for m in metadata if isinstance(m, FieldInfo) and isinstance(m.discriminator, str)), None
        )
        if tag is None or get_origin(union) not in (typing.Union, types.UnionType):
            continue
        models = {member.model_fields[tag].default: member for member in get_args(union)}
        found[key] = TaggedList(key, tag, models, info.default_factory)  # type: ignore[arg-type]
    return found


def tagged_list(key: object) -> TaggedList | None:
    """The tagged list whose key in the root config is ``key``, if it is one."""
    return tagged_lists().get(key) if isinstance(key, str) else None


def is_item_model_name(part: object) -> bool:
    """``part`` is the tag value of some tagged item: pydantic adds those to error locations."""
    return any(part in tagged.models for tagged in tagged_lists().values())
