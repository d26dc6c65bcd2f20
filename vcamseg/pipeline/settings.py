"""`PipelineSettings`: exactly what the pipeline's threads read while running, as one frozen
value. ``Pipeline.set_settings`` swaps it as a whole; a thread reads it once per turn, so it never
sees half a change. Everything else in the config was used to build a part (source, sink,
segmenter, compositor, monitor) and changes by replacing that part.

Each field comes from one config key (`CONFIG_KEYS`); every one of them is marked
``Live.AT_ONCE`` in `vcamseg.config.live` (a test checks it), which is what makes the reloader
apply it with ``set_settings``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vcamseg.config import Config


@dataclass(frozen=True)
class PipelineSettings:
    """The defaults are the config's."""

    segment_every_n: int = 2  # run the model on every Nth frame
    max_mask_wait_s: float = 0.030  # real time: how long compositing waits for its own frame's mask
    opencv_threads: int = 1  # process-wide; 0: OpenCV's default
    source_retry_interval_s: float = 1.0  # a lost source is reopened this often
    source_stall_timeout_s: float = 2.0  # no frame for this long: the placeholder instead of repeats
    output_retry_interval_s: float = 2.0  # a lost output is reopened this often
    idle_grace_s: float = 5.0  # without a reader this long: idle
    idle_fps: float = 2.0  # the idle picture's rate


# PipelineSettings field -> (the config key it is read from, what the key's value is divided by).
CONFIG_KEYS: dict[str, tuple[str, int]] = {
    "segment_every_n": ("pipeline.segment_every_n_frames", 1),
    "max_mask_wait_s": ("pipeline.max_mask_wait_ms", 1000),
    "opencv_threads": ("pipeline.opencv_threads", 1),
    "source_retry_interval_s": ("source.retry_interval_s", 1),
    "source_stall_timeout_s": ("source.stall_timeout_s", 1),
    "output_retry_interval_s": ("output.retry_interval_s", 1),
    "idle_grace_s": ("output.idle.grace_s", 1),
    "idle_fps": ("output.idle.fps", 1),
}


def settings_from(config: Config) -> PipelineSettings:
    """The settings for ``config`` (read through `CONFIG_KEYS`, nothing else)."""
    values: dict[str, Any] = {}
    for field in fields(PipelineSettings):
        key, divisor = CONFIG_KEYS[field.name]
        value: Any = config
        for name in key.split("."):
            value = getattr(value, name)
        values[field.name] = value / divisor if divisor != 1 else value
    return PipelineSettings(**values)
