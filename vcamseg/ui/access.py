"""Who may use the settings page: the checks every request passes before anything else runs.

* **The token**: random per start (``secrets.token_urlsafe``), required on every request as
  ``?token=``; the page carries it in each of its own requests. Another user on this machine
  (or a web page in the browser) cannot guess it.
* **Host**: must name the address served (``127.0.0.1:PORT``, ``localhost:PORT``, ...): a
  DNS-rebinding page (``evil.example`` resolving to 127.0.0.1) sends its own name and is refused.
* **Origin**: when a browser sends one (every POST from a page does), it must be this page's; a
  state-changing request must also be JSON (``Content-Type: application/json``), which a
  cross-site form cannot send without a CORS preflight, and there are no CORS headers.

A refusal is ``403`` with a JSON ``{"error": ...}`` saying which check failed.
"""

from __future__ import annotations

import ipaddress
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

TOKEN_BYTES = 24  # 32 URL-safe characters
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def url_host(host: str) -> str:
    """``host`` as written in a URL (IPv6 in brackets)."""
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


@dataclass(frozen=True)
class Access:
    """The checks for a server bound to ``host``:``port`` with ``token``."""

    host: str
    port: int
    token: str = field(default_factory=new_token, repr=False)

    @property
    def allowed_hosts(self) -> frozenset[str]:
        """The ``Host`` headers accepted: the address served, and the loopback names when it is
        this machine (``localhost:PORT`` opens the same page)."""
        names = {url_host(self.host)}
        if is_loopback(self.host) or self.host in ("0.0.0.0", "::"):
            names.update(LOOPBACK_NAMES)
        return frozenset(f"{name}:{self.port}" for name in names)

    @property
    def url(self) -> str:
        """The page's address, token included (what `vcamseg ui` prints and opens)."""
        shown = "127.0.0.1" if self.host in ("0.0.0.0", "::") else url_host(self.host)
        return f"http://{shown}:{self.port}/?token={self.token}"

    def refusal(self, method: str, target: str, headers: Mapping[str, str]) -> str | None:
        """Why this request is refused (the 403's message), or None when it may go on."""
        host = headers.get("Host", "")
        if host.lower() not in self.allowed_hosts:
            return f"Host {host!r} is not this server's (open {self.url.split('?')[0]})"
        origin = headers.get("Origin")
        if origin is not None and origin.lower() not in {f"http://{h}" for h in self.allowed_hosts}:
            return f"cross-origin request from {origin!r} refused"
        fetch_site = headers.get("Sec-Fetch-Site")
        if fetch_site is not None and fetch_site not in ("same-origin", "none"):
            return f"cross-site request ({fetch_site}) refused"
        given = parse_qs(urlsplit(target).query).get("token", [""])[0]
        if not secrets.compare_digest(given.encode(), self.token.encode()):
            return "missing or wrong token: open the address `vcamseg ui` printed (with ?token=...)"
        if method == "POST":
            content_type = headers.get("Content-Type", "").split(";")[0].strip().lower()
            if content_type != "application/json":
                return f"a change must be sent as application/json, not {content_type or 'no content type'!r}"
        return None
