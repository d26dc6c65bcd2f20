"""Every effect type by name: the class that runs it (its options are `vcamseg.config.effects`).
Add an effect: its config model there, its module here, then list it below."""

from __future__ import annotations

from vcamseg.config.effects import EFFECT_CONFIGS, EffectConfig
from vcamseg.effects.base import Effect, GeometryEffect
from vcamseg.effects.blur import BlurEffect
from vcamseg.effects.blur_parts import BlurPartsEffect
from vcamseg.effects.mask_view import MaskViewEffect
from vcamseg.effects.part_colors import PartsEffect
from vcamseg.effects.pixelate import PixelateEffect
from vcamseg.effects.replace import ReplaceEffect
from vcamseg.effects.simple import MirrorEffect, NoneEffect

EFFECT_CLASSES: dict[str, type[Effect] | type[GeometryEffect]] = {
    "blur": BlurEffect,
    "replace": ReplaceEffect,
    "parts": PartsEffect,
    "pixelate": PixelateEffect,
    "blur_parts": BlurPartsEffect,
    "mask": MaskViewEffect,
    "mirror": MirrorEffect,
    "none": NoneEffect,
}
assert EFFECT_CLASSES.keys() == EFFECT_CONFIGS.keys(), "every effect config has an implementation"


def build_effect(config: EffectConfig) -> Effect | GeometryEffect:
    return EFFECT_CLASSES[config.type](config)  # type: ignore[call-arg]
