"""Where the time of a frame goes, stage by stage (`StageCosts`): what ``vcamseg status`` shows as
``stages`` and ``status --json`` as ``pipeline.stages_ms``.

The stages, in the order a frame meets them: ``capture`` (the source's read and decode, and the
resize to the output size), ``model_input`` (resize and normalise for the model), ``model`` (the
inference), ``decoding`` (the model's outputs to masks, parts and poses), ``refine`` (the matte at
full resolution), ``effects`` (the configured effects), ``output`` (the sink's conversion and
write). Each is the mean over a recent window of its calls: the model's stages run once per
segmentation (every ``segment_every_n_frames``-th frame), the others once per frame.

``capture`` and ``output`` are the CPU time of their thread (a webcam's read waits for the next
frame: that wait is not a cost); the others are wall time, as the model's inference runs on a
thread pool whose work the calling thread's CPU time would not show.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Mapping
from typing import Protocol, TypedDict, runtime_checkable

STAGES = ("capture", "model_input", "model", "decoding", "refine", "effects", "output")
WINDOW = 300  # recent calls kept per stage (10 s at 30 fps)


class StagesSnapshot(TypedDict):
    """Mean milliseconds per call of each stage; None until the stage has run."""

    capture: float | None
    model_input: float | None
    model: float | None
    decoding: float | None
    refine: float | None
    effects: float | None
    output: float | None


@runtime_checkable
class ReportsStageCosts(Protocol):
    """A segmenter or compositor that says what its last call spent, by stage (`STAGES` names):
    the pipeline records it after each call. Optional: a test's stand-in need not."""

    def stage_costs(self) -> Mapping[str, float]: ...


class StageCosts:
    """Thread-safe: each stage's thread records, ``vcamseg status`` reads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ms: dict[str, deque[float]] = {stage: deque(maxlen=WINDOW) for stage in STAGES}

    def record(self, stage: str, ms: float) -> None:
        if stage not in self._ms:
            raise ValueError(f"unknown stage {stage!r}: one of {', '.join(STAGES)}")
        with self._lock:
            self._ms[stage].append(ms)

    def record_all(self, source: object) -> None:
        """Record what ``source`` reports of its last call, when it reports anything."""
        if isinstance(source, ReportsStageCosts):
            for stage, ms in source.stage_costs().items():
                self.record(stage, ms)

    def snapshot(self) -> StagesSnapshot:
        with self._lock:
            means = {stage: round(sum(v) / len(v), 2) if v else None for stage, v in self._ms.items()}
        return StagesSnapshot(**means)  # type: ignore[typeddict-item]
