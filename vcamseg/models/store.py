"""Find a BodyPix model on disk or download it, and never hand out a file that is not verified.

Lookup order for the configured variant:

1. the local model folder (``model.dir`` or ``$VCAMSEG_MODEL_DIR``), laid out like the official
   storage. It belongs to the user: a damaged file there is an error, never repaired.
2. the cache, ``<cache_dir>/models/<relpath>``. It belongs to us: a damaged file is deleted and
   downloaded again.
3. a download into the cache (``model.download: true``).

Every file is checked by size (shards: from the manifest; tfjs splits at 4 MiB) and by sha256
where known: the pinned official checksums in :mod:`vcamseg.models.catalogue`, else (cache only)
the checksum recorded in ``<cache>/models/checksums.json`` when the file was first downloaded.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import http.client
import ipaddress
import json
import logging
import os
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Literal, NamedTuple

from tqdm import tqdm

from vcamseg import __version__, paths
from vcamseg.atomic import replace_file
from vcamseg.config.model import ModelConfig
from vcamseg.errors import DownloadError, ModelError
from vcamseg.models.catalogue import OFFICIAL_BASE_URL, PINNED, SHARD_BYTES, Variant, file_url, variant_for
from vcamseg.models.tfjs import TfjsGraphModel, read_model_json

log = logging.getLogger(__name__)

BASE_URL_ENV = "VCAMSEG_MODEL_BASE_URL"
CHECKSUMS_FILE = "checksums.json"
TIMEOUT_S = 30.0
# Pause before each retry of a failed transfer (so 1 + len attempts in all).
RETRY_DELAYS_S: tuple[float, ...] = (1.0, 3.0)
_CHUNK = 1024 * 1024
_LOOPBACK_NAMES = {"localhost"}
# Shard names in a manifest become file names in our folders: nothing that could climb out.
_PLAIN_FILE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]*")

Where = Literal["local", "cache", "missing"]


class VariantStatus(NamedTuple):
    where: Where
    path: Path | None  # the model.json
    total_bytes: int | None  # model.json + shards


@dataclass(frozen=True)
class FetchedFile:
    path: Path
    size: int
    downloaded: bool  # False: it was already there and verified


@dataclass(frozen=True)
class _Expected:
    """What a file must be: size and sha256 where known, and where the checksum comes from."""

    relpath: str
    size: int | None
    sha256: str | None
    sha_source: str = ""  # "pinned" or "recorded at first download"


# --------------------------------------------------------------------------------------------
# Public API


def resolve_model(cfg: ModelConfig, *, progress: bool | None = None, base_url: str | None = None) -> Path:
    """The verified model.json of the configured variant: local folder, else cache, else download."""
    variant = variant_for(cfg)
    local_dir = cfg.effective_dir
    if local_dir is not None and (local_dir / variant.relpath).exists():
        return verify_local(variant, local_dir)
    root = models_cache_dir(cfg)
    if not cfg.download and not (root / variant.relpath).exists():
        raise _not_found_error(variant, cfg)
    fetched = _ensure_cached(variant, root, download=cfg.download, cfg=cfg, progress=progress, base_url=base_url)
    if fetched is None:
        raise _not_found_error(variant, cfg, incomplete_cache=True)
    return fetched[0].path


def fetch_variant(variant: Variant, cfg: ModelConfig, *, progress: bool | None = None,
                  base_url: str | None = None) -> list[FetchedFile]:
    """Make sure ``variant`` is in the cache (downloading what is missing, whatever ``cfg.download``
    says): the model.json first, then its shards."""
    root = models_cache_dir(cfg)
    fetched = _ensure_cached(variant, root, download=True, cfg=cfg, progress=progress, base_url=base_url)
    if fetched is None:  # download=True fills the cache or raises; kept for the type checker
        raise _not_found_error(variant, cfg, incomplete_cache=True)
    return fetched


def resolve_file(relpath: str, official_url: str, cfg: ModelConfig, *, download: bool | None = None,
                 progress: bool | None = None, base_url: str | None = None) -> FetchedFile:
    """One single-file model with a pinned size and sha256 (the MediaPipe selfie models): the local
    model folder, else the cache, else a download from ``official_url``, or from
    ``<mirror>/<relpath>`` when a mirror is set (``base_url`` / $VCAMSEG_MODEL_BASE_URL)."""
    expected = _expected(relpath, size=None, record=None)
    where_by_hand = (f"download {official_url} and put it at <model folder>/{relpath} with model.dir (or "
                     f"VCAMSEG_MODEL_DIR) set to that folder, or at {models_cache_dir(cfg)}/{relpath}")
    local_dir = cfg.effective_dir
    if local_dir is not None and (local_dir / relpath).exists():
        path = local_dir / relpath
        if (problem := _problem(path, expected)) is not None:
            raise ModelError(f"model file {path} {problem}",
                             fix=f"replace it with the official file {official_url}, or remove it (or unset "
                                 f"model.dir / VCAMSEG_MODEL_DIR) so that vcamseg downloads it into its cache")
        return FetchedFile(path, path.stat().st_size, downloaded=False)
    allowed = cfg.download if download is None else download
    mirror = base_url or os.environ.get(BASE_URL_ENV)
    base = effective_base_url(mirror) if mirror else OFFICIAL_BASE_URL
    root = models_cache_dir(cfg)
    show = sys.stderr.isatty() if progress is None else progress
    with _cache_lock(root):
        fetched = _cached_or_fetched(expected, root, _ChecksumRecord(root), download=allowed, base=base, show=show,
                                     manual_fix=lambda: f"check the network (or {BASE_URL_ENV}); or {where_by_hand}",
                                     url=None if mirror else official_url)
    if fetched is None:
        raise ModelError(f"{relpath} is not in the local model folder or the cache {root}, and downloads are off "
                         f"(model.download: false)", fix=f"set model.download: true, or {where_by_hand}")
    return fetched


def verify_local(variant: Variant, local_dir: Path) -> Path:
    """Check a user's model folder copy of ``variant`` (read-only); ModelError listing what is wrong."""
    model_json = local_dir / variant.relpath
    fix_tail = (f"or remove {model_json} (or unset model.dir / VCAMSEG_MODEL_DIR) so that vcamseg "
                f"downloads the model into its cache; vcamseg does not modify {local_dir}")
    problem = _problem(model_json, _expected_json(variant, record=None))
    if problem is not None:
        raise ModelError(f"model file {model_json} {problem}",
                         fix=f"replace it with the official file {variant.url}, {fix_tail}")
    try:
        model = read_model_json(model_json)
    except ModelError as exc:
        raise ModelError(exc.message, fix=f"replace it with the official file {variant.url}, {fix_tail}") from None
    problems = []
    for expected in _expected_shards(variant, model, record=None):
        shard = local_dir / expected.relpath
        if (problem := _problem(shard, expected)) is not None:
            problems.append((shard, problem, file_url(OFFICIAL_BASE_URL, expected.relpath)))
    if problems:
        what = "; ".join(f"{path} {problem}" for path, problem, _ in problems)
        urls = ", ".join(url for _, _, url in problems)
        raise ModelError(f"model {variant.key} in the local model folder is incomplete: {what}",
                         fix=f"replace the file(s) with the official {urls}, {fix_tail}")
    return model_json


