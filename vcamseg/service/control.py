"""The control socket, server side: a Unix stream socket (this user only: folder 0700, socket
0600; never TCP) speaking JSON lines. One request per line, one reply per line:

    {"cmd": "status"}                                  -> {"ok": true, "status": {...}}
    {"cmd": "set", "changes": ["K=V", ...], "save": false} -> {"ok": true, "result": {...}}
    {"cmd": "snapshot"}                                -> {"ok": true, "png_base64": "...", ...}
    {"cmd": "frame", "view": "output"}                 -> {"ok": true, "jpeg_base64": "...", ...}
    anything that fails                                -> {"ok": false, "error": "...", "fix": "..."}

One daemon per socket: a lock file next to it is held while the daemon runs, so a second daemon
gets a clear error at once, and a socket file left by a daemon that was killed is replaced.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from vcamseg.errors import VcamsegError

log = logging.getLogger(__name__)

MAX_REQUEST_BYTES = 1 << 20
CLIENT_TIMEOUT_S = 30.0
# AF_UNIX paths are limited to 107 bytes (sun_path).
MAX_SOCKET_PATH = 107

Handler = Callable[[dict[str, Any]], dict[str, Any]]


class AlreadyRunning(VcamsegError):
    """Another daemon holds this control socket."""


class ControlServer:
    """``start()`` takes the lock and listens (raises AlreadyRunning or VcamsegError), ``stop()``
    closes and removes the socket. ``handler`` answers one request (in a per-client thread)."""

    def __init__(self, path: Path, handler: Handler) -> None:
        self.path = path
        self.lock_path = path.with_name(path.name + ".lock")
        self._handler = handler
        self._lock_fd: int | None = None
        self._sock: socket.socket | None = None
        self._stopped = threading.Event()

    def start(self) -> None:
        if len(os.fsencode(self.path)) > MAX_SOCKET_PATH:
            raise VcamsegError(
                f"control socket path {self.path} is longer than {MAX_SOCKET_PATH} bytes",
                fix="set a shorter service.control_socket_path",
            )
        _private_folder(self.path.parent)
        self._take_lock()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()  # left by a daemon that died: we hold the lock, so nobody serves it
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.bind(str(self.path))
            os.chmod(self.path, 0o600)
            sock.listen(8)
        except OSError as exc:
            sock.close()
            self._release_lock()
            raise VcamsegError(
                f"cannot listen on {self.path}: {exc}",
                fix="check the folder's permissions or set service.control_socket_path",
            ) from None
        self._sock = sock
        threading.Thread(target=self._accept_loop, name="vcamseg-control", daemon=True).start()
        log.info("control socket: %s", self.path)

    def stop(self) -> None:
        self._stopped.set()
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.shutdown(socket.SHUT_RDWR)
            self._sock.close()
            self._sock = None
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
        self._release_lock()

    def _take_lock(self) -> None:
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise AlreadyRunning(
                f"another vcamseg daemon is running (pid {holder}) with the control socket {self.path}",
                fix="stop it first (`systemctl --user stop vcamseg`, or Ctrl-C where it runs), or give this one "
                "its own socket and output: --set service.control_socket_path=... --output ...",
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._lock_fd = fd

    def _release_lock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # releases the flock; the file stays (removing it would race a new daemon)
            self._lock_fd = None

    def _accept_loop(self) -> None:
        while not self._stopped.is_set():
            sock = self._sock
            if sock is None:
                return
            try:
                conn, _ = sock.accept()
            except OSError:
                return  # closed by stop()
            threading.Thread(target=self._serve, args=(conn,), name="vcamseg-control-client", daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn, conn.makefile("rwb") as stream:
            conn.settimeout(CLIENT_TIMEOUT_S)
            try:
                for line in iter(lambda: stream.readline(MAX_REQUEST_BYTES + 1), b""):
                    reply = self._reply(line)
                    stream.write(json.dumps(reply).encode() + b"\n")
                    stream.flush()
            except (OSError, TimeoutError) as exc:
                log.debug("control client gone: %s", exc)

    def _reply(self, line: bytes) -> dict[str, Any]:
        if len(line) > MAX_REQUEST_BYTES:
            return {"ok": False, "error": "request too long", "fix": f"requests are at most {MAX_REQUEST_BYTES} bytes"}
        try:
            request = json.loads(line)
        except ValueError as exc:
            return {"ok": False, "error": f"not a JSON line: {exc}", "fix": 'send e.g. {"cmd": "status"}'}
        if not isinstance(request, dict):
            return {"ok": False, "error": "a request is a JSON object", "fix": 'send e.g. {"cmd": "status"}'}
        try:
            return {"ok": True, **self._handler(request)}
        except VcamsegError as exc:
            return {"ok": False, "error": exc.message, "fix": exc.fix}
        except Exception as exc:  # a bug: answer, log, keep serving
            log.exception("control request %r failed", request.get("cmd"))
            return {"ok": False, "error": f"internal error: {exc}", "fix": "see the daemon's log"}


def _private_folder(folder: Path) -> None:
    """Create the socket's folder for this user only (0700); refuse one that others could enter."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = folder.stat()
    if info.st_uid == os.getuid() and info.st_mode & 0o077:
        os.chmod(folder, 0o700)
    elif info.st_uid != os.getuid():
        raise VcamsegError(
            f"the control socket's folder {folder} belongs to another user",
            fix="set service.control_socket_path to a path in a folder of your own",
        )
