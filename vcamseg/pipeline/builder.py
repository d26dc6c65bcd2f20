"""From a `Config` to a ready `Pipeline`: source, output size and rate, sink, reader detection."""

from __future__ import annotations

import logging
from collections.abc import Callable

from vcamseg.config import Config
from vcamseg.errors import InputError
from vcamseg.io.loopback import ReaderMonitor, ReaderState, create_monitor
from vcamseg.io.sinks import sink_factory
from vcamseg.io.sources import Source, SourceError, open_source, source_factory, source_kind
from vcamseg.pipeline.pipeline import CompositorLike, FrameSentHook, Pipeline, SegmenterLike

log = logging.getLogger(__name__)


def output_geometry(config: Config, source: Source | None) -> tuple[int, int, float]:
    """Output width, height, fps: the configured ones, else the source's (one side given: the other
    follows the source's aspect ratio, rounded to an even number for YUV formats)."""
    src_w, src_h, src_fps = (source.width, source.height, source.fps) if source is not None else \
        (config.source.width, config.source.height, config.source.fps)
    out = config.output
    width, height = out.width, out.height
    if width is None and height is None:
        width, height = src_w, src_h
    elif width is None:
        width = max(16, round(height * src_w / src_h / 2) * 2)
    elif height is None:
        height = max(16, round(width * src_h / src_w / 2) * 2)
    return width, height, out.fps or src_fps


def build_pipeline(config: Config, *, paced: bool = True, max_frames: int | None = None,
                   segmenter: SegmenterLike | None = None, compositor: CompositorLike | None = None,
                   on_frame_sent: FrameSentHook | None = None) -> Pipeline:
    """Open the source once (to learn its size and rate; a camera that is not there yet is retried
    by the pipeline, offline a missing source is an error) and wire everything up. Nothing runs
    until ``start()``; the model loads in the pipeline's segmentation thread unless given."""
    # Offline, an image is one frame (or --frames N of it); the test pattern needs a count too.
    count = max_frames if max_frames is not None else (1 if not paced else None)
    try:
        first = open_source(config.source, paced=paced, count=count)
    except SourceError as exc:
        if not paced:
            raise InputError(str(exc), fix="check the camera (`vcamseg devices`)") from None
        # The capture thread reports it (once per outage) and keeps retrying.
        log.debug("source not available at start: %s", exc)
        first = None
    width, height, fps = output_geometry(config, first)
    if first is not None:
        log.info("source: %s", first.description)
    if compositor is None:
        from vcamseg.effects.compositor import Compositor

        compositor = Compositor(config.mask, config.effects)
    segmenter_factory: Callable[[], SegmenterLike] | None = None
    if segmenter is None:
        def segmenter_factory() -> SegmenterLike:
            from vcamseg.models.resolve import resolve_model_files
            from vcamseg.segmentation.loader import load_model
            from vcamseg.segmentation.segmenter import Segmenter

            return Segmenter(load_model(config.model, resolve_model_files(config.model)), config.segmentation)

    idle = config.output.idle

    def monitor_factory(path: str, on_change: Callable[[ReaderState], None]) -> ReaderMonitor:
        return create_monitor(path, idle.detection, resync_interval_s=idle.resync_interval_s,
                              min_hold_s=idle.min_reader_hold_s, on_change=on_change)

    if not paced and source_kind(config.source.device) == "camera":
        log.info("offline processing of a live camera: every frame is processed, none at the camera's pace")
    return Pipeline(config, source_factory(config.source, paced=paced, count=count),
                    sink_factory(config.output, width, height, fps), size=(width, height), fps=fps, paced=paced,
                    compositor=compositor, segmenter=segmenter, segmenter_factory=segmenter_factory,
                    monitor_factory=monitor_factory, first_source=first, max_frames=max_frames,
                    on_frame_sent=on_frame_sent)