def variant_status(variant: Variant, cfg: ModelConfig) -> VariantStatus:
    """Where ``variant`` is, by a quick check (present, sizes right; no sha256, which resolve_model does)."""
    local_dir = cfg.effective_dir
    if local_dir is not None and (total := _quick_total(variant, local_dir, record=None)) is not None:
        return VariantStatus("local", local_dir / variant.relpath, total)
    root = models_cache_dir(cfg)
    if (total := _quick_total(variant, root, record=_ChecksumRecord(root))) is not None:
        return VariantStatus("cache", root / variant.relpath, total)
    return VariantStatus("missing", None, None)


def models_cache_dir(cfg: ModelConfig) -> Path:
    """``<cache_dir>/models``: the root of the cached official layout."""
    base = cfg.cache_dir.expanduser() if cfg.cache_dir is not None else paths.cache_dir()
    return base / "models"


def effective_base_url(base_url: str | None = None) -> str:
    """The download base: the argument, else $VCAMSEG_MODEL_BASE_URL, else Google's storage; checked."""
    url = base_url or os.environ.get(BASE_URL_ENV) or OFFICIAL_BASE_URL
    if (problem := _url_problem(url)) is not None:
        raise DownloadError(f"model base URL {url!r} is not allowed: {problem}",
                            fix=f"use an https:// URL (or http:// on 127.0.0.1/localhost) in {BASE_URL_ENV} "
                                f"or --base-url, or unset it to use {OFFICIAL_BASE_URL}")
    return url if url.endswith("/") else url + "/"


