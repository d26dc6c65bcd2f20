"""The real-time pipeline: four threads joined by one-item slots.

    capture ──Frame──▶ compose ──Frame──▶ send ──▶ sink
                         │  ▲
                 request │  │ newest Segmentation
                         ▼  │
                       segment

* capture reads the source continuously and keeps only the newest frame (a frame not yet taken
  is replaced and counted as dropped); it owns reconnecting a lost source and releasing the camera
  while idle.
* segment runs the model on the frames compose asks for: every Nth frame
  (``pipeline.segment_every_n_frames``); a newer request replaces one not yet started.
* compose composites each frame with the newest mask; for a frame whose own mask is being computed
  it waits up to ``pipeline.max_mask_wait_ms`` (offline: always), so the mask usually matches.
* send delivers each new frame as soon as it is ready, paced so the output never exceeds its
  frame rate (a token bucket: one token per frame interval, at most 1.5 saved up, so a late frame
  may be followed closely by the next one, but the rate over time is capped at 110 %) and never starves:
  with nothing new for 2 frame intervals it repeats the last frame (then at the output rate),
  shows a placeholder when the source is lost, and an idle card at ``output.idle.fps`` while
  nobody reads the virtual camera.

Sending as soon as a frame is ready, instead of on a fixed clock (pyvirtualcam's
``sleep_until_next_frame``), saves half a frame of latency on average and avoids the drop/repeat
pairs a fixed clock produces when processing jitter straddles its tick. Repeats take no token, so
a hiccup never leaves later frames waiting behind a schedule.

Offline (``paced=False``) the slots block instead of replacing: every frame is processed and sent,
as fast as the stages go, and the pipeline finishes at the end of the source.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from typing import Protocol

import cv2
import numpy as np

from vcamseg.config import Config
from vcamseg.config.pipeline import PipelineConfig
from vcamseg.errors import VcamsegError, one_line
from vcamseg.io.loopback import AlwaysWatched, ReaderMonitor, ReaderState
from vcamseg.io.sinks import Sink, SinkError, SinkFactory
from vcamseg.io.sources import EndOfStream, Source, SourceError, SourceFactory
from vcamseg.pipeline import cards
from vcamseg.pipeline.frames import Frame, Slot
from vcamseg.pipeline.stats import PipelineStats
from vcamseg.segmentation.result import Segmentation

log = logging.getLogger(__name__)

REPEAT_AFTER = 2.0  # frame intervals without anything new before the last frame is sent again
BURST_TOKENS = 1.5  # frames' worth of sending the pacer may save up
# Tokens come 10% faster than the output rate: with a source at exactly the output rate, a wait
# once imposed would otherwise persist as latency for ever; this way it fades within a few frames.
RATE_MARGIN = 1.1
POLL_S = 0.2  # upper bound of every wait: how fast threads notice stop()


class SegmenterLike(Protocol):
    device: str

    def segment(self, frame: np.ndarray) -> Segmentation: ...


class CompositorLike(Protocol):
    def apply(self, frame: np.ndarray, seg: Segmentation) -> np.ndarray: ...


FrameSentHook = Callable[[str, Frame | None], None]  # kind: frame | repeat | starting | placeholder | idle
# (device path, on_change callback) -> monitor; called once the virtual camera is open.
MonitorFactory = Callable[[str, Callable[[ReaderState], None]], ReaderMonitor]


class Pipeline:
    """``start()``, ``stop()``; ``wait()`` for the end of a finite source (offline processing).

    ``size`` and ``fps`` are the output's. Give ``segmenter`` or ``segmenter_factory``: a factory is
    called in the segmentation thread, so the output starts (with a "starting" card) while the
    model loads. ``monitor_factory`` builds the reader detection for a virtual camera output
    (outputs without a ``device_path`` never idle). ``set_source``, ``set_segmenter``,
    ``set_compositor`` and ``set_pipeline_config`` swap parts while running (live reload); they are
    thread-safe.
    """

    def __init__(self, config: Config, source: SourceFactory, sink: SinkFactory, *,
                 size: tuple[int, int], fps: float, paced: bool = True,
                 compositor: CompositorLike,
                 segmenter: SegmenterLike | None = None,
                 segmenter_factory: Callable[[], SegmenterLike] | None = None,
                 monitor_factory: MonitorFactory | None = None,
                 first_source: Source | None = None,
                 max_frames: int | None = None,
                 on_frame_sent: FrameSentHook | None = None) -> None:
        self.config = config
        self.pipeline_config: PipelineConfig = config.pipeline
        self.width, self.height = size
        self.fps = fps
        self.paced = paced
        self.max_frames = max_frames
        self.stats = PipelineStats()
        self.error: BaseException | None = None
        self._source_factory = source
        self._first_source = first_source
        self._sink_factory = sink
        self._sink: Sink | None = None
        if segmenter is None and segmenter_factory is None:
            raise ValueError("give a segmenter or a segmenter_factory")
        self._segmenter = segmenter
        self._segmenter_factory = segmenter_factory
        self._compositor = compositor
        self._monitor_factory = monitor_factory
        self._monitor: ReaderMonitor = AlwaysWatched()
        self._on_frame_sent = on_frame_sent
        self._frames: Slot[Frame] = Slot(blocking=not paced)
        self._outputs: Slot[Frame] = Slot(blocking=not paced)
        self._requests: Slot[Frame] = Slot()
        self._mask_cond = threading.Condition()
        self._mask: tuple[int, Segmentation] | None = None
        self._running = threading.Event()
        self._done = threading.Event()
        self._active = threading.Event()  # cleared while idle
        self._active.set()
        self._source_changed = threading.Event()
        self._model_ready = threading.Event()  # offline, reading waits for it: latency is per frame
        self._last_capture_t: float | None = None
        self.heartbeat = time.monotonic()  # the send loop's last turn: the daemon's watchdog reads it
        # Frames skipped before the first one is sent (model still loading) are not "dropped".
        self._streaming = False
        self._threads: list[threading.Thread] = []

    @property
    def expected_frames(self) -> int | None:
        """Offline: how many frames will come (``max_frames``, else a video's length when known)."""
        if self.max_frames is not None:
            return self.max_frames
        return getattr(self._first_source, "frame_count", None) if not self.paced else None

    # --- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> None:
        """Open the sink (errors raise here), then start the threads."""
        _set_opencv_threads(self.pipeline_config.opencv_threads)
        try:
            self._sink = self._sink_factory()
        except BaseException:
            if self._first_source is not None:
                self._first_source.close()
            raise
        if self._monitor_factory is not None and self._sink.device_path is not None and self.paced:
            # Wake the sender the moment a reader appears, so the camera is back within a second.
            self._monitor = self._monitor_factory(self._sink.device_path, lambda state: self._outputs.poke())
        self.stats.set(sink_state="open", sink=self._sink.description, detection=self._monitor.method,
                       readers="n/a" if isinstance(self._monitor, AlwaysWatched) else "unknown")
        self._monitor.start()
        self._running.set()
        for name, target in (("capture", self._capture_loop), ("segment", self._segment_loop),
                             ("compose", self._compose_loop), ("send", self._send_loop)):
            thread = threading.Thread(target=self._guard(target), name=f"vcamseg-{name}", daemon=True)
            self._threads.append(thread)
            thread.start()
        log.info("pipeline started: %dx%d at %g fps, %s, segmentation every %d frame(s), output %s",
                 self.width, self.height, self.fps, "paced" if self.paced else "offline (every frame, unpaced)",
                 self.pipeline_config.segment_every_n_frames, self._sink.description)

    def wait(self, timeout: float | None = None) -> bool:
        """True once the pipeline finished (end of a finite source, or an error)."""
        return self._done.wait(timeout)

    def stop(self, timeout: float = 1.0) -> None:
        """Stop within ``timeout``: releases the camera, closes the output (finalising files)."""
        deadline = time.monotonic() + timeout
        self._running.clear()
        self._active.set()  # wake the capture thread if it sleeps in idle
        for slot in (self._frames, self._outputs, self._requests):
            slot.close()
        with self._mask_cond:
            self._mask_cond.notify_all()
        # The sender closes the sink: join it first so files are finished before we return.
        for thread in sorted(self._threads, key=lambda t: t.name != "vcamseg-send"):
            if thread.name == "vcamseg-segment" and not self._model_ready.is_set():
                # A model load cannot be interrupted, and waiting for it would only delay the stop:
                # it ends with the process (nothing it holds needs finishing).
                log.info("stopping while the model loads")
                continue
            thread.join(max(0.0, deadline - time.monotonic()))
            if thread.is_alive():
                log.warning("%s did not stop in time (blocked in a camera read or model load); leaving it", thread.name)
        self._monitor.stop()
        compose = next((t for t in self._threads if t.name == "vcamseg-compose"), None)
        close = getattr(self._compositor, "close", None)
        if callable(close) and (compose is None or not compose.is_alive()):
            close()  # effects may hold background-video readers
        self._done.set()

    def _guard(self, target: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                target()
            except BaseException as exc:  # a stage failed: stop everything, keep the error for the caller
                if self._running.is_set():
                    if not isinstance(exc, VcamsegError):
                        log.exception("%s failed", threading.current_thread().name)
                    self.error = exc
                    self._fail()
        return run

    def _fail(self) -> None:
        self._running.clear()
        for slot in (self._frames, self._outputs, self._requests):
            slot.close()
        with self._mask_cond:
            self._mask_cond.notify_all()
        self._done.set()

    # --- live reload hooks -----------------------------------------------------------------------

    def set_compositor(self, compositor: CompositorLike) -> None:
        self._compositor = compositor  # read once per frame by the compose thread

    def set_segmenter(self, segmenter: SegmenterLike) -> None:
        self._segmenter = segmenter  # the newest mask stays in use until the new model's first one
        self.stats.set(inference_device=segmenter.device)

    def set_source(self, factory: SourceFactory) -> None:
        self._source_factory = factory
        self._source_changed.set()

    def set_pipeline_config(self, config: PipelineConfig) -> None:
        if config.opencv_threads != self.pipeline_config.opencv_threads:
            _set_opencv_threads(config.opencv_threads)
        self.pipeline_config = config

    def set_config(self, config: Config) -> None:
        """The whole config, for the settings read while running: source.retry_interval_s and
        stall_timeout_s, output.retry_interval_s, output.idle.grace_s and fps. The rest was used
        when the parts were built: change it through the setters above."""
        self.config = config

    @property
    def segmenter(self) -> SegmenterLike | None:
        """The model in use (None while the first one loads)."""
        return self._segmenter

    # --- idle ------------------------------------------------------------------------------------

    @property
    def idle(self) -> bool:
        return not self._active.is_set()

    def _update_idle(self, absent_since: float | None) -> float | None:
        """Go idle after ``grace_s`` without a reader; wake at once when one appears."""
        state: ReaderState = self._monitor.state
        self.stats.set(readers={True: "yes", False: "no", None: "unknown"}[state]
                       if not isinstance(self._monitor, AlwaysWatched) else "n/a")
        now = time.monotonic()
        if state is False:
            absent_since = absent_since or now
            if not self.idle and now - absent_since >= self.config.output.idle.grace_s:
                log.info("no application has read the virtual camera for %.0f s: idle (camera released, inference "
                         "paused, %g fps idle picture)", now - absent_since, self.config.output.idle.fps)
                self._active.clear()
                self.stats.set(idle_state="idle")
            return absent_since
        if self.idle:
            log.info("an application reads the virtual camera: resuming")
            self._last_capture_t = None
            self.stats.set(idle_state="active")
            self._active.set()
        return None

    # --- capture ---------------------------------------------------------------------------------

    def _capture_loop(self) -> None:
        source: Source | None = self._first_source
        if source is not None:
            self.stats.set(source_state="running", source=source.description)
        seq = 0
        outage = _Outage(self)
        fresh = False  # a source just (re)opened: it counts as back once it delivers a frame
        while not self.paced and self._running.is_set() and not self._model_ready.wait(POLL_S):
            pass  # offline: no frame waits for the model to load (it would count as latency)
        try:
            while self._running.is_set():
                if not self._active.is_set() or self._source_changed.is_set():
                    if source is not None:
                        source.close()
                        source = None
                        if not self._active.is_set():
                            log.info("camera released")
                            self.stats.set(source_state="released")
                    if self._source_changed.is_set():
                        self._source_changed.clear()
                        continue
                    self._active.wait(POLL_S)
                    continue
                if source is None:
                    try:
                        source = self._source_factory()
                    except SourceError as exc:
                        outage.unavailable(exc)
                        self._pause(self.config.source.retry_interval_s)
                        continue
                    fresh = True
                    self.stats.set(source=source.description)
                try:
                    image = source.read()
                except EndOfStream:
                    self.stats.set(source_state="ended")
                    self._frames.end()
                    return
                except SourceError as exc:
                    # A source that opens but fails at once (an empty video) is still the same
                    # outage: no "back"/"lost" pair in the log at every retry.
                    if fresh:
                        outage.unavailable(exc)
                    else:
                        outage.lost(exc)
                    with contextlib.suppress(Exception):
                        source.close()
                    source = None
                    self._pause(self.config.source.retry_interval_s)
                    continue
                if fresh:
                    outage.back(source.description)
                    fresh = False
                now = time.monotonic()
                self._last_capture_t = now
                if image.shape[1] != self.width or image.shape[0] != self.height:
                    shrink = image.shape[1] > self.width
                    image = cv2.resize(image, (self.width, self.height),
                                       interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
                seq += 1
                self.stats.count("frames_in")
                if self._frames.put(Frame(image, seq, now)) is not None and self._streaming:
                    self.stats.count("frames_dropped")
                if self.max_frames is not None and seq >= self.max_frames:
                    self.stats.set(source_state="ended")
                    self._frames.end()
                    return
        finally:
            if source is not None:
                source.close()

    def _pause(self, seconds: float) -> None:
        """Sleep, but return early on stop, idle or a new source."""
        end = time.monotonic() + seconds
        while self._running.is_set() and self._active.is_set() and not self._source_changed.is_set():
            left = end - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(left, 0.05))

    # --- segmentation ----------------------------------------------------------------------------

    def _segment_loop(self) -> None:
        if self._segmenter is None and self._segmenter_factory is not None:
            segmenter = self._segmenter_factory()
            if self._segmenter is None:  # set_segmenter() may have won the race
                self._segmenter = segmenter
            prepare = getattr(self._segmenter, "prepare", None)
            if prepare is not None:  # choose and warm the backend before the first frame needs it
                prepare(self.height, self.width)
        if self._segmenter is not None:
            self.stats.set(inference_device=self._segmenter.device)
        self._model_ready.set()
        while self._running.is_set():
            frame = self._requests.take(POLL_S)
            if frame is None:
                continue
            segmenter = self._segmenter
            assert segmenter is not None
            start = time.perf_counter()
            seg = segmenter.segment(frame.image)
            self.stats.segmented((time.perf_counter() - start) * 1000.0)
            if self.stats.inference_device != segmenter.device:
                self.stats.set(inference_device=segmenter.device)
            with self._mask_cond:
                self._mask = (frame.seq, seg)
                self._mask_cond.notify_all()

    def _wait_mask(self, seq: int, timeout: float | None) -> tuple[int, Segmentation] | None:
        """The newest mask, after waiting (up to ``timeout``) for the one of frame ``seq``."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._mask_cond:
            while self._running.is_set() and (self._mask is None or self._mask[0] < seq):
                remaining = POLL_S if deadline is None else min(POLL_S, deadline - time.monotonic())
                if remaining <= 0:
                    break
                self._mask_cond.wait(remaining)
            return self._mask

    # --- compositing -----------------------------------------------------------------------------

    def _compose_loop(self) -> None:
        last_requested = -(10**9)
        while self._running.is_set():
            frame = self._frames.take(POLL_S)
            if frame is None:
                if self._frames.ended:
                    self._outputs.end()
                    return
                continue
            cfg = self.pipeline_config
            with self._mask_cond:
                have_mask = self._mask is not None
            due = not have_mask or frame.seq - last_requested >= cfg.segment_every_n_frames
            if due:
                self._requests.put(frame)
                last_requested = frame.seq
            # Offline: always the frame's own mask. Real time: wait a little for it, and for the
            # very first mask (model loading) only as long as the sender shows its "starting" card.
            if not self.paced:
                timeout: float | None = None
            elif due:
                timeout = cfg.max_mask_wait_ms / 1000.0 if have_mask else POLL_S
            else:
                timeout = 0.0
            latest = self._wait_mask(frame.seq if due else 0, timeout)
            if latest is None:
                continue  # no mask yet (model loading): never show an unsegmented picture
            start = time.perf_counter()
            image = frame.image.copy()  # the segmentation thread may still read the original
            out = self._compositor.apply(image, latest[1])
            if out.shape[0] != self.height or out.shape[1] != self.width:
                out = cv2.resize(out, (self.width, self.height), interpolation=cv2.INTER_LINEAR)
            self.stats.composited((time.perf_counter() - start) * 1000.0)
            if self._outputs.put(Frame(out, frame.seq, frame.t_capture)) is not None and self._streaming:
                self.stats.count("frames_dropped")

    # --- sending ---------------------------------------------------------------------------------

    def _send_loop(self) -> None:
        sender = _Sender(self)
        try:
            sender.run()
        finally:
            sender.close_sink()
            if not self.paced or self._outputs.ended:
                self._done.set()


class _Outage:
    """The capture thread's account of a lost source: when it went, and why. The loss and the
    return are logged once each; while it is away, each new reason it cannot be opened is logged
    once (a removed file, then an empty one), never every retry."""

    def __init__(self, pipeline: Pipeline) -> None:
        self.p = pipeline
        self.since: float | None = None
        self.reason = ""

    def lost(self, exc: SourceError) -> None:
        """A running source failed."""
        p = self.p
        self.since, self.reason = time.monotonic(), str(exc)
        log.warning("source lost: %s; showing a placeholder, retrying every %g s", exc,
                    p.config.source.retry_interval_s)
        p.stats.set(source_state="lost")
        p.stats.count("source_errors")

    def unavailable(self, exc: SourceError) -> None:
        """The source could not be (re)opened, or failed before its first frame."""
        p = self.p
        if self.since is None:
            self.since = time.monotonic()
            p.stats.set(source_state="lost")
        if str(exc) != self.reason:
            self.reason = str(exc)
            log.warning("source unavailable: %s; retrying every %g s", exc, p.config.source.retry_interval_s)

    def back(self, description: str) -> None:
        """A (re)opened source delivered its first frame."""
        if self.since is not None:
            log.info("source back after %.1f s: %s", time.monotonic() - self.since, description)
            self.since, self.reason = None, ""
        self.p.stats.set(source_state="running")


class _Sender:
    """The send thread's state: pacing, last frame, cards, idle bookkeeping."""

    def __init__(self, pipeline: Pipeline) -> None:
        self.p = pipeline
        self.interval = 1.0 / pipeline.fps
        self.tokens = BURST_TOKENS
        self.tokens_at = time.monotonic()
        self.last_send = time.monotonic()
        self.last_kind = "placeholder"
        self.last: Frame | None = None
        self.placeholder: tuple[int, np.ndarray] | None = None  # (id of the frame it dims, image)
        w, h = pipeline.width, pipeline.height
        self.starting_card = cards.card(w, h, "vcamseg", "starting camera...")
        self.idle_card = cards.card(w, h, "vcamseg", "camera paused: no application is watching")
        self.absent_since: float | None = None
        self.next_stats = time.monotonic() + pipeline.pipeline_config.stats_interval_s
        self.next_sink_retry = 0.0
        self.sink_reopen_error = ""  # the last reason reopening the output failed (logged once)

    def run(self) -> None:
        p = self.p
        while p._running.is_set():
            p.heartbeat = time.monotonic()
            if p.paced:
                self.absent_since = p._update_idle(self.absent_since)
                self._log_stats()
            if p.idle:
                self._send_idle()
                continue
            if not p.paced:
                frame = p._outputs.take(None)
                if frame is None:
                    if p._outputs.ended:
                        return
                    continue
                self._send_frame(frame)
                continue
            # Real time: wait for a new frame until filler is due (2 intervals after a frame,
            # then one interval between fillers).
            gap = REPEAT_AFTER if self.last_kind == "frame" else 1.0
            due = self.last_send + gap * self.interval
            frame = p._outputs.take(max(0.0, min(due - time.monotonic(), POLL_S)))
            if frame is None:
                if p._outputs.ended:
                    return
                if time.monotonic() >= due:
                    self._send_filler()
                continue
            wait = self._take_token()
            if wait > 0:
                time.sleep(wait)
                newer = p._outputs.take(0.0)  # something newer arrived while we waited: it wins
                if newer is not None:
                    p.stats.count("frames_dropped")
                    frame = newer
                self._take_token()
            self._send_frame(frame)

    def _take_token(self) -> float:
        """Spend a token when one is there (returns 0), else the seconds until one will be."""
        now = time.monotonic()
        self.tokens = min(BURST_TOKENS, self.tokens + (now - self.tokens_at) * RATE_MARGIN / self.interval)
        self.tokens_at = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) * self.interval / RATE_MARGIN

    def _send_frame(self, frame: Frame) -> None:
        if self._deliver(frame.image, "frame", frame):
            self.p.stats.sent((time.monotonic() - frame.t_capture) * 1000.0)
            self.p._streaming = True
        self.last = frame

    def _deliver(self, image: np.ndarray, kind: str, frame: Frame | None) -> bool:
        """Send one picture; False when the output is down (it is reopened here, rate-limited)."""
        p = self.p
        self.last_send = time.monotonic()
        self.last_kind = kind
        if p._sink is None and not self._reopen_sink():
            return False
        assert p._sink is not None
        try:
            p._sink.send(image)
        except SinkError as exc:
            if not p.paced:
                raise
            log.error("%s; reopening every %g s", exc, p.config.output.retry_interval_s)
            p.stats.count("sink_errors")
            p.stats.set(sink_state="lost")
            self.close_sink()
            self.next_sink_retry = time.monotonic() + p.config.output.retry_interval_s
            return False
        if p._on_frame_sent is not None:
            p._on_frame_sent(kind, frame)
        return True

    def _reopen_sink(self) -> bool:
        p = self.p
        if time.monotonic() < self.next_sink_retry:
            return False
        try:
            p._sink = p._sink_factory()
        except VcamsegError as exc:
            # Why it cannot be reopened may differ from why it was lost: say it once per outage.
            reason = one_line(exc)
            if reason != self.sink_reopen_error:
                log.warning("output still unavailable: %s; retrying every %g s", reason,
                            p.config.output.retry_interval_s)
                self.sink_reopen_error = reason
            else:
                log.debug("output still unavailable: %s", reason)
            self.next_sink_retry = time.monotonic() + p.config.output.retry_interval_s
            return False
        self.sink_reopen_error = ""
        log.info("output back: %s", p._sink.description)
        p.stats.set(sink_state="open", sink=p._sink.description)
        return True

    def _send_filler(self) -> None:
        """Nothing new in time: repeat the last frame, or a placeholder when the source is gone."""
        p = self.p
        now = time.monotonic()
        stalled = p._last_capture_t is None or now - p._last_capture_t > p.config.source.stall_timeout_s
        if p.stats.source_state == "lost" or (stalled and self.last is not None):
            self._deliver(self._placeholder(), "placeholder", None)
            p.stats.count("placeholder_frames")
        elif self.last is not None:
            self._deliver(self.last.image, "repeat", self.last)
            p.stats.count("frames_repeated")
        else:
            self._deliver(self.starting_card, "starting", None)
            p.stats.count("placeholder_frames")

    def _placeholder(self) -> np.ndarray:
        if self.last is None:
            return cards.card(self.p.width, self.p.height, "camera unavailable", "reconnecting...")
        if self.placeholder is None or self.placeholder[0] != id(self.last):
            self.placeholder = (id(self.last), cards.dimmed(self.last.image, "camera unavailable", "reconnecting..."))
        return self.placeholder[1]

    def _send_idle(self) -> None:
        p = self.p
        self._deliver(self.idle_card, "idle", None)
        p.stats.count("idle_frames")
        self.last = None
        # Sleep one idle frame, but wake at once when a reader appears (the monitor pokes the slot).
        p._outputs.take(1.0 / p.config.output.idle.fps)

    def _log_stats(self) -> None:
        p = self.p
        interval_s = p.pipeline_config.stats_interval_s
        if interval_s <= 0 or time.monotonic() < self.next_stats:
            return
        self.next_stats = time.monotonic() + interval_s
        log.info("stats: %s", p.stats.log_line(p.stats.interval()))

    def close_sink(self) -> None:
        p = self.p
        if p._sink is not None:
            try:
                p._sink.close()
            except Exception as exc:
                log.warning("closing the output failed: %s", exc)
            p._sink = None
            p.stats.set(sink_state="closed")


def _set_opencv_threads(threads: int) -> None:
    """pipeline.opencv_threads, process-wide; 0 is OpenCV's default, which cv2 spells -1 (its own 0
    would mean no worker threads at all)."""
    cv2.setNumThreads(threads if threads > 0 else -1)
