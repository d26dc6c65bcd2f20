"""A looping background video, decoded on its own thread and paced by the wall clock.

The compositor must never wait for a decoder: the thread reads frame k when its time
(``start + k / fps``) comes, skips frames without decoding them (``grab``) when it falls
behind, fits each frame to the camera's size and publishes it; ``latest`` only takes the
newest published frame. At the end of the file it starts over, so the video loops at its own
frame rate whatever the camera's rate.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from vcamseg.config.fields import Fit
from vcamseg.effects.kernels.fitting import fit_to

log = logging.getLogger(__name__)

# Longest sleep between clock checks: keeps close() prompt and follows a jumping clock.
_POLL_S = 0.02


class LoopingVideo:
    """``latest(size)``: the video frame for now, fitted to ``size`` = (width, height)."""

    def __init__(self, path: Path, fit: Fit, clock: Callable[[], float] = time.monotonic) -> None:
        self.path = path
        self.fit = fit
        self.clock = clock
        self._capture = _open(path)
        fps = self._capture.get(cv2.CAP_PROP_FPS)
        # Containers without a rate (some GIFs, raw streams) play at a common 25 fps.
        self.fps = fps if 1.0 <= fps <= 240.0 else 25.0
        ok, first = self._capture.read()
        if not ok:
            self._capture.release()
            raise OSError(f"background video {path} has no decodable frame")
        self._raw_first = first
        self._lock = threading.Lock()
        self._size: tuple[int, int] | None = None
        self._frame: np.ndarray | None = None
        self.index = 0  # frames since start (across loops) of the published frame
        self.frames_per_loop: int | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._start = 0.0

    def latest(self, size: tuple[int, int]) -> np.ndarray:
        """The newest decoded frame at ``size``; starts the decoder on the first call. The
        returned array is never written again (each published frame is a new array)."""
        with self._lock:
            self._size = size
            frame = self._frame
        if self._thread is None:
            frame = fit_to(self._raw_first, size, self.fit)
            with self._lock:
                self._frame = frame
            self._start = self.clock()
            self._thread = threading.Thread(target=self._run, name=f"bg-video:{self.path.name}", daemon=True)
            self._thread.start()
        elif frame is None or frame.shape[:2] != (size[1], size[0]):
            # The camera size changed: refit once here; the thread fits the next frames.
            frame = fit_to(frame if frame is not None else self._raw_first, size, self.fit)
        return frame

    @property
    def decoding(self) -> bool:
        """Whether the decoder thread runs: from the first `latest` until `close` (or a decoder
        that gave up)."""
        thread = self._thread
        return thread is not None and thread.is_alive()

    def close(self) -> None:
        """Stop the decoder; its thread releases the file (never released under a running read)."""
        self._stop.set()
        if self._thread is None:
            self._capture.release()
        else:
            self._thread.join(timeout=2.0)

    def _run(self) -> None:
        frame_period = 1.0 / self.fps
        next_index = 1  # frame 0 was published by latest()
        in_loop = 1  # position within the file of the next frame to read
        try:
            while not self._stop.is_set():
                due = self._start + next_index * frame_period
                now = self.clock()
                if now < due:
                    self._stop.wait(min(due - now, _POLL_S))
                    continue
                if now >= due + frame_period:
                    ok, image = self._capture.grab(), None  # behind: skip it without decoding
                else:
                    ok, image = self._capture.read()
                if not ok:
                    if in_loop == 0:
                        log.error("background video %s stopped decoding; keeping its last frame", self.path)
                        return
                    self.frames_per_loop = in_loop
                    self._rewind()
                    in_loop = 0
                    continue
                in_loop += 1
                if image is not None:
                    with self._lock:
                        size = self._size
                    fitted = fit_to(image, size, self.fit) if size is not None else image
                    with self._lock:
                        self._frame = fitted
                        self.index = next_index
                next_index += 1
        except Exception:  # a decoder thread must not die silently
            log.exception("background video %s: decoder thread failed; keeping its last frame", self.path)
        finally:
            self._capture.release()

    def _rewind(self) -> None:
        # Reopening rather than seeking to frame 0: seeking is unreliable for some codecs, and
        # this happens once per loop on the decoder's own thread.
        self._capture.release()
        self._capture = _open(self.path)


def _open(path: Path) -> cv2.VideoCapture:
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise OSError(f"cannot open background video {path}")
    return capture