# --------------------------------------------------------------------------------------------
# Expected sizes and checksums


def _expected_json(variant: Variant, record: _ChecksumRecord | None) -> _Expected:
    return _expected(variant.relpath, size=None, record=record)


def _expected(relpath: str, *, size: int | None, record: _ChecksumRecord | None) -> _Expected:
    if relpath in PINNED:
        pinned_size, sha = PINNED[relpath]
        return _Expected(relpath, pinned_size, sha, "pinned")
    if record is not None and (entry := record.get(relpath)) is not None:
        return _Expected(relpath, entry[0] if size is None else size, entry[1],
                         f"recorded at first download in {record.path}")
    return _Expected(relpath, size, None)


def _expected_shards(variant: Variant, model: TfjsGraphModel, record: _ChecksumRecord | None) -> list[_Expected]:
    """Every shard the manifest lists, with its size: all but the last of a group are SHARD_BYTES."""
    out: dict[str, _Expected] = {}
    for group in model.groups:
        total = sum(w.nbytes for w in group.weights)
        count = len(group.paths)
        last = total - SHARD_BYTES * (count - 1)
        if count == 0 or not 0 < last <= SHARD_BYTES:
            raise ModelError(
                f"{model.path}: its manifest lists {count} shard(s) for {total} weight bytes, which is not "
                f"how tfjs splits weights ({SHARD_BYTES}-byte shards): the file is damaged or not an official model",
                fix=f"replace it with the official {variant.url}")
        for index, name in enumerate(group.paths):
            if not _PLAIN_FILE_NAME.fullmatch(name):
                raise ModelError(f"{model.path}: weight file {name!r} is not a plain file name next to the model.json",
                                 fix=f"replace it with the official {variant.url}")
            relpath = f"{variant.folder}/{name}"
            size = SHARD_BYTES if index < count - 1 else last
            out.setdefault(relpath, _expected(relpath, size=size, record=record))
    return list(out.values())


