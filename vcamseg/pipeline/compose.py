"""The compose stage: composites each frame with the newest mask. Every Nth frame
(``segment_every_n``) it asks the segment stage for that frame's mask and waits for it up to
``max_mask_wait_s`` (offline: always), so the mask usually matches its frame; the frames between
reuse the newest mask. No frame is shown unsegmented: until the first mask exists (the model
loading) frames are skipped, and the sender shows its "starting" card."""

from __future__ import annotations

import time
from typing import Protocol, runtime_checkable

import cv2
import numpy as np

from vcamseg.pipeline.frames import Frame, Slot
from vcamseg.pipeline.masks import MaskBoard
from vcamseg.pipeline.stage import POLL_S, Stage, StageContext
from vcamseg.segmentation.result import Segmentation


class CompositorLike(Protocol):
    """What the pipeline needs of a compositor (`vcamseg.effects.compositor.Compositor`):
    ``apply(frame, seg)`` returns the composited BGR uint8 frame; it may write into ``frame`` (a
    copy the compose stage made for it) and may be given the same ``seg`` for several frames.
    Called from the compose thread only. A compositor that is also `Closable` is closed by
    ``Pipeline.stop`` once the compose thread has ended (effects may hold video readers)."""

    def apply(self, frame: np.ndarray, seg: Segmentation) -> np.ndarray: ...


@runtime_checkable
class Closable(Protocol):
    def close(self) -> None: ...


class ComposeLoop(Stage):
    name = "compose"

    def __init__(
        self,
        context: StageContext,
        frames: Slot[Frame],
        requests: Slot[Frame],
        outputs: Slot[Frame],
        board: MaskBoard,
        compositor: CompositorLike,
    ) -> None:
        super().__init__(context)
        self._frames = frames
        self._requests = requests
        self._outputs = outputs
        self._board = board
        self.compositor = compositor  # read once per frame: replacing it is a live swap
        # The camera frame composited last and its mask, for `vcamseg ui`'s before/after and mask
        # views: a reference per frame, encoded only when someone asks (never written into).
        self.last_input: tuple[Frame, Segmentation] | None = None

    def run(self) -> None:
        ctx = self.context
        last_requested = -(10**9)
        while ctx.running.is_set():
            frame = self._frames.take(POLL_S)
            if frame is None:
                if self._frames.ended:
                    self._outputs.end()
                    return
                continue
            settings = ctx.settings
            have_mask = self._board.latest is not None
            due = not have_mask or frame.seq - last_requested >= settings.segment_every_n
            if due:
                self._requests.put(frame)
                last_requested = frame.seq
            # Offline: always the frame's own mask. Real time: wait a little for it, and for the
            # very first mask (model loading) only as long as the sender shows its "starting" card.
            if not ctx.paced:
                timeout: float | None = None
            elif due:
                timeout = settings.max_mask_wait_s if have_mask else POLL_S
            else:
                timeout = 0.0
            latest = self._board.wait_for(frame.seq if due else 0, timeout)
            if latest is None:
                continue  # no mask yet (model loading): never show an unsegmented picture
            start = time.perf_counter()
            image = frame.image.copy()  # the segmentation thread may still read the original
            # The same (immutable) Segmentation may serve several frames: the compositor returns
            # new results instead of changing it.
            out = self.compositor.apply(image, latest.seg)
            self.last_input = (frame, latest.seg)
            if out.shape[0] != ctx.height or out.shape[1] != ctx.width:
                out = cv2.resize(out, (ctx.width, ctx.height), interpolation=cv2.INTER_LINEAR)
            ctx.stats.composited((time.perf_counter() - start) * 1000.0)
            ctx.stats.costs.record_all(self.compositor)
            if self._outputs.put(Frame(out, frame.seq, frame.t_capture)) is not None and ctx.streaming.is_set():
                ctx.stats.dropped()
