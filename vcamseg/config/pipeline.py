"""`pipeline:` — threading, pacing and how often the model runs."""

from __future__ import annotations

from pydantic import Field

from vcamseg.config.base import Section


class PipelineConfig(Section):
    """How frames move from the source to the output."""

    segment_every_n_frames: int = Field(
        2,
        ge=1,
        le=30,
        description="Run the model on every Nth frame; the frames between reuse the latest mask "
        "(the edge refinement still follows each frame). 2 halves the inference cost: at 720p on 2 cores about "
        "17 instead of 25 ms CPU per frame; the mask then trails fast motion by up to N-1 frames. 1: every frame.",
    )
    max_mask_wait_ms: float = Field(
        30.0,
        ge=0,
        le=1000,
        description="Real time: how long compositing waits for the mask of its own frame before "
        "using the newest mask it has (0: never wait: lowest latency, the mask is a frame behind). "
        "Offline processing always waits.",
    )
    opencv_threads: int = Field(
        1,
        ge=0,
        le=256,
        description="Threads OpenCV may use inside one call (resize, filters, colour conversion); "
        "0: OpenCV's default (all cores). The pipeline already runs its stages in parallel threads, and on small "
        "machines OpenCV's worker pool on top costs more CPU in hand-offs than it saves (about 6 ms per 720p frame "
        "on 2 cores). Process-wide.",
    )
    stats_interval_s: float = Field(
        10.0, ge=0, le=3600, description="Log a stats line this often while running (0: only at exit)."
    )