def _problem(path: Path, expected: _Expected) -> str | None:
    """What is wrong with ``path`` (phrased to follow its name), or None when it is as expected."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return "is missing"
    except OSError as exc:
        return f"cannot be read ({exc.strerror})"
    if not path.is_file():
        return "is not a regular file"
    if expected.size is not None and st.st_size != expected.size:
        return f"has {st.st_size} bytes but should have {expected.size} (truncated or from another model)"
    if expected.sha256 is not None:
        try:
            actual = _sha256_of(path)
        except OSError as exc:
            return f"cannot be read ({exc.strerror})"
        if actual != expected.sha256:
            return (f"is corrupted: its sha256 is {actual} but should be {expected.sha256} "
                    f"({expected.sha_source})")
    return None


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _quick_total(variant: Variant, root: Path, record: _ChecksumRecord | None) -> int | None:
    """Total bytes of ``variant`` under ``root`` when every file is there with the right size."""
    model_json = root / variant.relpath
    try:
        expected_json = _expected_json(variant, record)
        if not model_json.is_file() or (expected_json.size not in (None, model_json.stat().st_size)):
            return None
        total = model_json.stat().st_size
        for expected in _expected_shards(variant, read_model_json(model_json), record):
            shard = root / expected.relpath
            if not shard.is_file() or shard.stat().st_size != expected.size:
                return None
            total += expected.size
    except (ModelError, OSError):
        return None
    return total


def _unique(items: list[Path]) -> list[Path]:
    return list(dict.fromkeys(items))


# --------------------------------------------------------------------------------------------
# The cache


class _ChecksumRecord:
    """``<cache>/models/checksums.json``: {relpath: {size, sha256}} of downloaded files that have no
    pinned checksum (trust on first use: later downloads and cache hits must match)."""

    def __init__(self, root: Path) -> None:
        self.path = root / CHECKSUMS_FILE
        self.entries: dict[str, dict[str, object]] = {}
        try:
            doc = json.loads(self.path.read_text(encoding="utf-8"))
            if isinstance(doc, dict) and isinstance(doc.get("files"), dict):
                self.entries = doc["files"]
            else:
                raise ValueError("no 'files' mapping")
        except FileNotFoundError:
            pass
        except (OSError, ValueError) as exc:
            log.warning("ignoring unreadable checksum record %s (%s): cached files without a pinned "
                        "checksum will be re-trusted as they are", self.path, exc)

    def get(self, relpath: str) -> tuple[int, str] | None:
        entry = self.entries.get(relpath)
        if isinstance(entry, dict) and isinstance(entry.get("size"), int) and isinstance(entry.get("sha256"), str):
            return entry["size"], entry["sha256"]  # type: ignore[return-value]
        return None

    def put(self, relpath: str, size: int, sha256: str) -> None:
        self.entries[relpath] = {"size": size, "sha256": sha256}
        self._save()

    def _save(self) -> None:
        text = json.dumps({"version": 1, "files": self.entries}, indent=1, sort_keys=True) + "\n"
        try:
            replace_file(self.path, text.encode("utf-8"))
        except OSError as exc:
            raise _write_error(exc, self.path.parent) from None


@contextlib.contextmanager
def _cache_lock(root: Path) -> Iterator[None]:
    """One process at a time checks, repairs and fills the cache (the daemon and `models fetch`)."""
    try:
        root.mkdir(parents=True, exist_ok=True)
        fh = (root / ".lock").open("a")
    except OSError as exc:
        # A read-only cache can still serve verified files; writing to it fails later, clearly.
        log.debug("cannot lock %s (%s); going on without the lock", root, exc)
        fh = None
    if fh is None:
        yield
        return
    with fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        yield


def _ensure_cached(variant: Variant, root: Path, *, download: bool, cfg: ModelConfig,
                   progress: bool | None, base_url: str | None) -> list[FetchedFile] | None:
    """The cached files of ``variant`` (model.json first), verified; damaged ones deleted and, when
    ``download``, fetched again. None when something is missing and downloads are off."""
    base = effective_base_url(base_url) if download else OFFICIAL_BASE_URL
    show = sys.stderr.isatty() if progress is None else progress
    with _cache_lock(root):
        record = _ChecksumRecord(root)
        json_file = _cached_or_fetched(_expected_json(variant, record), root, record, download=download, base=base,
                                       show=show, manual_fix=lambda: _manual_install_fix(variant, cfg, None),
                                       check_content=_model_json_problem)
        if json_file is None:
            return None
        fetched = [json_file]
        model = read_model_json(json_file.path)  # parsed already by the check, so this cannot fail
        for expected in _expected_shards(variant, model, record):
            shard = _cached_or_fetched(expected, root, record, download=download, base=base, show=show,
                                       manual_fix=lambda: _manual_install_fix(variant, cfg, model))
            if shard is None:
                return None
            fetched.append(shard)
    return fetched


def _cached_or_fetched(expected: _Expected, root: Path, record: _ChecksumRecord, *, download: bool, base: str,
                       show: bool, manual_fix: Callable[[], str],
                       check_content: Callable[[Path], str | None] | None = None,
                       url: str | None = None) -> FetchedFile | None:
    """One cached file, verified (``check_content``: what else is wrong with it, e.g. a model.json
    that does not parse); downloaded from ``url`` (default ``base`` + its relpath) when missing or
    damaged."""
    path = root / expected.relpath
    if path.exists():
        problem = _problem(path, expected)
        if problem is None and check_content is not None:
            problem = check_content(path)
        if problem is None:
            if expected.sha256 is None:
                # Not pinned and not recorded (e.g. the process stopped between download and record):
                # it passed every other check, so trust it now as a download would have been.
                _trust_on_first_use(record, expected.relpath, path)
            return FetchedFile(path, path.stat().st_size, downloaded=False)
        log.warning("deleting damaged cached file %s: it %s", path, problem)
        try:
            path.unlink()
        except OSError as exc:
            raise _write_error(exc, path.parent) from None
    if not download:
        return None
    url = url or file_url(base, expected.relpath)
    size, sha = _download(url, path, expected, show=show, manual_fix=manual_fix(), check_content=check_content)
    if expected.sha256 is None:
        _trust_on_first_use(record, expected.relpath, path, size=size, sha=sha, url=url)
    log.info("downloaded %s (%d bytes)", path, size)
    return FetchedFile(path, size, downloaded=True)


def _model_json_problem(path: Path) -> str | None:
    try:
        read_model_json(path)
    except ModelError as exc:
        return f"is not a usable model.json ({exc.message})"
    return None


def _trust_on_first_use(record: _ChecksumRecord, relpath: str, path: Path, *, size: int | None = None,
                        sha: str | None = None, url: str | None = None) -> None:
    if size is None or sha is None:
        size, sha = path.stat().st_size, _sha256_of(path)
    source = f"downloaded from {url}" if url else f"found in the cache at {path}"
    log.warning("%s has no pinned checksum; recording sha256 %s (%s) in %s and trusting it from now on",
                relpath, sha, source, record.path)
    record.put(relpath, size, sha)


# --------------------------------------------------------------------------------------------
# Downloading


def _url_problem(url: str) -> str | None:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return None
    if parts.scheme == "http" and parts.hostname:
        if _is_loopback(parts.hostname):
            return None
        return "plain http is only allowed to this machine (127.0.0.1, ::1, localhost)"
    return "only https:// URLs (and http:// to this machine) can be used"


def _is_loopback(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _CheckedRedirects(urllib.request.HTTPRedirectHandler):
    """Follow redirects only to URLs we would accept as a base (no https -> http downgrade)."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        if (problem := _url_problem(newurl)) is not None:
            raise DownloadError(f"{req.full_url} redirects to {newurl}, which is not allowed: {problem}",
                                fix=f"use a mirror that serves the files over https, via {BASE_URL_ENV}")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _opener_for(url: str) -> urllib.request.OpenerDirector:
    handlers: list[urllib.request.BaseHandler] = [_CheckedRedirects()]
    if _is_loopback(urllib.parse.urlsplit(url).hostname or ""):
        handlers.append(urllib.request.ProxyHandler({}))  # a local mirror is never behind the proxy
    return urllib.request.build_opener(*handlers)


