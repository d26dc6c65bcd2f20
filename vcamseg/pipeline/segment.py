"""The segment stage: runs the model on the frames compose asks for and posts each mask on the
`MaskBoard`. A newer request replaces one not yet started (the request slot holds one frame).

The first segmenter may come from a factory, called in this thread: the output starts (with a
"starting" card) while the model loads, and ``ready`` is set once it is loaded and prepared."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol

import numpy as np

from vcamseg.pipeline.frames import Frame, Slot
from vcamseg.pipeline.masks import MaskBoard
from vcamseg.pipeline.stage import POLL_S, Stage, StageContext
from vcamseg.segmentation.result import Segmentation


class SegmenterLike(Protocol):
    """What the pipeline needs of a segmenter (`vcamseg.segmentation.segmenter.Segmenter`).

    * ``device``: where inference runs, for the log and status ("not started" before ``prepare``).
    * ``prepare(frame_h, frame_w)``: choose and warm the backend for frames of that size; called
      once in the segment thread before the first frame (the reloader calls it before a swap).
      It may take seconds; a second call is cheap.
    * ``segment(frame)``: the Segmentation of one BGR uint8 frame of the output size; it must not
      write into ``frame`` (compose composites a copy of it meanwhile). Called from one thread.
    """

    @property
    def device(self) -> str: ...

    def prepare(self, frame_h: int, frame_w: int) -> object: ...

    def segment(self, frame: np.ndarray) -> Segmentation: ...


class SegmentLoop(Stage):
    name = "segment"

    def __init__(
        self,
        context: StageContext,
        requests: Slot[Frame],
        board: MaskBoard,
        segmenter: SegmenterLike | None,
        factory: Callable[[], SegmenterLike] | None,
    ) -> None:
        if segmenter is None and factory is None:
            raise ValueError("give a segmenter or a segmenter_factory")
        super().__init__(context)
        self._requests = requests
        self._board = board
        self._segmenter = segmenter
        self._factory = factory
        self.ready = threading.Event()  # the model is loaded (offline, reading waits for it)

    @property
    def segmenter(self) -> SegmenterLike | None:
        """The model in use (None while the first one loads)."""
        return self._segmenter

    def set_segmenter(self, segmenter: SegmenterLike) -> None:
        """Use ``segmenter`` from the next request on (the newest mask stays in use until its first)."""
        self._segmenter = segmenter
        self.context.stats.inference_on(segmenter.device)

    def run(self) -> None:
        ctx = self.context
        if self._segmenter is None and self._factory is not None:
            segmenter = self._factory()
            if self._segmenter is None:  # set_segmenter() may have won the race
                self._segmenter = segmenter
            self._segmenter.prepare(ctx.height, ctx.width)  # before the first frame needs it
        if self._segmenter is not None:
            ctx.stats.inference_on(self._segmenter.device)
        self.ready.set()
        while ctx.running.is_set():
            frame = self._requests.take(POLL_S)
            if frame is None:
                continue
            segmenter = self._segmenter
            assert segmenter is not None
            start = time.perf_counter()
            seg = segmenter.segment(frame.image)
            ctx.stats.segmented((time.perf_counter() - start) * 1000.0)
            ctx.stats.costs.record_all(segmenter)
            if ctx.stats.inference_device != segmenter.device:
                ctx.stats.inference_on(segmenter.device)
            self._board.publish(frame.seq, seg)
