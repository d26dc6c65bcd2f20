"""Downloading one model file, over https only (plain http only to this machine, for a local
mirror), verified before it takes its place in the cache.

A transfer is retried on network errors, timeouts, 5xx, 408 and 429; a redirect is followed only to
a URL we would accept as a base (no https -> http downgrade); a ``Content-Length`` that cannot be
the expected size fails before the body is read, and a body shorter than announced is retried.
The file is streamed into ``<name>.part`` (sha256 computed on the way, progress on stderr), made
durable (fsync), checked, then renamed into place; a failure leaves nothing behind.

Written with urllib rather than pooch: pooch retries a checksum mismatch as if it were a network
error, sleeps 1, 2, ... s with no way to set the pauses, follows every redirect that requests
follows (https -> http included), reports mismatches in its own words, and does not fsync; the
guarantees above would all have to be re-added around it.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import ipaddress
import logging
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, NamedTuple

from tqdm import tqdm

from vcamseg import __version__
from vcamseg.errors import DownloadError
from vcamseg.models.catalogue import BASE_URL_ENV
from vcamseg.models.expected import Expected, git_blob_mismatch, git_blob_of
from vcamseg.models.remedies import write_error

log = logging.getLogger(__name__)

TIMEOUT_S = 30.0
_CHUNK = 1024 * 1024
_LOOPBACK_NAMES = {"localhost"}


class Downloaded(NamedTuple):
    size: int
    sha256: str


@dataclass(frozen=True)
class DownloadRequest:
    """One file to fetch into the cache, and how to tell the user to get it otherwise."""

    url: str
    dest: Path
    expected: Expected
    manual_fix: str  # how to get the file by hand: the fix of every DownloadError ends with it
    retry_delays_s: tuple[float, ...] = ()  # the pause before each retry (so 1 + len attempts in all)
    show_progress: bool = False
    # What else is wrong with the downloaded file (e.g. a model.json that does not parse), if anything.
    check_content: Callable[[Path], str | None] | None = None


def url_problem(url: str) -> str | None:
    """Why ``url`` may not be downloaded from (None: https, or plain http to this machine)."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return None
    if parts.scheme == "http" and parts.hostname:
        if is_loopback(parts.hostname):
            return None
        return "plain http is only allowed to this machine (127.0.0.1, ::1, localhost)"
    return "only https:// URLs (and http:// to this machine) can be used"


