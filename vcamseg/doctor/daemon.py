"""The running daemon, over its control socket (`{"cmd": "status"}`, a few seconds' timeout): up or
not, its pipeline state, the last reload. Its status also tells the loopback check which writer is
ours."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vcamseg.config import Config
from vcamseg.doctor.report import Finding, ok, problem, warning
from vcamseg.errors import VcamsegError
from vcamseg.service.client import NoDaemon, request, socket_path

AREA = "daemon"
TIMEOUT_S = 5.0  # a daemon answers within milliseconds; one loading its model may take a moment


def query_daemon(
    config: Config, socket: Path | None = None, timeout_s: float = TIMEOUT_S
) -> tuple[dict[str, Any] | None, Finding]:
    """The daemon's status (None when none answers) and the finding about it."""
    if socket is None and not config.service.control_socket:
        return None, ok(
            AREA, "status", "service.control_socket is off: the daemon cannot be asked (nor can `vcamseg status`)"
        )
    path = socket or socket_path(config.service.control_socket_path)
    try:
        status = request(path, {"cmd": "status"}, timeout_s=timeout_s)["status"]
    except NoDaemon:
        return None, warning(
            AREA,
            "status",
            f"no vcamseg daemon is running (nothing listens on {path})",
            fix="systemctl --user start vcamseg (or `vcamseg run`)",
            socket=str(path),
        )
    except (VcamsegError, OSError, ValueError, KeyError) as exc:
        return None, problem(
            AREA,
            "status",
            f"the daemon on {path} did not answer properly: {getattr(exc, 'message', exc)}",
            fix="journalctl --user -u vcamseg -n 50",
            socket=str(path),
        )
    return status, status_finding(status)


def status_finding(status: dict[str, Any]) -> Finding:
    head = (
        f"vcamseg {status.get('version', '?')} runs (pid {status.get('pid', '?')}, "
        f"up {status.get('uptime_s', 0):.0f} s)"
    )
    pipe = status.get("pipeline")
    details = {"pid": status.get("pid"), "version": status.get("version")}
    if not pipe:
        return ok(AREA, "status", f"{head}, starting", **details)
    state = pipe.get("state") or {}
    fps = (pipe.get("fps") or {}).get("now")
    summary = (
        f"{head}: {'idle (nobody reads the camera)' if status.get('idle') else 'active'}, source "
        f"{state.get('source', '?')}, output {state.get('sink', '?')}, readers {state.get('readers', '?')}"
        + (f", {fps:.1f} fps" if isinstance(fps, int | float) else "")
    )
    last = status.get("last_reload") or {}
    if last and last.get("ok") is False:
        return warning(
            AREA,
            "status",
            f"{summary}; the last reload failed: {last.get('message')}",
            fix="fix the config file (`vcamseg config check`): the daemon keeps its last good config",
            **details,
        )
    if state.get("source") == "lost":
        return warning(
            AREA,
            "status",
            f"{summary}; the camera is lost (the output shows a placeholder)",
            fix="check the camera (`vcamseg devices`) and the log: journalctl --user -u vcamseg",
            **details,
        )
    if state.get("sink") == "lost":
        return problem(
            AREA,
            "status",
            f"{summary}; the virtual camera is lost (module unloaded?)",
            fix="see the virtual camera checks above; the daemon reopens it when it is back",
            **details,
        )
    return ok(AREA, "status", summary, **details)
