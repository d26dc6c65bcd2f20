"""int8 inference on the CPU, calibrated on the stream itself.

A full-integer TFLite model needs its activation ranges measured on representative inputs; we
have no bundled data (and must not), but the segmenter sees real frames. The calibrator keeps a
few varied model inputs from the first seconds of the stream, converts in a background thread
(~2 s of one core), checks the int8 model against the float one on frames it did not calibrate
on, and only then is it swapped in and cached (keyed by the model's sha256), so later starts use
it at once. MobileNet's ReLU6 activations bound most ranges, so one stream's calibration serves
others; a failed check keeps the float model.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import numpy as np

from vcamseg.imaging import mask_iou
from vcamseg.segmentation.backends.base import Backend
from vcamseg.segmentation.backends.tflite import TFLiteBackend, cache_path, cached, convert, convert_int8, write_cache
from vcamseg.segmentation.graph import BodyPixGraph

log = logging.getLogger(__name__)

CALIBRATION_FRAMES = 16
CHECK_FRAMES = 6
KEEP_EVERY = 3  # consecutive frames are near copies: keep every 3rd
MIN_STD = 0.12  # in model units ([-1, 1]): skip black/flat frames (cameras warming up)
MIN_AGREEMENT = 0.85  # mean IoU of the int8 and float person masks on the check frames


def cached_int8(graph: BodyPixGraph, cache_dir: Path) -> Path | None:
    return cached(graph, cache_dir, "int8")


class Int8Calibrator:
    """Feed it the model inputs (``offer``); ``take()`` returns the int8 backend once it is ready."""

    def __init__(self, graph: BodyPixGraph, threads: int, cache_dir: Path) -> None:
        self.graph = graph
        self.threads = threads
        self.cache_dir = cache_dir
        self._frames: list[np.ndarray] = []
        self._seen = 0
        self._thread: threading.Thread | None = None
        self._result: Backend | None = None
        self.done = False

    def offer(self, image: np.ndarray) -> None:
        """A preprocessed model input [1, h, w, 3] of the live stream (copied when kept)."""
        if self._thread is not None or self.done:
            return
        self._seen += 1
        if self._seen % KEEP_EVERY or float(image.std()) < MIN_STD:
            return
        self._frames.append(image.copy())
        if len(self._frames) == CALIBRATION_FRAMES + CHECK_FRAMES:
            self._thread = threading.Thread(target=self._build, name="int8-calibration", daemon=True)
            self._thread.start()

    def wait(self, timeout: float) -> None:
        """Block until a started conversion has finished (benchmarks, tests)."""
        if self._thread is not None:
            self._thread.join(timeout)

    def take(self) -> Backend | None:
        """The validated int8 backend, once (None before, after, or when it failed the check)."""
        if self._result is None:
            return None
        result, self._result = self._result, None
        return result

    def _build(self) -> None:
        calibration, check = self._frames[:CALIBRATION_FRAMES], self._frames[CALIBRATION_FRAMES:]
        try:
            content = convert_int8(self.graph, calibration)
            int8 = TFLiteBackend(self.graph, self.threads, self.cache_dir, model=content, precision="int8")
            # A float interpreter of our own: the one in use belongs to the segmenting thread.
            reference = TFLiteBackend(self.graph, 1, self.cache_dir, model=convert(self.graph, self.cache_dir))
            agreement = float(np.mean([mask_iou(reference.run(x)[0], int8.run(x)[0]) for x in check]))
        except Exception as exc:  # any failure: stay on float, say why
            log.warning("int8 model not used (%s); staying on float", exc)
            self.done = True
            return
        if agreement < MIN_AGREEMENT:
            log.warning(
                "int8 model not used: its person masks agree with the float model's at IoU %.2f only "
                "(< %.2f) on this stream; staying on float",
                agreement,
                MIN_AGREEMENT,
            )
        else:
            log.info(
                "int8 model calibrated on %d frames of this stream (mask IoU vs float %.3f): switching to it",
                len(calibration),
                agreement,
            )
            write_cache(cache_path(self.graph, self.cache_dir, "int8"), content)
            self._result = int8
        self._frames.clear()
        self.done = True
