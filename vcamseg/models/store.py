"""Find a BodyPix model on disk or download it, and never hand out a file that is not verified.

Lookup order for the configured variant:

1. the local model folder (``model.dir`` or ``$VCAMSEG_MODEL_DIR``), laid out like the official
   storage. It belongs to the user: a damaged file there is an error, never repaired.
2. the cache, ``<cache_dir>/models/<relpath>``. It belongs to us: a damaged file is deleted and
   downloaded again (one process at a time: :func:`vcamseg.models.cache.cache_lock`).
3. a download into the cache (``model.download: true``), by :mod:`vcamseg.models.transport`.

What each file must be (size, pinned or recorded sha256) is :mod:`vcamseg.models.expected`'s job;
what to tell the user when a model cannot be had is :mod:`vcamseg.models.remedies`'.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, NamedTuple

from vcamseg.config.model import ModelConfig
from vcamseg.errors import DownloadError, ModelError
from vcamseg.models.cache import cache_lock, models_cache_dir
from vcamseg.models.catalogue import BASE_URL_ENV, OFFICIAL_BASE_URL, Variant, file_url, variant_for
from vcamseg.models.expected import (
    ChecksumRecord,
    Expected,
    expected_file,
    expected_json,
    expected_shards,
    file_problem,
    model_json_problem,
    quick_total,
    sha256_of,
)
from vcamseg.models.remedies import manual_install_fix, not_found_error, write_error
from vcamseg.models.tfjs import read_model_json
from vcamseg.models.transport import Downloaded, DownloadRequest, download, url_problem

__all__ = [
    "BASE_URL_ENV",
    "RETRY_DELAYS_S",
    "FetchedFile",
    "VariantStatus",
    "effective_base_url",
    "fetch_variant",
    "models_cache_dir",
    "resolve_file",
    "resolve_model",
    "variant_status",
    "verify_local",
]

log = logging.getLogger(__name__)

# Pause before each retry of a failed transfer (so 1 + len attempts in all).
RETRY_DELAYS_S: tuple[float, ...] = (1.0, 3.0)

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


# --------------------------------------------------------------------------------------------
# Public API


def resolve_model(cfg: ModelConfig, *, progress: bool | None = None, base_url: str | None = None) -> Path:
    """The verified model.json of the configured variant: local folder, else cache, else download."""
    variant = variant_for(cfg)
    local_dir = cfg.effective_dir
    if local_dir is not None and (local_dir / variant.relpath).exists():
        return verify_local(variant, local_dir)
    if not cfg.download and not (models_cache_dir(cfg) / variant.relpath).exists():
        raise not_found_error(variant, cfg)
    fetched = _ensure_cached(variant, cfg, download=cfg.download, progress=progress, base_url=base_url)
    if fetched is None:
        raise not_found_error(variant, cfg, incomplete_cache=True)
    return fetched[0].path


def fetch_variant(
    variant: Variant, cfg: ModelConfig, *, progress: bool | None = None, base_url: str | None = None
) -> list[FetchedFile]:
    """Make sure ``variant`` is in the cache (downloading what is missing, whatever ``cfg.download``
    says): the model.json first, then its shards."""
    fetched = _ensure_cached(variant, cfg, download=True, progress=progress, base_url=base_url)
    if fetched is None:  # download=True fills the cache or raises; kept for the type checker
        raise not_found_error(variant, cfg, incomplete_cache=True)
    return fetched


def resolve_file(
    relpath: str,
    official_url: str,
    cfg: ModelConfig,
    *,
    download: bool | None = None,
    progress: bool | None = None,
    base_url: str | None = None,
) -> FetchedFile:
    """One single-file model with a pinned size and sha256 (the MediaPipe selfie models): the local
    model folder, else the cache, else a download from ``official_url``, or from
    ``<mirror>/<relpath>`` when a mirror is set (``base_url`` / $VCAMSEG_MODEL_BASE_URL)."""
    expected = expected_file(relpath)
    where_by_hand = (
        f"download {official_url} and put it at <model folder>/{relpath} with model.dir (or "
        f"VCAMSEG_MODEL_DIR) set to that folder, or at {models_cache_dir(cfg)}/{relpath}"
    )
    local_dir = cfg.effective_dir
    if local_dir is not None and (local_dir / relpath).exists():
        path = local_dir / relpath
        if (problem := file_problem(path, expected)) is not None:
            raise ModelError(
                f"model file {path} {problem}",
                fix=f"replace it with the official file {official_url}, or remove it (or unset "
                f"model.dir / VCAMSEG_MODEL_DIR) so that vcamseg downloads it into its cache",
            )
        return FetchedFile(path, path.stat().st_size, downloaded=False)
    allowed = cfg.download if download is None else download
    mirror = base_url or os.environ.get(BASE_URL_ENV)
    base = effective_base_url(mirror) if mirror else OFFICIAL_BASE_URL
    root = models_cache_dir(cfg)
    with cache_lock(root):
        cache = _CachePass(
            root, ChecksumRecord(root), download=allowed, base_url=base, show_progress=_show_progress(progress)
        )
        fetched = cache.file(
            expected,
            manual_fix=lambda: f"check the network (or {BASE_URL_ENV}); or {where_by_hand}",
            url=None if mirror else official_url,
        )
    if fetched is None:
        raise ModelError(
            f"{relpath} is not in the local model folder or the cache {root}, and downloads are off "
            f"(model.download: false)",
            fix=f"set model.download: true, or {where_by_hand}",
        )
    return fetched


def verify_local(variant: Variant, local_dir: Path) -> Path:
    """Check a user's model folder copy of ``variant`` (read-only); ModelError listing what is wrong."""
    model_json = local_dir / variant.relpath
    fix_tail = (
        f"or remove {model_json} (or unset model.dir / VCAMSEG_MODEL_DIR) so that vcamseg "
        f"downloads the model into its cache; vcamseg does not modify {local_dir}"
    )
    problem = file_problem(model_json, expected_json(variant, record=None))
    if problem is not None:
        raise ModelError(
            f"model file {model_json} {problem}", fix=f"replace it with the official file {variant.url}, {fix_tail}"
        )
    try:
        model = read_model_json(model_json)
    except ModelError as exc:
        raise ModelError(exc.message, fix=f"replace it with the official file {variant.url}, {fix_tail}") from None
    problems = []
    for expected in expected_shards(variant, model, record=None):
        shard = local_dir / expected.relpath
        if (problem := file_problem(shard, expected)) is not None:
            problems.append((shard, problem, file_url(OFFICIAL_BASE_URL, expected.relpath)))
    if problems:
        what = "; ".join(f"{path} {problem}" for path, problem, _ in problems)
        urls = ", ".join(url for _, _, url in problems)
        raise ModelError(
            f"model {variant.key} in the local model folder is incomplete: {what}",
            fix=f"replace the file(s) with the official {urls}, {fix_tail}",
        )
    return model_json


