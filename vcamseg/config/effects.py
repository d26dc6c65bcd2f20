"""`effects:` — every effect's options, one model per effect type, and the discriminated union on
``type`` that the ``effects`` list is validated against. The implementations live in
`vcamseg.effects` (one module per effect family); only their names and options are here, so the
config imports no effect code.

Add an effect: its config model here (and in ``EFFECT_CONFIGS``), its implementation in
`vcamseg.effects`, registered in `vcamseg.effects.registry`.
"""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import Field, model_validator

from vcamseg.config.effect_base import EffectConfig
from vcamseg.config.fields import Color, Fit, ImageFile, Opacity, PaletteSpec, PartNames, VideoFile
from vcamseg.config.people_effects import FrameConfig, PoseConfig, SpotlightConfig


class BlurConfig(EffectConfig):
    """drawBokehEffect: blur the background behind the person (the default effect)."""

    type: Literal["blur"] = "blur"
    background_blur: float = Field(
        15.0,
        ge=1.0,
        le=100.0,
        json_schema_extra={"bodypix": "backgroundBlurAmount"},
        description="How strongly the background is blurred: the Gaussian sigma in frame pixels (like CSS "
        "blur(Npx)). At 1280x720: 6 soft, 15 strong, 40 very strong.",
    )
    edge_blur: int = Field(
        3,
        ge=0,
        le=50,
        json_schema_extra={"bodypix": "edgeBlurAmount"},
        description="Soften the person's outline over this many pixels where it meets the blurred background.",
    )


class ReplaceConfig(EffectConfig):
    """Replace the background behind the person: give exactly one of image, video or color."""

    type: Literal["replace"] = "replace"
    image: ImageFile | None = Field(
        None,
        description="Background picture (JPEG, PNG, ...): must exist when the config loads; it is decoded "
        "when the effect starts (an undecodable file is then a config error).",
    )
    video: VideoFile | None = Field(
        None,
        description="Background video (mp4, webm, gif, ...); loops at its own frame rate, decoded on its own thread.",
    )
    color: Color | None = Field(
        None,
        description="Solid background [R, G, B] (0-255), '#RRGGBB' or a name: black, white, gray, "
        "green/chroma_green (0, 177, 64, for keying), blue/chroma_blue.",
    )
    fit: Fit = Field(
        "cover",
        description="How a picture or video fills the frame: cover (crop to fill), contain (letterbox) or stretch.",
    )

    @model_validator(mode="after")
    def _one_source(self) -> ReplaceConfig:
        given = [name for name in ("image", "video", "color") if getattr(self, name) is not None]
        if len(given) != 1:
            what = "none" if not given else " and ".join(given)
            raise ValueError(
                f"replace needs exactly one background source, got {what}: "
                "set one of image: PATH, video: PATH or color: [R, G, B]"
            )
        return self


class PartsConfig(EffectConfig):
    """drawMask with the coloured part map: paint the body parts over the picture."""

    type: Literal["parts"] = "parts"
    palette: PaletteSpec = Field(
        "rainbow",
        description="Part colours: 'rainbow' (BodyPix's RAINBOW_PART_COLORS), 'warm' or 'spectral' (the "
        "BodyPix demo's scales), or a list of 24 [R, G, B] colours in BodyPix part order.",
    )
    opacity: Opacity = Field(
        0.7,
        json_schema_extra={"bodypix": "maskOpacity"},
        description="How strongly the colours cover the picture: 0 = none, 1 = colours only.",
    )
    mask_blur: int = Field(
        0,
        ge=0,
        le=50,
        json_schema_extra={"bodypix": "maskBlurAmount"},
        description="Blur the coloured mask by this many pixels before drawing it.",
    )
    parts: PartNames | None = Field(
        None,
        description="Only colour these parts (BodyPix names, e.g. [left_face, right_face, torso_front]); "
        "default: all 24.",
    )
    per_person: bool = Field(
        False,
        description="One hue per person, parts shaded within it (needs segmentation.multi_person: true; "
        "otherwise the palette is used).",
    )


class PixelateConfig(EffectConfig):
    """drawPixelatedMask: turn the person into square cells (a mosaic)."""

    type: Literal["pixelate"] = "pixelate"
    cell_size: int = Field(
        10, ge=2, le=200, json_schema_extra={"bodypix": "pixelCellWidth"}, description="The cell size in frame pixels."
    )
    opacity: Opacity = Field(
        1.0,
        json_schema_extra={"bodypix": "maskOpacity"},
        description="How much of the mosaic is drawn over the person (1 = only the mosaic).",
    )


class BlurPartsConfig(EffectConfig):
    """blurBodyPart: blur the listed body parts (default: the face) for privacy."""

    type: Literal["blur_parts"] = "blur_parts"
    parts: PartNames = Field(
        ["left_face", "right_face"],
        json_schema_extra={"bodypix": "bodyPartIdsToBlur"},
        description="The parts to blur, by BodyPix part name (as in the parts effect); default: the face.",
    )
    blur: float = Field(
        20.0,
        ge=1.0,
        le=100.0,
        json_schema_extra={"bodypix": "backgroundBlurAmount"},
        description="Blur strength: the Gaussian sigma in frame pixels.",
    )
    edge_blur: int = Field(
        4,
        ge=0,
        le=50,
        json_schema_extra={"bodypix": "edgeBlurAmount"},
        description="Soften the blurred region's border over this many pixels.",
    )
    grow_px: int = Field(
        8,
        ge=0,
        le=100,
        description="Grow the blurred region by this many pixels so that hair, ears and the part's "
        "uncertain border are covered too.",
    )


class MaskViewConfig(EffectConfig):
    """Show the segmentation instead of the picture (toMask / toColoredPartMask)."""

    type: Literal["mask"] = "mask"
    mode: Literal["person", "parts", "people"] = Field(
        "person",
        description="person: the refined matte in grey (white = person); parts: the 24 parts in BodyPix's "
        "rainbow colours; people: one colour per person (needs segmentation.multi_person: true).",
    )


class MirrorConfig(EffectConfig):
    """Mirror the picture left-right (a selfie view). Later effects see the mirrored frame and
    the mirrored segmentation; effects before it are mirrored with the picture."""

    type: Literal["mirror"] = "mirror"


class NoneConfig(EffectConfig):
    """Pass the camera image through unchanged (segmentation still runs for stats)."""

    type: Literal["none"] = "none"


EFFECT_CONFIGS: dict[str, type[EffectConfig]] = {
    cls.model_fields["type"].default: cls
    for cls in (
        BlurConfig,
        ReplaceConfig,
        PartsConfig,
        PixelateConfig,
        BlurPartsConfig,
        MaskViewConfig,
        SpotlightConfig,
        FrameConfig,
        PoseConfig,
        MirrorConfig,
        NoneConfig,
    )
}

AnyEffectConfig = Annotated[Union[tuple(EFFECT_CONFIGS.values())], Field(discriminator="type")]  # noqa: UP007


def effect_config_class(name: object) -> type[EffectConfig] | None:
    """The config model of the effect type ``name`` (None: no such effect)."""
    return EFFECT_CONFIGS.get(str(name)) if name is not None else None


def default_effects() -> list[EffectConfig]:
    """What a user gets with an empty config file: the background blurred, as video-call apps do."""
    return [BlurConfig()]
