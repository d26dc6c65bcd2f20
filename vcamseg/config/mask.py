"""`mask:` — how the person mask is cleaned up before the effects use it (edge refinement, soft
edge, temporal smoothing, grow/shrink/feather). The refiner that does it is
`vcamseg.effects.refine`."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from vcamseg.config.base import Section


class MaskConfig(Section):
    """`mask:` — how the person mask is cleaned up before the effects use it (all effects share it)."""

    edges: Literal["guided_color", "guided", "none"] = Field(
        "guided_color",
        description="Edge refinement guided by the frame: 'guided_color' (fast guided filter on the "
        "colour image), 'guided' (on the grey image: ~1.5 ms less at 720p, misses edges between equally bright "
        "colours; edge_radius 0.02 suits it best) or 'none' (the model's upsampled scores).",
    )
    edge_radius: float = Field(
        0.025,
        ge=0.005,
        le=0.2,
        description="Guided filter radius as a share of the frame's long side (0.025 = 32 px "
        "at 1280x720): the band in which the matte's edges move to the frame's edges. It matches the model's blur, "
        "which scales with the frame (BodyPix's output cells are ~1/30 of the long side).",
    )
    edge_eps: float = Field(
        0.0002,
        gt=0,
        le=1,
        description="Guided filter regularisation: larger = smoother matte that follows only "
        "strong edges; smaller = follows faint edges (and noise).",
    )
    softness: float = Field(
        0.15,
        ge=0.0,
        le=1.0,
        description="Width of the soft edge in score units: the matte goes from 0 to 1 as the "
        "refined person score goes from threshold - softness/2 to threshold + softness/2 (the threshold is "
        "segmentation.threshold). 0 = hard cut-out.",
    )
    temporal_smoothing: float = Field(
        0.7,
        ge=0.0,
        le=0.95,
        description="Flicker reduction: the share of the previous mask kept where the picture "
        "did not change (0 = off). Where it changed, the new mask is used at once, so moving hands do not lag.",
    )
    motion_threshold: float = Field(
        12.0,
        ge=1.0,
        le=255.0,
        description="Change in grey level (0-255, at reduced resolution) from which a pixel "
        "counts as moving and takes the new mask without smoothing; below half of it is sensor noise.",
    )
    dilate_px: int = Field(0, ge=0, le=50, description="Grow the matte by this many pixels (keeps hair and ears).")
    erode_px: int = Field(0, ge=0, le=50, description="Shrink the matte by this many pixels (cuts a background rim).")
    feather_px: int = Field(0, ge=0, le=50, description="Soften the matte edge further with a box blur of this radius.")
