"""A real ``vcamseg ui --no-browser`` process for the settings page's tests: its printed address,
plain HTTP requests to it (with any Host, Origin or token), and a SIGTERM stop."""

from __future__ import annotations

import http.client
import json
import os
import re
import select
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Self
from urllib.parse import urlsplit

import pytest

from tests.speed import scaled

URL_LINE = re.compile(r"http://127\.0\.0\.1:(\d+)/\?token=([A-Za-z0-9_-]+)")


class UiProcess:
    """``python -m vcamseg [PREFIX...] ui --no-browser --socket SOCKET ARGS...``."""

    def __init__(self, socket: Path, *args: str, prefix: Sequence[str] = ()) -> None:
        command = [sys.executable, *prefix, "-m", "vcamseg", "ui", "--no-browser", "--socket", str(socket), *args]
        self.proc = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ}
        )
        self.line = self._first_line(scaled(30))
        match = URL_LINE.search(self.line)
        assert match, f"no http://127.0.0.1:PORT/?token=TOKEN in {self.line!r}"
        self.url = match.group(0)
        self.port, self.token = int(match.group(1)), match.group(2)

    def _first_line(self, timeout: float) -> str:
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not ready:
            self.proc.kill()
            pytest.fail(f"vcamseg ui printed nothing within {timeout:g} s: {self.proc.communicate()[1][-2000:]}")
        return self.proc.stdout.readline()

    def http(
        self,
        method: str,
        path: str,
        *,
        token: str | None = "",
        headers: dict[str, str] | None = None,
        body: Any = None,
    ) -> tuple[int, dict[str, str], bytes]:
        """(status, headers, body) of one request; ``token``: "" = the right one, None = none."""
        target = path
        if token is not None:
            target += ("&" if "?" in path else "?") + f"token={token or self.token}"
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=scaled(30))
        try:
            payload = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
            sent = {"Content-Type": "application/json"} if body is not None else {}
            connection.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
            for name, value in {"Host": f"127.0.0.1:{self.port}", **sent, **(headers or {})}.items():
                connection.putheader(name, value)
            connection.putheader("Content-Length", str(len(payload or b"")))
            connection.endheaders(payload)
            response = connection.getresponse()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        finally:
            connection.close()

    def json(self, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        status, headers, body = self.http(method, path, **kwargs)
        assert headers["content-type"] == "application/json", headers
        return status, json.loads(body)

    @property
    def origin(self) -> str:
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc}"

    def terminate(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(scaled(10))
        except subprocess.TimeoutExpired:
            pytest.fail("vcamseg ui did not stop on SIGTERM")

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.communicate(timeout=10)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def wait_until(condition: Any, timeout: float, what: str, poll_s: float = 0.1) -> Any:
    """``condition()``'s first truthy value within ``timeout`` (scaled to the machine)."""
    deadline = time.monotonic() + scaled(timeout)
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(poll_s)
    pytest.fail(f"timed out waiting for {what}")