def variant_status(variant: Variant, cfg: ModelConfig) -> VariantStatus:
    """Where ``variant`` is, by a quick check (present, sizes right; no sha256, which resolve_model does)."""
    local_dir = cfg.effective_dir
    if local_dir is not None and (total := quick_total(variant, local_dir, record=None)) is not None:
        return VariantStatus("local", local_dir / variant.relpath, total)
    root = models_cache_dir(cfg)
    if (total := quick_total(variant, root, record=ChecksumRecord(root))) is not None:
        return VariantStatus("cache", root / variant.relpath, total)
    return VariantStatus("missing", None, None)


def effective_base_url(base_url: str | None = None) -> str:
    """The download base: the argument, else $VCAMSEG_MODEL_BASE_URL, else Google's storage; checked."""
    url = base_url or os.environ.get(BASE_URL_ENV) or OFFICIAL_BASE_URL
    if (problem := url_problem(url)) is not None:
        raise DownloadError(
            f"model base URL {url!r} is not allowed: {problem}",
            fix=f"use an https:// URL (or http:// on 127.0.0.1/localhost) in {BASE_URL_ENV} "
            f"or --base-url, or unset it to use {OFFICIAL_BASE_URL}",
        )
    return url if url.endswith("/") else url + "/"


# --------------------------------------------------------------------------------------------
# The cache: verified, repaired, filled


