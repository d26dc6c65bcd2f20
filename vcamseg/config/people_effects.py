"""The options of the effects that use what BodyPix knows beyond "person or not": who is who
(per-person masks) and where the body is (poses, parts): ``spotlight``, ``frame`` and ``pose``.
Listed in `vcamseg.config.effects.EFFECT_CONFIGS` with the others."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from vcamseg.config.effect_base import EffectConfig
from vcamseg.config.fields import Color


class SpotlightConfig(EffectConfig):
    """Keep one person (the largest, the most central or the one facing the camera) and make
    everyone else background for the effects after it: a blur or replace after it hides the
    person walking behind you. Needs segmentation.multi_person: true (per-person masks)."""

    type: Literal["spotlight"] = "spotlight"
    choose: Literal["largest", "central", "facing"] = Field(
        "largest",
        description="Who is kept: largest (most pixels), central (nearest the frame's centre) or facing "
        "(nose and both eyes seen best; needs the poses of multi_person).",
    )
    switch_margin: float = Field(
        0.3,
        ge=0.0,
        le=5.0,
        description="Another person takes the spotlight only when they score this much better (0.3 = 30 %) "
        "than the kept one...",
    )
    switch_after: int = Field(
        8,
        ge=1,
        le=300,
        description="...for this many model results in a row: two similar people do not make it flip.",
    )
    grow_px: int = Field(
        12,
        ge=0,
        le=100,
        description="Keep this many pixels around the kept person's mask (their soft outline, hair), "
        "never another person's pixels.",
    )


class FrameConfig(EffectConfig):
    """Auto-framing (Center Stage): a smooth crop and zoom that keeps the person or the group
    framed. The output size stays the same and the crop never leaves the picture (no black
    borders); it holds still while nobody moves and glides at a bounded speed when someone does;
    when nobody is found for a while it eases back to the full frame. Follows the face parts (any
    config) or, with segmentation.multi_person, each person's mask and pose. Put it before the
    background effects; after spotlight it follows the kept person."""

    type: Literal["frame"] = "frame"
    target: Literal["head", "upper_body", "group"] = Field(
        "upper_body",
        description="What is framed: head (a close-up of the head and shoulders), upper_body (head to waist) "
        "or group (everyone in view).",
    )
    zoom_max: float = Field(2.0, ge=1.0, le=4.0, description="The most it zooms in (2 = half the frame's width).")
    headroom: float = Field(
        0.1,
        ge=0.0,
        le=0.4,
        description="Space above the head, as a share of the output's height (head and upper_body; with group "
        "above the highest head).",
    )
    margin: float = Field(
        0.1, ge=0.0, le=1.0, description="With group: space kept around everyone, as a share of the group's size."
    )
    smoothing: float = Field(
        0.9,
        ge=0.0,
        le=0.99,
        description="How gently the crop moves: each frame it covers (1 - smoothing) of the way to its goal "
        "(0 = at once, 0.9 = about a third of a second at 30 fps).",
    )
    dead_zone: float = Field(
        0.06,
        ge=0.0,
        le=0.5,
        description="The crop stays put until the framed subject moves by more than this share of the crop's "
        "size (or grows or shrinks by twice that): no jitter while you sit still.",
    )
    max_speed: float = Field(
        0.015,
        ge=0.001,
        le=1.0,
        description="The fastest the crop moves or zooms, per frame, as a share of the frame's width (0.015 = "
        "about half the width a second at 30 fps).",
    )
    release_after: int = Field(
        45,
        ge=1,
        le=3000,
        description="Frames without anyone found before it eases back to the full frame (45 = 1.5 s at 30 fps).",
    )


class PoseConfig(EffectConfig):
    """Draw each person's pose: the 17 keypoints and the limbs between them (tf-bodypix's
    draw-pose). Needs segmentation.multi_person: true (poses are decoded with it)."""

    type: Literal["pose"] = "pose"
    min_score: float = Field(
        0.3,
        ge=0.0,
        le=1.0,
        json_schema_extra={"bodypix": "minPartConfidence"},
        description="Keypoints scoring below are not drawn, nor the limbs that end in them.",
    )
    keypoint_color: Color = Field((0, 255, 255), description="Keypoint colour: [R, G, B], '#RRGGBB' or a name.")
    limb_color: Color = Field((0, 255, 255), description="Limb colour: [R, G, B], '#RRGGBB' or a name.")
    per_person: bool = Field(
        False, description="One colour per person (the hues of the parts effect) instead of the two colours above."
    )
    radius: int = Field(4, ge=1, le=50, description="Keypoint radius in frame pixels.")
    thickness: int = Field(2, ge=0, le=50, description="Limb line width in frame pixels (0: keypoints only).")
