"""What the page's requests do, in terms of the daemon's control socket: the same requests as
`vcamseg status` and `vcamseg set` (so a change is validated and applied live exactly as `set`
does, and Save writes the file as `set --save` does), plus ``frame`` for the preview.

Each function returns (HTTP status, JSON-ready body) or raises `ApiError`; the server turns both
into responses. Nothing here imports OpenCV or TensorFlow: this process only relays.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any

from vcamseg.config import Config
from vcamseg.config.live import policy
from vcamseg.errors import VcamsegError
from vcamseg.service.client import NoDaemon, request

# A dotted config key as the CLI's messages name it: "effects.0.background_blur".
_KEY = r"[a-z_][a-z0-9_]*(?:\.[a-z0-9_]+)*"
_KEY_AFTER_WHERE = re.compile(rf": ({_KEY}): ")
_KEY_FIRST = re.compile(rf"^({_KEY}): ")
FRAME_TIMEOUT_S = 5.0
MAX_CHANGES = 200


class ApiError(Exception):
    """A request the page made that cannot be answered: ``status`` and the JSON body's fields."""

    def __init__(self, status: int, error: str, fix: str = "", **extra: Any) -> None:
        super().__init__(error)
        self.status = status
        self.body = {"error": error, **({"fix": fix} if fix else {}), **extra}


class DaemonApi:
    """The page's view of the daemon listening on ``socket``."""

    def __init__(self, socket: Path) -> None:
        self.socket = socket

    def _ask(self, payload: dict[str, Any], timeout_s: float = 30.0) -> dict[str, Any]:
        try:
            return request(self.socket, payload, timeout_s=timeout_s)
        except NoDaemon as exc:
            raise ApiError(503, exc.message, exc.fix) from None

    def status(self) -> dict[str, Any]:
        """The daemon's status with the figures the page shows at the top level (``fps``: the
        output rate over the last seconds; 0 until frames go out)."""
        status = self._ask({"cmd": "status"})["status"]
        pipe = status.get("pipeline")
        summary: dict[str, Any] = {
            "fps": 0.0,
            "cpu_ms_per_frame": None,
            "dropped": 0,
            "inference_device": "not started",
            "idle": bool(status.get("idle")),
            "readers": "n/a",
            "source": "",
            "source_state": "starting",
            "sink": "",
        }
        if pipe is not None:
            summary.update(
                fps=pipe["fps"]["now"],
                cpu_ms_per_frame=pipe["ms"]["cpu_per_frame"],
                dropped=pipe["frames"]["dropped"],
                inference_device=pipe["inference_device"],
                readers=pipe["state"]["readers"],
                source=pipe["source"],
                source_state=pipe["state"]["source"],
                sink=pipe["sink"],
            )
        return {**summary, "daemon": {k: v for k, v in status.items() if k != "config"}}

    def config(self) -> dict[str, Any]:
        """The effective configuration (what runs), as `vcamseg status --json` shows it."""
        return self._ask({"cmd": "status"})["status"]["config"]

    def frame(self, view: str, max_width: int) -> tuple[bytes, dict[str, str]]:
        """A JPEG of ``view`` and headers describing it (``X-Frame-Seq``: the camera frame's number)."""
        try:
            reply = self._ask({"cmd": "frame", "view": view, "max_width": max_width}, FRAME_TIMEOUT_S)
        except ApiError:
            raise
        except VcamsegError as exc:  # no frame yet, or a bad view: the daemon's words
            raise ApiError(503 if "no frame yet" in exc.message else 400, exc.message, exc.fix) from None
        headers = {"X-Frame-Seq": str(reply["seq"]), "X-Frame-Age": str(reply["age_s"])}
        return base64.b64decode(reply["jpeg_base64"]), headers

    def set(self, body: Any) -> dict[str, Any]:
        """``{"changes": ["KEY=VALUE", ...], "save": false}``: `vcamseg set` (``--save``)."""
        if not isinstance(body, dict):
            raise ApiError(400, 'expected a JSON object: {"changes": ["KEY=VALUE", ...], "save": false}')
        changes, save = body.get("changes"), body.get("save", False)
        if (
            not isinstance(changes, list)
            or not 0 < len(changes) <= MAX_CHANGES
            or not all(isinstance(c, str) and "=" in c for c in changes)
        ):
            raise ApiError(
                400, f"changes: expected a list of 1 to {MAX_CHANGES} KEY=VALUE texts", fix="e.g. mask.softness=0.2"
            )
        if not isinstance(save, bool):
            raise ApiError(400, "save: expected true or false")
        try:
            result = self._ask({"cmd": "set", "changes": changes, "save": save})["result"]
        except ApiError:
            raise
        except VcamsegError as exc:  # refused: nothing changed (or "applied, but not saved")
            raise ApiError(400, exc.message, exc.fix, problems=problems(exc.message, changes)) from None
        return {"result": result, "message": f"{'saved and applied' if save else 'applied'}: {result['message']}"}

    def save(self) -> dict[str, Any]:
        """Write the unsaved changes (`vcamseg set` without --save, from this page or the CLI) into
        the config file, as ``set --save`` writes them: comments and layout kept."""
        pending = self._ask({"cmd": "status"})["status"]["runtime_changes"]
        if not pending:
            return {"result": None, "message": "nothing to save: the file has every change"}
        return self.set({"changes": pending, "save": True})


def schema() -> dict[str, Any]:
    """The config's JSON Schema (the form is generated from it) and how a change to each key
    applies (`vcamseg.config.live`)."""
    return {
        "schema": Config.model_json_schema(),
        "live": {key: mark.describe() for key, mark in policy().items()},
    }


def problems(message: str, changes: list[str]) -> list[dict[str, str]]:
    """The CLI's error, one entry per line it has, with the config key each line is about (the
    page shows the line next to that key's field)."""
    lines = [line.strip() for line in message.splitlines()]
    if len(lines) > 1 and lines[0].endswith(":"):
        lines = lines[1:]  # "invalid configuration:" then one line per key
    found = []
    for line in filter(None, lines):
        key = ""
        for change in sorted(changes, key=len, reverse=True):
            if line.startswith(f"--set {change}: "):
                key = line.removeprefix(f"--set {change}: ").split(": ", 1)[0]
                break
        if not key:
            match = _KEY_FIRST.match(line) or _KEY_AFTER_WHERE.search(line)
            key = match.group(1) if match else ""
        found.append({"key": key, "message": line})
    return found