def _show_progress(progress: bool | None) -> bool:
    return sys.stderr.isatty() if progress is None else progress


def _ensure_cached(
    variant: Variant, cfg: ModelConfig, *, download: bool, progress: bool | None, base_url: str | None
) -> list[FetchedFile] | None:
    """The cached files of ``variant`` (model.json first), verified; damaged ones deleted and, when
    ``download``, fetched again. None when something is missing and downloads are off."""
    base = effective_base_url(base_url) if download else OFFICIAL_BASE_URL
    root = models_cache_dir(cfg)
    with cache_lock(root):
        record = ChecksumRecord(root)
        cache = _CachePass(root, record, download=download, base_url=base, show_progress=_show_progress(progress))
        json_file = cache.file(
            expected_json(variant, record),
            check_content=model_json_problem,
            manual_fix=lambda: manual_install_fix(variant, cfg, None),
        )
        if json_file is None:
            return None
        fetched = [json_file]
        model = read_model_json(json_file.path)  # parsed already by the check, so this cannot fail
        for expected in expected_shards(variant, model, record):
            shard = cache.file(expected, manual_fix=lambda: manual_install_fix(variant, cfg, model))
            if shard is None:
                return None
            fetched.append(shard)
    return fetched


@dataclass(frozen=True)
class _CachePass:
    """One pass over the cache, under its lock: where it is, its checksum record, and whether
    (and from which base URL) missing or damaged files are downloaded."""

    root: Path
    record: ChecksumRecord
    download: bool
    base_url: str
    show_progress: bool

    def file(
        self,
        expected: Expected,
        *,
        manual_fix: Callable[[], str],
        check_content: Callable[[Path], str | None] | None = None,
        url: str | None = None,
    ) -> FetchedFile | None:
        """One cached file, verified (``check_content``: what else is wrong with it, e.g. a model.json
        that does not parse); downloaded from ``url`` (default: the base URL + its relpath) when
        missing or damaged. None when it is missing and downloads are off."""
        path = self.root / expected.relpath
        if path.exists():
            problem = file_problem(path, expected)
            if problem is None and check_content is not None:
                problem = check_content(path)
            if problem is None:
                if not expected.content_known:
                    # Not pinned and not recorded (e.g. the process stopped between download and record):
                    # it passed every other check, so trust it now as a download would have been.
                    self._trust_on_first_use(expected.relpath, path)
                return FetchedFile(path, path.stat().st_size, downloaded=False)
            log.warning("deleting damaged cached file %s: it %s", path, problem)
            try:
                path.unlink()
            except OSError as exc:
                raise write_error(exc, path.parent) from None
        if not self.download:
            return None
        url = url or file_url(self.base_url, expected.relpath)
        got = download(
            DownloadRequest(
                url,
                path,
                expected,
                manual_fix=manual_fix(),
                retry_delays_s=RETRY_DELAYS_S,
                show_progress=self.show_progress,
                check_content=check_content,
            )
        )
        if not expected.content_known:
            self._trust_on_first_use(expected.relpath, path, got, url=url)
        log.info("downloaded %s (%d bytes)", path, got.size)
        return FetchedFile(path, got.size, downloaded=True)

    def _trust_on_first_use(
        self, relpath: str, path: Path, got: Downloaded | None = None, *, url: str | None = None
    ) -> None:
        size, sha = (got.size, got.sha256) if got is not None else (path.stat().st_size, sha256_of(path))
        source = f"downloaded from {url}" if url else f"found in the cache at {path}"
        log.warning(
            "%s has no pinned checksum; recording sha256 %s (%s) in %s and trusting it from now on",
            relpath,
            sha,
            source,
            self.record.path,
        )
        self.record.put(relpath, size, sha)
