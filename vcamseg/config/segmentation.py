"""`segmentation:` — how frames are segmented (segmentPerson / segmentMultiPersonParts options)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from vcamseg.config.base import Section

NAMED_RESOLUTIONS = {"low": 0.25, "medium": 0.5, "high": 0.75, "full": 1.0}


class SegmentationConfig(Section):
    """How frames are segmented: segmentPerson / segmentPersonParts, or with multi_person
    segmentMultiPerson / segmentMultiPersonParts (one mask and part map per person)."""

    internal_resolution: Literal["auto", "low", "medium", "high", "full"] | float = Field(
        "auto",
        json_schema_extra={"bodypix": "internalResolution"},
        description="internalResolution: the share of the frame size fed to the model: "
        "low (0.25), medium (0.5), high (0.75), full (1.0) or a number 0.1-1.0. 'auto' scales the "
        "frame so the model input's long side is auto_size_px: the same cost whatever the camera size.",
    )
    auto_size_px: int = Field(
        481, ge=97, le=2049, description="With internal_resolution auto: the model input's long side in pixels."
    )
    threshold: float = Field(
        0.5,
        json_schema_extra={"bodypix": "segmentationThreshold"},
        ge=0.0,
        le=1.0,
        description="segmentationThreshold: person score above which a pixel is person.",
    )
    selfie_weight: float = Field(
        0.4,
        ge=0.0,
        le=1.0,
        description="With model.selfie on: the selfie model's share of the person score (the rest is BodyPix's). "
        "Below 0.5 BodyPix alone can still decide a pixel, the selfie model alone cannot (it misses small people).",
    )
    multi_person: bool = Field(
        False,
        json_schema_extra={"bodypix": "segmentMultiPerson / segmentMultiPersonParts"},
        description="segmentMultiPerson(Parts): decode poses and split the mask into one mask per person.",
    )
    max_detections: int = Field(
        10,
        json_schema_extra={"bodypix": "maxDetections"},
        ge=1,
        le=50,
        description="maxDetections: most people decoded.",
    )
    score_threshold: float = Field(
        0.3,
        json_schema_extra={"bodypix": "scoreThreshold"},
        ge=0.0,
        le=1.0,
        description="scoreThreshold: poses scoring below are not people.",
    )
    nms_radius: float = Field(
        20.0,
        json_schema_extra={"bodypix": "nmsRadius"},
        gt=0.0,
        le=200.0,
        description="nmsRadius: pixels (model input) two people's same keypoint must be apart.",
    )
    min_keypoint_score: float = Field(
        0.3,
        json_schema_extra={"bodypix": "minKeypointScore"},
        ge=0.0,
        le=1.0,
        description="minKeypointScore: keypoints below do not count when assigning pixels to people.",
    )
    refine_steps: int = Field(
        10,
        json_schema_extra={"bodypix": "refineSteps"},
        ge=0,
        le=30,
        description="refineSteps: long-offset refinement steps when assigning pixels to people.",
    )
    flip_horizontal: bool = Field(
        False,
        json_schema_extra={"bodypix": "flipHorizontal"},
        description="flipHorizontal: mirror the results (for a mirrored preview).",
    )
    flip_average: bool = Field(
        False,
        description="Also run the mirrored frame and average the scores (about 2x the model time, steadier masks).",
    )

    @field_validator("internal_resolution", mode="before")
    @classmethod
    def _resolution(cls, value: object) -> object:
        if isinstance(value, str):
            text = value.strip().lower()
            try:
                return float(text)
            except ValueError:
                return text
        return value

    @field_validator("internal_resolution")
    @classmethod
    def _range(cls, value: str | float) -> str | float:
        if isinstance(value, float) and not 0.1 <= value <= 1.0:
            raise ValueError(
                f"internal_resolution {value} is out of range: use 0.1-1.0, low, medium, high, full or auto"
            )
        return value

    def scale_for(self, height: int, width: int) -> float:
        """The factor applied to a frame of this size before the model."""
        res = self.internal_resolution
        if res == "auto":
            return min(1.0, self.auto_size_px / max(height, width))
        if isinstance(res, str):
            return NAMED_RESOLUTIONS[res]
        return float(res)
