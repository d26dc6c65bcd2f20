"""What every sink promises (the `Sink` protocol), its one exception, and the plumbing the concrete
sinks share (`SinkBase`: a context manager whose ``close`` runs once).

The contract is written the way pyvirtualcam documents its ``Backend``: each member says what the
caller may rely on and what the sink may expect.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Protocol, Self

import numpy as np

# How often an open output checks that its device node or file is still the one it opened.
HEALTH_CHECK_INTERVAL_S = 1.0


class SinkError(Exception):
    """The output stopped working (e.g. the loopback device disappeared); reopening may help."""


class Sink(Protocol):
    """A frame consumer: the virtual camera, a video or image file, null, or any of them with a
    preview window. Opening one (its constructor, or `open_sink`) either gives a working sink or
    raises `OutputError` (a `VcamsegError` with the fix) saying why it cannot work.

    Attributes, fixed once the sink is open:

    * ``width``, ``height``: the size of every frame ``send`` accepts.
    * ``fps``: the rate the caller means to send at (announced to readers where the output has
      such a notion); the sink does not pace, the caller does.
    * ``description``: one line for the log and ``vcamseg status``: what the output is and where
      (``"virtual camera /dev/video10 (1280x720 30 fps, YUYV)"``).
    * ``device_path``: the loopback node when applications may read this output (the pipeline
      then watches it for readers and idles while there are none), else None (files, null).
    """

    description: str
    width: int
    height: int
    fps: float
    device_path: str | None

    def send(self, frame: np.ndarray) -> None:
        """Deliver one BGR uint8 frame of shape (height, width, 3).

        Raises `SinkError`, and only that, when the output stopped working (a vanished device, a
        removed file): the caller closes this sink and opens a new one later. Any other exception
        means the caller broke the contract (a frame of another size or type) and is a bug.
        The sink never writes into ``frame``; it may keep a reference to it until the next
        ``send`` or ``close`` (the image sink keeps the newest), so the caller must not change a
        frame after sending it. Not called after ``close``.
        """
        ...

    def close(self) -> None:
        """Release the output and finish it (an mp4's index, the image file). Idempotent: it may
        run twice (an error path, then a ``with`` block's exit); only the first call acts. May
        raise `OutputError` when finishing fails (the image cannot be written); the sink counts
        as closed anyway."""
        ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...


SinkFactory = Callable[[], Sink]


class SinkBase:
    """The shared half of the concrete sinks: ``with sink:`` closes it, and ``close`` acts once
    (subclasses implement ``_finish``)."""

    _closed = False

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._finish()

    def _finish(self) -> None:
        """Release and finish the output; called once, by the first ``close``."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
