"""What the pipeline's stages share (`StageContext`) and the thread each one runs in (`Stage`)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar

from vcamseg.pipeline.clock import Clock
from vcamseg.pipeline.settings import PipelineSettings
from vcamseg.pipeline.stats import PipelineStats

POLL_S = 0.2  # upper bound of every wait: how fast threads notice stop()


@dataclass
class StageContext:
    """Shared by every stage of one pipeline. ``settings`` is replaced as a whole by
    ``Pipeline.set_settings`` (stages read it once per turn); the rest is fixed."""

    settings: PipelineSettings
    stats: PipelineStats
    clock: Clock
    width: int  # the output's size: frames are scaled to it
    height: int
    paced: bool  # real time (drop, never queue) or offline (every frame, as fast as it goes)
    running: threading.Event = field(default_factory=threading.Event)
    # Set once the first frame went out: frames replaced before that (the model still loading)
    # are not counted as dropped.
    streaming: threading.Event = field(default_factory=threading.Event)
    # Set once the pipeline is done: the stream ended (offline: everything was sent), a stage
    # failed, or it was stopped.
    finished: threading.Event = field(default_factory=threading.Event)


ErrorHandler = Callable[["Stage", BaseException], None]


class Stage:
    """One thread of the pipeline: ``run`` until ``context.running`` is cleared or the stream
    ends. An exception in ``run`` goes to the pipeline's error handler (which stops everything)."""

    name: ClassVar[str]

    def __init__(self, context: StageContext) -> None:
        self.context = context
        self._thread: threading.Thread | None = None

    def run(self) -> None:
        raise NotImplementedError

    def start(self, on_error: ErrorHandler) -> None:
        def guarded() -> None:
            try:
                self.run()
            except BaseException as exc:  # a stage failed: the pipeline stops and keeps the error
                on_error(self, exc)

        self._thread = threading.Thread(target=guarded, name=f"vcamseg-{self.name}", daemon=True)
        self._thread.start()

    def join(self, timeout: float) -> bool:
        """Wait up to ``timeout`` for the thread to end; True when it has (or never started)."""
        if self._thread is not None:
            self._thread.join(max(0.0, timeout))
        return not self.alive

    @property
    def started(self) -> bool:
        return self._thread is not None

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()
