"""An HTTP server on 127.0.0.1 standing in for Google's model storage (a local mirror is allowed
over plain HTTP): serves a folder in the official layout, optionally failing or redirecting."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path


@dataclass
class Server:
    base_url: str
    requests: list[str] = field(default_factory=list)
    stop: Callable[[], None] = lambda: None


class _MirrorHandler(http.server.SimpleHTTPRequestHandler):
    """Serves a folder; the first ``fail_first`` requests of each path get a 503."""

    requests: list[str]
    fail_first: int = 0
    redirect_to: str | None = None

    def do_GET(self) -> None:
        self.requests.append(self.path)
        if self.redirect_to is not None:
            self.send_response(302)
            self.send_header("Location", self.redirect_to + self.path)
            self.end_headers()
            return
        if self.requests.count(self.path) <= self.fail_first:
            self.send_error(503, "busy")
            return
        super().do_GET()

    def log_message(self, format: str, *args: object) -> None:  # keep test output clean
        pass


class _MirrorServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that hangs up mid-transfer (a full disk, a test that stops early) is the point


def mirrors() -> Iterator[Callable[..., Server]]:
    """The ``serve`` fixture's body (conftest.py): serve(folder, fail_first=0, redirect_to=None)
    -> a running mirror on 127.0.0.1; all are stopped at the end."""
    servers: list[http.server.ThreadingHTTPServer] = []

    def start(folder: Path, *, fail_first: int = 0, redirect_to: str | None = None) -> Server:
        requests: list[str] = []
        handler = type(
            "Handler", (_MirrorHandler,), {"requests": requests, "fail_first": fail_first, "redirect_to": redirect_to}
        )
        httpd = _MirrorServer(("127.0.0.1", 0), partial(handler, directory=str(folder)))
        # A short poll interval makes shutdown() return at once instead of after up to 0.5 s.
        thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
        thread.start()
        servers.append(httpd)

        def stop() -> None:
            httpd.shutdown()
            httpd.server_close()
            thread.join()
            servers.remove(httpd)

        return Server(f"http://127.0.0.1:{httpd.server_address[1]}/", requests, stop)

    yield start
    for httpd in list(servers):
        httpd.shutdown()
        httpd.server_close()
