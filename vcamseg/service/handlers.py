"""The control protocol's requests (`control.ControlServer` calls them, one thread per client):

    {"cmd": "status"}                                 -> {"status": StatusReply}
    {"cmd": "set", "changes": [...], "save": bool}    -> {"result": ReloadResult as JSON}
    {"cmd": "snapshot"}                               -> {"png_base64", "width", "height", "age_s"}
    {"cmd": "frame", "view": "output|camera|mask"}   -> {"jpeg_base64", "width", "height", "seq", ...}

The status reply is the daemon's public interface (``vcamseg status --json``; external tools read
it by key, e.g. ``pipeline.frames.out``): keys may be added, never renamed or moved.
"""

from __future__ import annotations

import base64
import os
import time
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any, TypedDict

import cv2

from vcamseg import __version__
from vcamseg.errors import VcamsegError
from vcamseg.pipeline.stats import StatsSnapshot
from vcamseg.service.preview import Previewer
from vcamseg.service.reload import ReloadResult, differences
from vcamseg.service.reload_loop import ReloadRequest

if TYPE_CHECKING:
    from vcamseg.service.daemon import Daemon

SET_TIMEOUT_S = 20.0  # a `vcamseg set` waits this long for its turn and its result


class StatusReply(TypedDict):
    pid: int
    version: str
    uptime_s: float
    config_file: str
    config_file_exists: bool
    runtime_changes: list[str]  # `vcamseg set` changes not in the file
    last_reload: dict[str, Any]  # ReloadResult.as_json()
    idle: bool
    pipeline: StatsSnapshot | None  # None until the source is open and the pipeline built
    config: dict[str, Any]  # what runs (the effective config)
    # Keys whose value as written (file, command line, set) does not run (yet): output and service
    # keys until the next start, a model still loading or one that failed to load.
    config_pending: list[str]


class ControlHandlers:
    """Answers the control socket's requests for ``daemon``."""

    def __init__(self, daemon: Daemon) -> None:
        self.daemon = daemon
        self.previewer = Previewer(daemon)  # `frame`: the live preview of `vcamseg ui`

    def __call__(self, request: dict[str, Any]) -> dict[str, Any]:
        command = request.get("cmd")
        if command == "status":
            return {"status": self.status()}
        if command == "set":
            return {"result": self.set(request)}
        if command == "snapshot":
            return self.snapshot()
        if command == "frame":
            return self.previewer.frame(request)
        raise VcamsegError(f"unknown request {command!r}", fix="use status, set, snapshot or frame")

    def status(self) -> StatusReply:
        daemon = self.daemon
        pipeline, reloads, path = daemon.pipeline, daemon.reloads, daemon.config_file.path
        running = daemon.running_config
        return {
            "pid": os.getpid(),
            "version": __version__,
            "uptime_s": round(time.monotonic() - daemon.started, 1),
            "config_file": str(path),
            "config_file_exists": path.exists(),
            "runtime_changes": list(reloads.loaded.runtime_changes),
            "last_reload": reloads.last_result.as_json(),
            "idle": pipeline.idle if pipeline is not None else False,
            "pipeline": pipeline.stats.snapshot() if pipeline is not None else None,
            "config": running.model_dump(mode="json"),
            "config_pending": differences(running, reloads.loaded.config),
        }

    def set(self, request: dict[str, Any]) -> dict[str, Any]:
        changes = request.get("changes")
        if not isinstance(changes, list) or not changes or not all(isinstance(c, str) for c in changes):
            raise VcamsegError("set needs changes: a list of KEY=VALUE texts", fix="vcamseg set KEY=VALUE ...")
        done: Future[ReloadResult] = Future()
        self.daemon.reloads.put(ReloadRequest("set", tuple(changes), bool(request.get("save")), done))
        try:
            return done.result(timeout=SET_TIMEOUT_S).as_json()
        except TimeoutError:
            raise VcamsegError(
                f"the change was not applied within {SET_TIMEOUT_S:g} s",
                fix="see the daemon's log; `vcamseg status` shows the last result",
            ) from None

    def snapshot(self) -> dict[str, Any]:
        frame = self.daemon.last_frame
        if frame is None:
            pipeline = self.daemon.pipeline
            state = pipeline.stats.source_state if pipeline is not None else "starting"
            raise VcamsegError(f"no frame sent yet (source {state})", fix="try again once the model has loaded")
        # Fast compression: the encoding runs beside the pipeline, on the same cores.
        ok, png = cv2.imencode(".png", frame.image, [cv2.IMWRITE_PNG_COMPRESSION, 1])
        if not ok:
            raise VcamsegError("the frame could not be encoded as PNG")
        height, width = frame.image.shape[:2]
        return {
            "png_base64": base64.b64encode(png.tobytes()).decode("ascii"),
            "width": width,
            "height": height,
            "age_s": round(time.monotonic() - frame.t_capture, 3),
        }
