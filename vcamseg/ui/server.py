"""The settings page's HTTP server: the standard library's ThreadingHTTPServer, one thread per
request, serving the page (three static files) and a small JSON API over the daemon's control
socket. Every request passes `Access` first; a refusal is 403, bad input 400, both JSON
``{"error": ...}``; a failure inside is logged and answered 500, and the server keeps serving.

    GET  /                     the page                      GET /api/schema   the config's JSON Schema
    GET  /api/status           fps, CPU, drops, ... + the daemon's status
    GET  /api/config           the effective config          GET /api/frame?view=output|camera|mask
    POST /api/set              {"changes": [...], "save": false}  (`vcamseg set`)
    POST /api/save             the unsaved changes into the file (`vcamseg set --save`)
"""

from __future__ import annotations

import json
import logging
import socket
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from vcamseg.errors import VcamsegError
from vcamseg.ui.access import Access
from vcamseg.ui.api import ApiError, DaemonApi, schema

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1 << 20
STATIC = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/app.js": ("app.js", "text/javascript; charset=utf-8"),
    "/app.css": ("app.css", "text/css; charset=utf-8"),
}
# The page loads only its own files and talks only to this server; no frames, no referrer (the
# token is in the URL).
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


class UiServer:
    """``start()`` binds ``host``:``port`` (0: a free port) and serves in a thread; ``url`` is the
    page's address with its token; ``stop()`` closes it."""

    def __init__(self, socket_path: Path, host: str = "127.0.0.1", port: int = 0) -> None:
        self.api = DaemonApi(socket_path)
        self._requested = (host, port)
        self._httpd: ThreadingHTTPServer | None = None
        self.access: Access | None = None

    def start(self) -> None:
        host, port = self._requested
        ui = self

        class Handler(_Handler):
            server_ui = ui

        server_class = _IPv6Server if ":" in host else ThreadingHTTPServer
        try:
            httpd = server_class((host.strip("[]"), port), Handler)
        except OSError as exc:
            raise VcamsegError(
                f"cannot serve the settings page on {host}:{port}: {exc.strerror or exc}",
                fix="choose another --port (0: any free one), or stop what uses it",
            ) from None
        httpd.daemon_threads = True
        self._httpd = httpd
        self.access = Access(host, httpd.server_address[1])
        # A short poll: SIGTERM -> stopped within a tenth of a second (the daemon may be waiting for it).
        threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.1}, name="vcamseg-ui", daemon=True
        ).start()

    @property
    def url(self) -> str:
        assert self.access is not None, "start() first"
        return self.access.url

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None


class _IPv6Server(ThreadingHTTPServer):
    address_family = socket.AF_INET6


class _Handler(BaseHTTPRequestHandler):
    server_ui: UiServer

    def version_string(self) -> str:
        return "vcamseg-ui"

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._send_json(HTTPStatus.METHOD_NOT_ALLOWED, {"error": "only GET and POST"})

    do_DELETE = do_PATCH = do_OPTIONS = do_PUT  # no CORS preflight is ever answered with CORS headers

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)

    def _handle(self, method: str) -> None:
        access = self.server_ui.access
        assert access is not None
        headers = {name.title(): value for name, value in self.headers.items()}
        doubled = [name for name in ("Host", "Origin") if len(self.headers.get_all(name) or []) > 1]
        refusal = f"more than one {doubled[0]} header" if doubled else access.refusal(method, self.path, headers)
        if refusal is not None:
            log.info("refused %s %s: %s", method, urlsplit(self.path).path, refusal)
            self._send_json(HTTPStatus.FORBIDDEN, {"error": refusal})
            return
        url = urlsplit(self.path)
        query = {key: values[-1] for key, values in parse_qs(url.query).items()}
        try:
            if method == "GET":
                self._get(url.path, query)
            else:
                self._post(url.path)
        except ApiError as exc:
            self._send_json(exc.status, exc.body)
        except VcamsegError as exc:  # the daemon answered with an error (or did not answer)
            self._send_json(HTTPStatus.BAD_GATEWAY, {"error": exc.message, "fix": exc.fix})
        except (BrokenPipeError, ConnectionResetError):
            pass  # the browser went away (a preview image replaced by the next)
        except Exception as exc:  # a bug: answer, log, keep serving
            log.exception("%s %s failed", method, url.path)
            self._send_json(HTTPStatus.INTERNAL_SERVER_ERROR, {"error": f"internal error: {exc}"})

    def _get(self, path: str, query: dict[str, str]) -> None:
        api = self.server_ui.api
        if path in STATIC:
            name, content_type = STATIC[path]
            content = (resources.files("vcamseg.ui") / "static" / name).read_bytes()
            if name == "index.html":  # its own requests carry the token too (URL-safe: no escaping needed)
                content = content.replace(b"__TOKEN__", access_token(self.server_ui).encode())
            self._send(HTTPStatus.OK, content, content_type)
        elif path == "/api/status":
            self._send_json(HTTPStatus.OK, api.status())
        elif path == "/api/config":
            self._send_json(HTTPStatus.OK, api.config())
        elif path == "/api/schema":
            self._send_json(HTTPStatus.OK, schema())
        elif path == "/api/frame":
            width = query.get("max_width", "640")
            if not width.isdigit():
                raise ApiError(400, f"max_width: expected a whole number of pixels, got {width!r}")
            jpeg, headers = api.frame(query.get("view", "output"), int(width))
            self._send(HTTPStatus.OK, jpeg, "image/jpeg", headers)
        else:
            raise ApiError(404, f"no such page: {path}", fix="open / with the token")

    def _post(self, path: str) -> None:
        api = self.server_ui.api
        if path not in ("/api/set", "/api/save"):
            raise ApiError(404, f"no such request: POST {path}")
        body = self._json_body()
        self._send_json(HTTPStatus.OK, api.set(body) if path == "/api/set" else api.save())

    def _json_body(self) -> Any:
        length = self.headers.get("Content-Length", "0")
        if not length.isdigit() or int(length) > MAX_BODY_BYTES:
            raise ApiError(413 if length.isdigit() else 400, f"the body must be at most {MAX_BODY_BYTES} bytes")
        raw = self.rfile.read(int(length))
        if not raw:
            return {}
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise ApiError(400, f"the body is not JSON: {exc}") from None

    def _send_json(self, status: int, body: Any) -> None:
        self._send(status, json.dumps(body).encode(), "application/json")

    def _send(self, status: int, payload: bytes, content_type: str, extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in {**SECURITY_HEADERS, **(extra or {})}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)


def access_token(ui: UiServer) -> str:
    assert ui.access is not None
    return ui.access.token
