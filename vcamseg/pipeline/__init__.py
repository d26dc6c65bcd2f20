"""Threads, pacing, drops, latency and stats between the source, the model, the effects and the sink."""

from vcamseg.pipeline.builder import build_pipeline
from vcamseg.pipeline.pipeline import Pipeline
from vcamseg.pipeline.stats import PipelineStats

__all__ = ["Pipeline", "PipelineStats", "build_pipeline"]
