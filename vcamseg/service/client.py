"""The control socket, client side: find the daemon's socket and send it one request."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

from vcamseg import paths
from vcamseg.config.yaml import parse_yaml, read_config_text
from vcamseg.errors import ConfigError, VcamsegError

SOCKET_NAME = "control.sock"


class NoDaemon(VcamsegError):
    """Nothing listens on the control socket."""


def default_socket_path() -> Path:
    return paths.runtime_dir() / SOCKET_NAME


def socket_path(configured: Path | str | None) -> Path:
    """The control socket for a service.control_socket_path value (``~`` expanded; unset: the default)."""
    return Path(configured).expanduser() if configured else default_socket_path()


def socket_path_for(config_file: Path | None) -> Path:
    """The socket a daemon using ``config_file`` listens on. Read leniently (only
    service.control_socket_path): `vcamseg status` must work while the file is being edited and
    does not validate."""
    path = config_file if config_file is not None else paths.config_file()
    try:
        data, _ = parse_yaml(read_config_text(path), str(path))
    except ConfigError:  # missing, unreadable or not YAML: the default (the daemon reports the error)
        return default_socket_path()
    service = data.get("service")
    configured = service.get("control_socket_path") if isinstance(service, dict) else None
    return socket_path(configured if isinstance(configured, str) else None)


def request(path: Path, payload: dict[str, Any], timeout_s: float = 30.0) -> dict[str, Any]:
    """Send one request and return the reply (``ok`` true). Raises NoDaemon, or VcamsegError with the
    daemon's error and fix."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout_s)
        try:
            sock.connect(str(path))
        except (FileNotFoundError, ConnectionRefusedError):
            raise NoDaemon(
                f"no vcamseg daemon is listening on {path}",
                fix="start it (`systemctl --user start vcamseg` or `vcamseg run`); a daemon with "
                "another service.control_socket_path: pass --config or --socket",
            ) from None
        except PermissionError:
            raise VcamsegError(
                f"not allowed to connect to {path}", fix="the control socket belongs to the user running the daemon"
            ) from None
        with sock.makefile("rwb") as stream:
            stream.write(json.dumps(payload).encode() + b"\n")
            stream.flush()
            try:
                line = stream.readline()
            except TimeoutError:
                raise VcamsegError(
                    f"the daemon did not answer within {timeout_s:g} s",
                    fix="see its log: `journalctl --user -u vcamseg`",
                ) from None
    if not line:
        raise VcamsegError(
            "the daemon closed the connection without answering", fix="see its log: `journalctl --user -u vcamseg`"
        )
    reply = json.loads(line)
    if not reply.get("ok"):
        raise VcamsegError(str(reply.get("error", "request failed")), fix=str(reply.get("fix", "")))
    return reply
