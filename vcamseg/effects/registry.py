"""Every effect by name: its config model (one member of a discriminated union on ``type``) and
the class that runs it. Add an effect: write its module, then list it here."""

from __future__ import annotations

from typing import Annotated, Any, Union

from pydantic import Field

from vcamseg.effects.base import Effect, EffectConfig, GeometryEffect
from vcamseg.effects.blur import BlurConfig, BlurEffect
from vcamseg.effects.blur_parts import BlurPartsConfig, BlurPartsEffect
from vcamseg.effects.mask_view import MaskViewConfig, MaskViewEffect
from vcamseg.effects.part_colors import PartsConfig, PartsEffect
from vcamseg.effects.pixelate import PixelateConfig, PixelateEffect
from vcamseg.effects.replace import ReplaceConfig, ReplaceEffect
from vcamseg.effects.simple import MirrorConfig, MirrorEffect, NoneConfig, NoneEffect

_EFFECTS: list[tuple[type[EffectConfig], type[Any]]] = [
    (BlurConfig, BlurEffect),
    (ReplaceConfig, ReplaceEffect),
    (PartsConfig, PartsEffect),
    (PixelateConfig, PixelateEffect),
    (BlurPartsConfig, BlurPartsEffect),
    (MaskViewConfig, MaskViewEffect),
    (MirrorConfig, MirrorEffect),
    (NoneConfig, NoneEffect),
]

EFFECT_TYPES: dict[str, tuple[type[EffectConfig], type[Any]]] = {
    cfg.model_fields["type"].default: (cfg, cls) for cfg, cls in _EFFECTS
}

AnyEffectConfig = Annotated[Union[tuple(cfg for cfg, _ in _EFFECTS)], Field(discriminator="type")]  # noqa: UP007


def effect_config_class(name: object) -> type[EffectConfig] | None:
    entry = EFFECT_TYPES.get(str(name)) if name is not None else None
    return entry[0] if entry else None


def default_effects() -> list[EffectConfig]:
    """What a user gets with an empty config file: the background blurred, as video-call apps do."""
    return [BlurConfig()]


def build_effect(config: EffectConfig) -> Effect | GeometryEffect:
    return EFFECT_TYPES[config.type][1](config)
