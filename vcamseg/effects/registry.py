"""Every effect type by name: the class that runs it (its options are `vcamseg.config.effects`).
Add an effect: its config model there, its module here, then list it below."""

from __future__ import annotations

from vcamseg.config.effects import EFFECT_CONFIGS, EffectConfig
from vcamseg.effects.base import Effect, EffectBase
from vcamseg.effects.blur import BlurEffect
from vcamseg.effects.blur_parts import BlurPartsEffect
from vcamseg.effects.frame import FrameEffect
from vcamseg.effects.mask_view import MaskViewEffect
from vcamseg.effects.part_colors import PartsEffect
from vcamseg.effects.pixelate import PixelateEffect
from vcamseg.effects.pose import PoseEffect
from vcamseg.effects.replace import ReplaceEffect
from vcamseg.effects.simple import MirrorEffect, NoneEffect
from vcamseg.effects.spotlight import SpotlightEffect

# Each class takes the config class EFFECT_CONFIGS lists under the same name (checked below).
EFFECT_CLASSES: dict[str, type[EffectBase[EffectConfig]]] = {
    "blur": BlurEffect,
    "replace": ReplaceEffect,
    "parts": PartsEffect,
    "pixelate": PixelateEffect,
    "blur_parts": BlurPartsEffect,
    "mask": MaskViewEffect,
    "spotlight": SpotlightEffect,
    "frame": FrameEffect,
    "pose": PoseEffect,
    "mirror": MirrorEffect,
    "none": NoneEffect,
}
assert EFFECT_CLASSES.keys() == EFFECT_CONFIGS.keys(), "every effect config has an implementation"


def build_effect(config: EffectConfig) -> Effect:
    """The effect for one entry of the ``effects`` list; a ConfigError when a file it names cannot
    be used (the compositor adds the entry's position)."""
    effect_class = EFFECT_CLASSES[config.type]
    if not isinstance(config, EFFECT_CONFIGS[config.type]):
        raise TypeError(
            f"{effect_class.__name__} takes a {EFFECT_CONFIGS[config.type].__name__}, got a {type(config).__name__}"
        )
    return effect_class(config)
