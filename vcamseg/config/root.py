"""The whole configuration: one pydantic model, every key with a default."""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

from vcamseg.config.base import Section
from vcamseg.config.io import OutputConfig, SourceConfig
from vcamseg.config.model import ModelConfig
from vcamseg.config.pipeline import PipelineConfig
from vcamseg.config.segmentation import SegmentationConfig
from vcamseg.config.service import ServiceConfig
from vcamseg.effects.refine import MaskConfig
from vcamseg.effects.registry import AnyEffectConfig, default_effects


class Config(Section):
    """Root of config.yaml. An empty file is a valid config."""

    model: ModelConfig = Field(default_factory=ModelConfig)
    segmentation: SegmentationConfig = Field(default_factory=SegmentationConfig)
    mask: MaskConfig = Field(default_factory=MaskConfig)
    effects: list[AnyEffectConfig] = Field(
        default_factory=default_effects, description="Effects applied in order to every frame.")
    source: SourceConfig = Field(default_factory=SourceConfig)
    output: OutputConfig = Field(default_factory=OutputConfig)
    pipeline: PipelineConfig = Field(default_factory=PipelineConfig)
    service: ServiceConfig = Field(default_factory=ServiceConfig)

    @field_validator("effects", mode="before")
    @classmethod
    def _empty_list_is_no_effects(cls, value: Any) -> Any:
        # "effects:" with every item commented out reads as null: no effects, not an error.
        return [] if value is None else value
