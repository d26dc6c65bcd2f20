"""The whole configuration: one pydantic model, every key with a default."""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

from vcamseg.config.base import Section
from vcamseg.config.effects import AnyEffectConfig, default_effects
from vcamseg.config.io import OutputConfig, SourceConfig
from vcamseg.config.live import Live, marked
from vcamseg.config.mask import MaskConfig
from vcamseg.config.model import ModelConfig
from vcamseg.config.pipeline import PipelineConfig
from vcamseg.config.segmentation import SegmentationConfig
from vcamseg.config.service import ServiceConfig


class Config(Section):
    """Root of config.yaml. An empty file is a valid config."""

    model: ModelConfig = Field(default_factory=ModelConfig, json_schema_extra=marked(Live.MODEL))
    segmentation: SegmentationConfig = Field(default_factory=SegmentationConfig, json_schema_extra=marked(Live.MODEL))
    mask: MaskConfig = Field(default_factory=MaskConfig, json_schema_extra=marked(Live.REBUILD))
    effects: list[AnyEffectConfig] = Field(
        default_factory=default_effects,
        json_schema_extra=marked(Live.REBUILD),
        description="Effects applied in order to every frame.",
    )
    source: SourceConfig = Field(default_factory=SourceConfig, json_schema_extra=marked(Live.REOPEN))
    output: OutputConfig = Field(default_factory=OutputConfig, json_schema_extra=marked(Live.RESTART))
    pipeline: PipelineConfig = Field(default_factory=PipelineConfig, json_schema_extra=marked(Live.AT_ONCE))
    service: ServiceConfig = Field(default_factory=ServiceConfig, json_schema_extra=marked(Live.RESTART))

    @field_validator("effects", mode="before")
    @classmethod
    def _empty_list_is_no_effects(cls, value: Any) -> Any:
        # "effects:" with every item commented out reads as null: no effects, not an error.
        return [] if value is None else value
