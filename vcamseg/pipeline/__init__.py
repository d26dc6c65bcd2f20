"""Threads, pacing, drops, latency and stats between the source, the model, the effects and the sink.

    builder   the one composition root: Config -> parts -> Pipeline
    pipeline  Pipeline: the stages' lifecycle (start / stop order / wait) and live swaps
    settings  PipelineSettings: what the threads read while running
    capture, segment, compose, send (+ output, cards, idle): the four stages and their helpers
    frames, masks, stage, clock: what the stages share (Frame, Slot, MaskBoard, the Clock)
    stats, report: typed stats and THE formatter of their snapshot (log line, sd_notify, status)

The names below are imported lazily: ``vcamseg status`` uses `report` without paying for OpenCV.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vcamseg.pipeline.builder import build_pipeline
    from vcamseg.pipeline.pipeline import Pipeline
    from vcamseg.pipeline.settings import PipelineSettings, settings_from
    from vcamseg.pipeline.stats import PipelineStats

_LAZY = {
    "Pipeline": "vcamseg.pipeline.pipeline",
    "PipelineSettings": "vcamseg.pipeline.settings",
    "PipelineStats": "vcamseg.pipeline.stats",
    "build_pipeline": "vcamseg.pipeline.builder",
    "settings_from": "vcamseg.pipeline.settings",
}

__all__ = ["Pipeline", "PipelineSettings", "PipelineStats", "build_pipeline", "settings_from"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'vcamseg.pipeline' has no attribute {name!r}")