class _Retryable(Exception):
    """A transfer failure worth another attempt (network, timeout, 5xx)."""


def _download(url: str, dest: Path, expected: _Expected, *, show: bool, manual_fix: str,
              check_content: Callable[[Path], str | None] | None = None) -> tuple[int, str]:
    """Fetch ``url`` into ``dest`` atomically (via ``dest.part``) and verify it; (size, sha256).
    ``check_content`` returns what is wrong with the downloaded file, if anything."""
    part = dest.with_name(dest.name + ".part")
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _write_error(exc, dest.parent) from None
    try:
        reason = ""
        for attempt, delay in enumerate((0.0, *RETRY_DELAYS_S)):
            if attempt:
                log.warning("retrying %s in %.0f s (%s)", url, delay, reason)
                time.sleep(delay)
            try:
                size, sha = _transfer(url, part, expected, show=show, manual_fix=manual_fix)
                break
            except _Retryable as exc:
                reason = str(exc)
        else:
            raise DownloadError(f"cannot download {url}: {reason} (tried {1 + len(RETRY_DELAYS_S)} times)",
                                fix=manual_fix)
        if expected.size is not None and size != expected.size:
            raise DownloadError(f"{url} gave {size} bytes but {expected.relpath} has {expected.size}: "
                                f"the server sent a truncated or different file",
                                fix=f"try again later; {manual_fix}")
        if expected.sha256 is not None and sha != expected.sha256:
            raise DownloadError(f"{url} failed verification: its sha256 is {sha} but {expected.relpath} should be "
                                f"{expected.sha256} ({expected.sha_source})",
                                fix=f"the file was altered on the way or on the server; try again later; {manual_fix}")
        if check_content is not None and (problem := check_content(part)) is not None:
            raise DownloadError(f"{url} {problem}",
                                fix=f"a mirror must serve the official files unchanged ({BASE_URL_ENV}); {manual_fix}")
        try:
            os.replace(part, dest)
        except OSError as exc:
            raise _write_error(exc, dest.parent) from None
        _fsync_dir(dest.parent)
        return size, sha
    finally:
        part.unlink(missing_ok=True)


