"""The one composition root: from a `Config` to the parts, and to a ready `Pipeline`.

Everything that builds a source, a sink, a reader monitor, a segmenter or a compositor for the
daemon, ``vcamseg process``, ``vcamseg snapshot`` or the live reload goes through here, so the
wiring rules (which source to open and how, the output's size and rate, reader detection, where
the model comes from) exist once. Nothing here starts a thread.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from vcamseg.config import Config
from vcamseg.config.io import OutputConfig
from vcamseg.config.model import ModelConfig
from vcamseg.config.segmentation import SegmentationConfig
from vcamseg.effects.compositor import Compositor
from vcamseg.errors import InputError
from vcamseg.io.loopback import ReaderMonitor, ReaderState, create_monitor
from vcamseg.io.sinks import sink_factory
from vcamseg.io.sources import Source, SourceError, SourceFactory, open_source, source_factory, source_kind
from vcamseg.pipeline.clock import SYSTEM_CLOCK, Clock
from vcamseg.pipeline.compose import CompositorLike
from vcamseg.pipeline.pipeline import MonitorFactory, Pipeline
from vcamseg.pipeline.segment import SegmenterLike
from vcamseg.pipeline.send import FrameSentHook
from vcamseg.pipeline.settings import settings_from

if TYPE_CHECKING:
    from vcamseg.segmentation.segmenter import Segmenter

log = logging.getLogger(__name__)


# --- the segmenter and the compositor ----------------------------------------------------------------


def build_segmenter(config: Config, running: SegmenterLike | None = None) -> Segmenter:
    """THE one place a `Segmenter` is made (the pipeline's first one, in its segment thread, and
    the reloader's): for ``config.model`` and ``config.segmentation``. ``running``: the one in
    use; when it runs the same model, the new one shares its loaded model (and its backend where
    the input size rule is the same), so a segmentation-only change loads nothing. Otherwise the
    model's files are resolved (local folder, cache, download: `resolve_model_files`) and loaded
    (`load_model`) before the Segmenter exists. Not prepared: the caller prepares it for its frame
    size (``prepare``). Slow; raises VcamsegError when the model cannot be had."""
    from vcamseg.models.resolve import resolve_model_files
    from vcamseg.segmentation.loader import load_model
    from vcamseg.segmentation.segmenter import Segmenter

    if isinstance(running, Segmenter) and running.model.config == config.model:
        return running.reconfigured(config.segmentation)
    return Segmenter(load_model(config.model, resolve_model_files(config.model)), config.segmentation)


def segmenter_for(model: ModelConfig, segmentation: SegmentationConfig, model_json: Path | None = None) -> Segmenter:
    """A segmenter of ``model`` (or of the BodyPix file ``model_json``) with ``segmentation``, made
    in the same three steps as `build_segmenter`: for tests, benchmarks and `vcamseg segment`."""
    from vcamseg.models.resolve import resolve_model_files
    from vcamseg.segmentation.loader import load_model
    from vcamseg.segmentation.segmenter import Segmenter

    return Segmenter(load_model(model, resolve_model_files(model, bodypix_json=model_json)), segmentation)


def build_compositor(config: Config) -> Compositor:
    """The mask refinement and the effects; raises ConfigError (naming the effect) when one
    cannot be built (an undecodable background)."""
    return Compositor(config.mask, config.effects)


# --- the source ----------------------------------------------------------------------------------


def output_geometry(config: Config, source: Source | None) -> tuple[int, int, float]:
    """Output width, height, fps: the configured ones, else the source's (one side given: the other
    follows the source's aspect ratio, rounded to an even number for YUV formats)."""
    src_w, src_h, src_fps = (
        (source.width, source.height, source.fps)
        if source is not None
        else (config.source.width, config.source.height, config.source.fps)
    )
    out = config.output
    width, height = out.width, out.height
    if width is None and height is None:
        width, height = src_w, src_h
    elif width is None:
        width = max(16, round(height * src_w / src_h / 2) * 2)
    elif height is None:
        height = max(16, round(width * src_h / src_w / 2) * 2)
    return width, height, out.fps or src_fps


def _frame_count(paced: bool, max_frames: int | None) -> int | None:
    # Offline, an image is one frame (or --frames N of it); the test pattern needs a count too.
    return max_frames if max_frames is not None else (1 if not paced else None)


def open_first_source(config: Config, *, paced: bool, max_frames: int | None = None) -> Source | None:
    """The source, opened once at the start to learn its size and rate. Real time, one that is not
    there yet is None (the capture thread retries it and reports it); offline it is an error."""
    try:
        return open_source(config.source, paced=paced, count=_frame_count(paced, max_frames))
    except SourceError as exc:
        if not paced:
            raise InputError(str(exc), fix="check the camera (`vcamseg devices`)") from None
        log.debug("source not available at start: %s", exc)
        return None


def probe_source(config: Config) -> Source | None:
    """A new source for a live switch, opened before anything changes so a missing file is refused
    (raises InputError). None: a camera (opened by the capture thread once it has closed the old
    one: a camera may not be opened twice) or not there yet (retried by the pipeline)."""
    if source_kind(config.source.device) == "camera":
        return None
    try:
        return open_source(config.source, paced=True)
    except SourceError as exc:
        log.info("new source not available yet (%s): the pipeline keeps trying", exc)
        return None


def live_source_factory(config: Config, first: Source | None) -> SourceFactory:
    """What a running pipeline switches to (``set_source``): ``first`` (from `probe_source`), then
    the configured source, reopened after each failure."""
    return source_factory(config.source, paced=True, first=first)


# --- the output and reader detection ---------------------------------------------------------------


def monitor_factory_for(output: OutputConfig) -> MonitorFactory:
    """Reader detection for the virtual camera, as ``output.idle`` configures it."""
    idle = output.idle

    def monitor_factory(path: str, on_change: Callable[[ReaderState], None]) -> ReaderMonitor:
        return create_monitor(
            path,
            idle.detection,
            resync_interval_s=idle.resync_interval_s,
            min_hold_s=idle.min_reader_hold_s,
            on_change=on_change,
        )

    return monitor_factory


# --- the pipeline --------------------------------------------------------------------------------


def build_pipeline(
    config: Config,
    *,
    paced: bool = True,
    max_frames: int | None = None,
    segmenter: SegmenterLike | None = None,
    compositor: CompositorLike | None = None,
    on_frame_sent: FrameSentHook | None = None,
    clock: Clock = SYSTEM_CLOCK,
    stop_timeout_s: float = 1.0,
) -> Pipeline:
    """Open the source once (`open_first_source`) and wire everything up. Nothing runs until
    ``start()``; the model loads in the pipeline's segmentation thread (`build_segmenter`) unless
    ``segmenter`` is given; the compositor is built from the config unless given."""
    first = open_first_source(config, paced=paced, max_frames=max_frames)
    width, height, fps = output_geometry(config, first)
    if first is not None:
        log.info("source: %s", first.description)
    if compositor is None:
        compositor = build_compositor(config)
    factory: Callable[[], SegmenterLike] | None = None if segmenter is not None else lambda: build_segmenter(config)
    if not paced and source_kind(config.source.device) == "camera":
        log.info("offline processing of a live camera: every frame is processed, none at the camera's pace")
    count = _frame_count(paced, max_frames)
    return Pipeline(
        settings_from(config),
        source_factory(config.source, paced=paced, count=count),
        sink_factory(config.output, width, height, fps),
        size=(width, height),
        fps=fps,
        paced=paced,
        compositor=compositor,
        segmenter=segmenter,
        segmenter_factory=factory,
        monitor_factory=monitor_factory_for(config.output),
        first_source=first,
        max_frames=max_frames,
        on_frame_sent=on_frame_sent,
        clock=clock,
        stop_timeout_s=stop_timeout_s,
    )