def is_loopback(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class CheckedRedirects(urllib.request.HTTPRedirectHandler):
    """Follow redirects only to URLs we would accept as a base (no https -> http downgrade)."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        if (problem := url_problem(newurl)) is not None:
            raise DownloadError(
                f"{req.full_url} redirects to {newurl}, which is not allowed: {problem}",
                fix=f"use a mirror that serves the files over https, via {BASE_URL_ENV}",
            )
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def opener_for(url: str) -> urllib.request.OpenerDirector:
    """The opener a download of ``url`` uses: certificates verified (urllib's default), redirects
    checked, and no proxy for a mirror on this machine."""
    handlers: list[urllib.request.BaseHandler] = [CheckedRedirects()]
    if is_loopback(urllib.parse.urlsplit(url).hostname or ""):
        handlers.append(urllib.request.ProxyHandler({}))  # a local mirror is never behind the proxy
    return urllib.request.build_opener(*handlers)


class _Retryable(Exception):
    """A transfer failure worth another attempt (network, timeout, 5xx)."""


def download(request: DownloadRequest) -> Downloaded:
    """Fetch ``request.url`` into ``request.dest`` atomically (via ``<dest>.part``) and verify it.
    Raises DownloadError saying what went wrong, ending in ``request.manual_fix``."""
    dest, url, expected, manual_fix = request.dest, request.url, request.expected, request.manual_fix
    part = dest.with_name(dest.name + ".part")
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise write_error(exc, dest.parent) from None
    try:
        reason = ""
        for attempt, delay in enumerate((0.0, *request.retry_delays_s)):
            if attempt:
                log.warning("retrying %s in %.0f s (%s)", url, delay, reason)
                time.sleep(delay)
            try:
                got = _transfer(request, part)
                break
            except _Retryable as exc:
                reason = str(exc)
        else:
            raise DownloadError(
                f"cannot download {url}: {reason} (tried {1 + len(request.retry_delays_s)} times)", fix=manual_fix
            )
        if expected.size is not None and got.size != expected.size:
            raise DownloadError(
                f"{url} gave {got.size} bytes but {expected.relpath} has {expected.size}: "
                f"the server sent a truncated or different file",
                fix=f"try again later; {manual_fix}",
            )
        if expected.sha256 is not None and got.sha256 != expected.sha256:
            raise DownloadError(
                f"{url} failed verification: its sha256 is {got.sha256} but {expected.relpath} "
                f"should be {expected.sha256} ({expected.sha_source})",
                fix=f"the file was altered on the way or on the server; try again later; {manual_fix}",
            )
        if expected.git_blob is not None and (blob := git_blob_of(part)) != expected.git_blob:
            raise DownloadError(
                f"{url} failed verification: {expected.relpath} {git_blob_mismatch(blob, expected)}",
                fix=f"the file was altered on the way or on the server; try again later; {manual_fix}",
            )
        if request.check_content is not None and (problem := request.check_content(part)) is not None:
            raise DownloadError(
                f"{url} {problem}",
                fix=f"a mirror must serve the official files unchanged ({BASE_URL_ENV}); {manual_fix}",
            )
        try:
            os.replace(part, dest)
        except OSError as exc:
            raise write_error(exc, dest.parent) from None
        _fsync_dir(dest.parent)
        return got
    finally:
        part.unlink(missing_ok=True)


def _transfer(request: DownloadRequest, part: Path) -> Downloaded:
    url, expected = request.url, request.expected
    http_request = urllib.request.Request(url, headers={"User-Agent": f"vcamseg/{__version__}"})
    try:
        with opener_for(url).open(http_request, timeout=TIMEOUT_S) as response:
            announced = response.headers.get("Content-Length")
            announced_size = int(announced) if announced and announced.isdigit() else None
            if expected.size is not None and announced_size not in (None, expected.size):
                # Fail before transferring a file we already know is wrong.
                raise DownloadError(
                    f"{url} announces {announced_size} bytes but {expected.relpath} has "
                    f"{expected.size}: the server has a truncated or different file",
                    fix=f"try again later; {request.manual_fix}",
                )
            got = _stream(response, part, total=announced_size or expected.size, show=request.show_progress)
    except urllib.error.HTTPError as exc:
        if exc.code >= 500 or exc.code in (408, 429):
            raise _Retryable(f"HTTP {exc.code} {exc.reason}") from None
        raise DownloadError(f"cannot download {url}: HTTP {exc.code} {exc.reason}", fix=request.manual_fix) from None
    except urllib.error.URLError as exc:
        raise _Retryable(str(exc.reason)) from None
    except (http.client.HTTPException, ConnectionError, TimeoutError) as exc:
        raise _Retryable(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__) from None
    if announced_size is not None and got.size != announced_size:
        # http.client returns a short body without complaint when the connection drops early.
        raise _Retryable(f"the connection closed after {got.size} of {announced_size} bytes")
    return got


def _stream(response: IO[bytes], part: Path, *, total: int | None, show: bool) -> Downloaded:
    digest = hashlib.sha256()
    size = 0
    try:
        fh = part.open("wb")
    except OSError as exc:
        raise write_error(exc, part.parent) from None
    with (
        fh,
        tqdm(
            total=total,
            unit="B",
            unit_scale=True,
            unit_divisor=1024,
            desc=part.name.removesuffix(".part"),
            disable=not show,
            file=sys.stderr,
            leave=False,
        ) as bar,
    ):
        while chunk := response.read(_CHUNK):
            try:
                fh.write(chunk)
            except OSError as exc:
                raise write_error(exc, part.parent) from None
            digest.update(chunk)
            size += len(chunk)
            bar.update(len(chunk))
        try:
            fh.flush()
            os.fsync(fh.fileno())
        except OSError as exc:
            raise write_error(exc, part.parent) from None
    return Downloaded(size, digest.hexdigest())


def _fsync_dir(folder: Path) -> None:
    # Make the rename itself durable; some file systems cannot fsync a directory, which is fine.
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