def _transfer(url: str, part: Path, expected: _Expected, *, show: bool, manual_fix: str) -> tuple[int, str]:
    request = urllib.request.Request(url, headers={"User-Agent": f"vcamseg/{__version__}"})
    try:
        with _opener_for(url).open(request, timeout=TIMEOUT_S) as response:
            announced = response.headers.get("Content-Length")
            announced_size = int(announced) if announced and announced.isdigit() else None
            if expected.size is not None and announced_size not in (None, expected.size):
                # Fail before transferring a file we already know is wrong.
                raise DownloadError(f"{url} announces {announced_size} bytes but {expected.relpath} has "
                                    f"{expected.size}: the server has a truncated or different file",
                                    fix=f"try again later; {manual_fix}")
            size, sha = _stream(response, part, total=announced_size or expected.size, show=show)
    except urllib.error.HTTPError as exc:
        if exc.code >= 500 or exc.code in (408, 429):
            raise _Retryable(f"HTTP {exc.code} {exc.reason}") from None
        raise DownloadError(f"cannot download {url}: HTTP {exc.code} {exc.reason}", fix=manual_fix) from None
    except urllib.error.URLError as exc:
        raise _Retryable(str(exc.reason)) from None
    except (http.client.HTTPException, ConnectionError, TimeoutError) as exc:
        raise _Retryable(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__) from None
    if announced_size is not None and size != announced_size:
        # http.client returns a short body without complaint when the connection drops early.
        raise _Retryable(f"the connection closed after {size} of {announced_size} bytes")
    return size, sha


def _stream(response: IO[bytes], part: Path, *, total: int | None, show: bool) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    try:
        fh = part.open("wb")
    except OSError as exc:
        raise _write_error(exc, part.parent) from None
    with fh, tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=part.name.removesuffix(".part"),
                  disable=not show, file=sys.stderr, leave=False) as bar:
        while chunk := response.read(_CHUNK):
            try:
                fh.write(chunk)
            except OSError as exc:
                raise _write_error(exc, part.parent) from None
            digest.update(chunk)
            size += len(chunk)
            bar.update(len(chunk))
        try:
            fh.flush()
            os.fsync(fh.fileno())
        except OSError as exc:
            raise _write_error(exc, part.parent) from None
    return size, digest.hexdigest()


def _fsync_dir(folder: Path) -> None:
    # Make the rename itself durable; some file systems cannot fsync a directory, which is fine.
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _write_error(exc: OSError, folder: Path) -> DownloadError:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return DownloadError(f"cannot write model files: {folder} is full ({exc.strerror})",
                             fix="free some space there, or set model.cache_dir to a folder with room")
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return DownloadError(f"cannot write model files: {folder} is not writable ({exc.strerror})",
                             fix="fix its permissions, or set model.cache_dir to a folder you can write")
    return DownloadError(f"cannot write model files in {folder}: {exc.strerror or exc}",
                         fix="check the folder, or set model.cache_dir to another one")


# --------------------------------------------------------------------------------------------
# Telling the user what to do by hand


def _manual_install_fix(variant: Variant, cfg: ModelConfig, model: TfjsGraphModel | None) -> str:
    if model is not None:
        shards = [f"{variant.folder}/{name}" for group in model.groups for name in group.paths]
    else:
        shards = list(variant.expected_shard_relpaths)
    relpaths = [variant.relpath, *dict.fromkeys(shards)]
    local_dir = cfg.effective_dir
    folder = str(local_dir) if local_dir is not None else "<model folder>"
    listing = "".join(f"\n      {folder}/{rel}" for rel in relpaths)
    return (f"check the network (or {BASE_URL_ENV}) and run `vcamseg models fetch {variant.key}`; "
            f"or download each file by hand from {OFFICIAL_BASE_URL}<relative path> and put it at{listing}\n"
            f"    and set model.dir (or VCAMSEG_MODEL_DIR) to {folder}; "
            f"or put them under the cache, {models_cache_dir(cfg)}/, with the same relative paths")


def _not_found_error(variant: Variant, cfg: ModelConfig, *, incomplete_cache: bool = False) -> ModelError:
    local_dir = cfg.effective_dir
    cache_note = " (incomplete; damaged files were deleted)" if incomplete_cache else ""
    places = [f"the local model folder {local_dir}" if local_dir is not None else "no local model folder is set",
              f"the cache {models_cache_dir(cfg)}{cache_note}"]
    return ModelError(
        f"model {variant.key} ({variant.relpath}) is not in {'; '.join(places)}, and downloads are off "
        f"(model.download: false)",
        fix=f"set model.download: true, or {_manual_install_fix(variant, cfg, None)}",
    )
