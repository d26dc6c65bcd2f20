"""The real-time pipeline: four stages, each in its own thread, joined by one-item slots.

    capture ──Frame──▶ compose ──Frame──▶ send ──▶ sink
                         │  ▲
                 request │  │ newest Segmentation (MaskBoard)
                         ▼  │
                       segment

* capture (`capture`) reads the source continuously and keeps only the newest frame; it owns
  reconnecting a lost source and releasing the camera while idle.
* segment (`segment`) runs the model on the frames compose asks for.
* compose (`compose`) composites each frame with the newest mask, waiting a little for its own.
* send (`send`) delivers each new frame as soon as it is ready, paced by a token bucket, with
  repeats, placeholders and the idle card as fillers (`idle` decides when nobody watches).

Offline (``paced=False``) the slots block instead of replacing: every frame is processed and sent,
as fast as the stages go, and the pipeline finishes at the end of the source.

The pipeline knows nothing of the config file: it is given its parts (built by `builder`) and a
`PipelineSettings`, the few values its threads read while running.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from types import TracebackType
from typing import Self

import cv2

from vcamseg.errors import VcamsegError
from vcamseg.io.loopback import ReaderMonitor, ReaderState
from vcamseg.io.sinks import SinkFactory
from vcamseg.io.sources import Source, SourceFactory
from vcamseg.pipeline.capture import CaptureLoop
from vcamseg.pipeline.clock import SYSTEM_CLOCK, Clock
from vcamseg.pipeline.compose import Closable, ComposeLoop, CompositorLike
from vcamseg.pipeline.frames import Frame, Slot
from vcamseg.pipeline.idle import IdleController
from vcamseg.pipeline.masks import MaskBoard
from vcamseg.pipeline.output import Output
from vcamseg.pipeline.segment import SegmenterLike, SegmentLoop
from vcamseg.pipeline.send import FrameSentHook, Sender
from vcamseg.pipeline.settings import PipelineSettings
from vcamseg.pipeline.stage import Stage, StageContext
from vcamseg.pipeline.stats import PipelineStats, Readers
from vcamseg.segmentation.result import Segmentation

log = logging.getLogger(__name__)

# (device path, on_change callback) -> monitor; called once the virtual camera is open.
MonitorFactory = Callable[[str, Callable[[ReaderState], None]], ReaderMonitor]


class Pipeline:
    """``start()``, ``stop()``; ``wait()`` for the end of a finite source (offline processing). As a
    context manager: started on entry, stopped (within ``stop_timeout_s``) on exit.

    ``size`` and ``fps`` are the output's. Give ``segmenter`` or ``segmenter_factory``: a factory is
    called in the segmentation thread, so the output starts (with a "starting" card) while the
    model loads. ``monitor_factory`` builds the reader detection for a virtual camera output
    (outputs without a ``device_path`` never idle). ``set_source``, ``set_segmenter``,
    ``set_compositor`` and ``set_settings`` swap parts while running (live reload); they are
    thread-safe.
    """

    def __init__(
        self,
        settings: PipelineSettings,
        source: SourceFactory,
        sink: SinkFactory,
        *,
        size: tuple[int, int],
        fps: float,
        paced: bool = True,
        compositor: CompositorLike,
        segmenter: SegmenterLike | None = None,
        segmenter_factory: Callable[[], SegmenterLike] | None = None,
        monitor_factory: MonitorFactory | None = None,
        first_source: Source | None = None,
        max_frames: int | None = None,
        on_frame_sent: FrameSentHook | None = None,
        clock: Clock = SYSTEM_CLOCK,
        stop_timeout_s: float = 1.0,
    ) -> None:
        self.width, self.height = size
        self.fps = fps
        self.paced = paced
        self.max_frames = max_frames
        self.stop_timeout_s = stop_timeout_s
        self.stats = PipelineStats()
        self.error: BaseException | None = None
        self._context = StageContext(settings, self.stats, clock, self.width, self.height, paced)
        self._first_source = first_source
        self._monitor_factory = monitor_factory
        self._output = Output(sink, self.stats, clock, paced=paced)
        self._idle = IdleController(self.stats, clock)
        frames: Slot[Frame] = Slot(blocking=not paced)
        outputs: Slot[Frame] = Slot(blocking=not paced)
        requests: Slot[Frame] = Slot()
        self._slots = (frames, outputs, requests)
        self._outputs = outputs
        self._board = MaskBoard()
        self._segment = SegmentLoop(self._context, requests, self._board, segmenter, segmenter_factory)
        self._capture = CaptureLoop(
            self._context, source, first_source, frames, self._idle, self._segment.ready, max_frames
        )
        self._compose = ComposeLoop(self._context, frames, requests, outputs, self._board, compositor)
        self._send = Sender(
            self._context,
            outputs,
            self._output,
            self._idle,
            fps=fps,
            last_frame_at=lambda: self._capture.last_frame_at,
            on_frame_sent=on_frame_sent,
        )

    @property
    def settings(self) -> PipelineSettings:
        return self._context.settings

    @property
    def expected_frames(self) -> int | None:
        """Offline: how many frames will come (``max_frames``, else a video's length when known)."""
        if self.max_frames is not None:
            return self.max_frames
        if self.paced or self._first_source is None:
            return None
        return self._first_source.frame_count

    # --- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> None:
        """Open the sink (errors raise here, and close the first source), then start the threads:
        capture, segment, compose, send."""
        _set_opencv_threads(self.settings.opencv_threads)
        try:
            sink = self._output.open()
        except BaseException:
            if self._first_source is not None:
                self._first_source.close()
            raise
        if self._monitor_factory is not None and sink.device_path is not None and self.paced:
            # Wake the sender the moment a reader appears, so the camera is back within a second.
            self._idle.watch(self._monitor_factory(sink.device_path, lambda state: self._outputs.poke()))
        self.stats.detection_is(self._idle.monitor.method, Readers.UNKNOWN if self._idle.watched else Readers.NA)
        self._idle.monitor.start()
        self._context.running.set()
        for stage in (self._capture, self._segment, self._compose, self._send):
            stage.start(self._stage_failed)
        log.info(
            "pipeline started: %dx%d at %g fps, %s, segmentation every %d frame(s), output %s",
            self.width,
            self.height,
            self.fps,
            "paced" if self.paced else "offline (every frame, unpaced)",
            self.settings.segment_every_n,
            sink.description,
        )

    def wait(self, timeout: float | None = None) -> bool:
        """True once the pipeline finished (end of a finite source, or an error)."""
        return self._context.finished.wait(timeout)

    def stop(self, timeout: float | None = None) -> None:
        """Stop within ``timeout`` (default ``stop_timeout_s``): releases the camera, closes the
        output (finalising files). Stages still busy then (a camera read or a model load that
        cannot be interrupted) are left to end with the process."""
        clock = self._context.clock
        deadline = clock.monotonic() + (self.stop_timeout_s if timeout is None else timeout)
        self._halt()
        # The stop order: send first (it closes the sink: files are finished before we return),
        # then compose (the compositor is closed after it), capture (releases the camera), and
        # segment last, unless the model still loads: that cannot be interrupted, and waiting for
        # it would only delay the stop (nothing it holds needs finishing).
        for stage in (self._send, self._compose, self._capture, self._segment):
            if not stage.started:
                continue
            if stage is self._segment and not self._segment.ready.is_set():
                log.info("stopping while the model loads")
                continue
            if not stage.join(deadline - clock.monotonic()):
                log.warning(
                    "vcamseg-%s did not stop in time (blocked in a camera read or model load); leaving it", stage.name
                )
        self._idle.monitor.stop()
        compositor = self._compose.compositor
        if isinstance(compositor, Closable) and not self._compose.alive:
            compositor.close()  # effects may hold background-video readers
        self._context.finished.set()

    def __enter__(self) -> Self:
        try:
            self.start()
        except BaseException:
            self.stop()  # what was built is released (the compositor's effects, the first source)
            raise
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _halt(self) -> None:
        """Tell every stage to stop and wake it from its waits."""
        self._context.running.clear()
        self._idle.wake()  # the capture thread may wait in idle
        for slot in self._slots:
            slot.close()
        self._board.close()

    def _stage_failed(self, stage: Stage, exc: BaseException) -> None:
        """A stage raised: stop everything, keep the error for the caller (``error``)."""
        if not self._context.running.is_set():
            return  # an error while stopping: nobody waits for it
        if not isinstance(exc, VcamsegError):
            log.error("vcamseg-%s failed", stage.name, exc_info=exc)
        self.error = exc
        self._halt()
        self._context.finished.set()

    # --- live reload hooks -----------------------------------------------------------------------

    def set_compositor(self, compositor: CompositorLike) -> None:
        self._compose.compositor = compositor  # read once per frame by the compose thread

    def set_segmenter(self, segmenter: SegmenterLike) -> None:
        self._segment.set_segmenter(segmenter)

    def set_source(self, factory: SourceFactory) -> None:
        self._capture.set_source(factory)

    def set_settings(self, settings: PipelineSettings) -> None:
        """The values read while running (the threads see them from their next turn on)."""
        if settings.opencv_threads != self.settings.opencv_threads:
            _set_opencv_threads(settings.opencv_threads)
        self._context.settings = settings

    @property
    def segmenter(self) -> SegmenterLike | None:
        """The model in use (None while the first one loads)."""
        return self._segment.segmenter

    @property
    def idle(self) -> bool:
        return self._idle.idle

    @property
    def last_input(self) -> tuple[Frame, Segmentation] | None:
        """The camera frame composited last, with the mask it was composited with (None before the
        first): read-only references for the control socket's ``frame`` request."""
        return self._compose.last_input

    @property
    def heartbeat(self) -> float:
        """The send loop's last turn (clock time): the daemon's watchdog reads it."""
        return self._send.heartbeat


def _set_opencv_threads(threads: int) -> None:
    """pipeline.opencv_threads, process-wide; 0 is OpenCV's default, which cv2 spells -1 (its own 0
    would mean no worker threads at all)."""
    cv2.setNumThreads(threads if threads > 0 else -1)
