"""The model files the config needs, found where the daemon would look (local model folder, then the
cache) and verified read-only: every file present, sizes as the manifest (or the pin) says, sha256
against the pinned value or the one recorded at first download. Unlike loading, nothing is
deleted, re-downloaded or recorded. And whether the cache folder can be written (a probe file)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from pathlib import Path

from vcamseg import paths
from vcamseg.config.model import ModelConfig
from vcamseg.doctor.report import Finding, ok, problem, warning
from vcamseg.errors import ModelError
from vcamseg.models.cache import models_cache_dir
from vcamseg.models.catalogue import PINNED, Variant, variant_for
from vcamseg.models.expected import CHECKSUMS_FILE, git_blob_of
from vcamseg.models.files import SELFIE_RELPATHS, selfie_kinds_for
from vcamseg.models.official_blobs import PINNED_GIT_BLOBS
from vcamseg.models.tfjs import read_model_json

AREA = "models"
_CHUNK = 1 << 20
# Below this much free space a download into the cache is likely to fail (ResNet50 float is ~95 MB).
LOW_SPACE_BYTES = 200 * 1024 * 1024


def check_models(cfg: ModelConfig) -> list[Finding]:
    cache_ok, cache_finding = cache_writable(cfg)
    variant = variant_for(cfg)
    files = [bodypix_finding(variant, cfg, cache_ok)]
    for kind in selfie_kinds_for(cfg.selfie):
        files.append(single_file_finding(f"selfie-{kind}", SELFIE_RELPATHS[kind], cfg, cache_ok))
    missing = any(f.details.get("where") == "missing" for f in files)
    if not cache_ok and not missing:
        # Everything is there: only the TFLite conversions and the int8 calibration cannot be kept.
        cache_finding = warning(
            AREA,
            "cache",
            cache_finding.message + "; the model files are there, but TFLite "
            "conversions and the int8 calibration are redone at every start (slower start)",
            fix=cache_finding.fix,
            **cache_finding.details,
        )
    return [*files, cache_finding]


def _roots(cfg: ModelConfig) -> list[tuple[str, Path]]:
    local = cfg.effective_dir
    return [*([("local model folder", local)] if local is not None else []), ("cache", models_cache_dir(cfg))]


def _record(root: Path) -> dict[str, dict]:
    """The cache's trust-on-first-use checksums (read only; an unreadable record counts as empty)."""
    try:
        doc = json.loads((root / CHECKSUMS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    files = doc.get("files") if isinstance(doc, dict) else None
    return files if isinstance(files, dict) else {}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def file_problem(path: Path, relpath: str, record: dict[str, dict], size: int | None = None) -> tuple[str | None, str]:
    """What is wrong with one file (None: nothing), and how its content was verified."""
    entry = record.get(relpath) if isinstance(record.get(relpath), dict) else None
    blob = None
    if relpath in PINNED:
        size, sha, how = PINNED[relpath][0], PINNED[relpath][1], "pinned sha256"
    elif relpath in PINNED_GIT_BLOBS:
        (size, blob), sha, how = PINNED_GIT_BLOBS[relpath], None, "pinned git blob id"
    elif entry is not None and isinstance(entry.get("sha256"), str):
        size, sha, how = entry.get("size", size), entry["sha256"], "sha256 recorded at first download"
    else:
        sha, how = None, "size only (no checksum known yet)"
    try:
        actual = path.stat().st_size
    except FileNotFoundError:
        return "is missing", how
    except OSError as exc:
        return f"cannot be read ({exc.strerror})", how
    if size is not None and actual != size:
        return f"has {actual} bytes but should have {size} (truncated or from another model)", how
    if sha is not None:
        try:
            if _sha256(path) != sha:
                return f"is corrupted (its sha256 is not the {how})", how
        except OSError as exc:
            return f"cannot be read ({exc.strerror})", how
    if blob is not None:
        try:
            if git_blob_of(path) != blob:
                return f"is corrupted or not the official file (its git blob id is not the {how})", how
        except OSError as exc:
            return f"cannot be read ({exc.strerror})", how
    return None, how


def verify_variant(variant: Variant, root: Path, record: dict[str, dict]) -> tuple[list[str], int, set[str]]:
    """Problems ("<path> is missing", ...), total bytes, and how the files were verified."""
    model_json = root / variant.relpath
    found, how = file_problem(model_json, variant.relpath, record)
    if found is not None:
        return [f"{model_json} {found}"], 0, {how}
    try:
        model = read_model_json(model_json)
    except ModelError as exc:
        return [exc.message], 0, {how}
    problems, total, hows = [], model_json.stat().st_size, {how}
    for group in model.groups:
        group_bytes = sum(w.nbytes for w in group.weights)
        shard_bytes = 0
        for name in group.paths:
            relpath = f"{variant.folder}/{name}"
            found, how = file_problem(root / relpath, relpath, record)
            hows.add(how)
            if found is not None:
                problems.append(f"{root / relpath} {found}")
                continue
            shard_bytes += (root / relpath).stat().st_size
        if not problems and shard_bytes != group_bytes:  # what "size only" can still check
            problems.append(f"the shards of {model_json} hold {shard_bytes} bytes but its manifest needs {group_bytes}")
        total += shard_bytes
    return problems, total, hows


def bodypix_finding(variant: Variant, cfg: ModelConfig, cache_ok: bool) -> Finding:
    for where, root in _roots(cfg):
        if not (root / variant.relpath).exists():
            continue
        record = _record(root) if where == "cache" else {}
        problems, total, hows = verify_variant(variant, root, record)
        details = {"where": where, "path": str(root / variant.relpath), "bytes": total, "verified_by": sorted(hows)}
        if problems:
            fix = (
                f"vcamseg models fetch {variant.key} (it replaces damaged cached files)"
                if where == "cache"
                else f"replace the files with the official ones (`vcamseg models fetch {variant.key}` verifies), or "
                f"unset model.dir / VCAMSEG_MODEL_DIR to use the cache"
            )
            return problem(
                AREA,
                "bodypix",
                f"BodyPix {variant.key} in the {where} is damaged: {'; '.join(problems)}",
                fix=fix,
                **details,
            )
        return ok(
            AREA,
            "bodypix",
            f"BodyPix {variant.key} in the {where} ({root}), {total / 1e6:.1f} MB, verified "
            f"({', '.join(sorted(hows))})",
            **details,
        )
    return _missing("bodypix", f"BodyPix {variant.key}", variant.key, cfg, cache_ok)


def single_file_finding(key: str, relpath: str, cfg: ModelConfig, cache_ok: bool) -> Finding:
    for where, root in _roots(cfg):
        path = root / relpath
        if not path.exists():
            continue
        found, how = file_problem(path, relpath, {})
        details = {"where": where, "path": str(path), "verified_by": [how]}
        if found is not None:
            return problem(AREA, key, f"{path} {found}", fix=f"vcamseg models fetch {key}", **details)
        return ok(AREA, key, f"{key} in the {where} ({path}), verified ({how})", **details)
    return _missing(key, key, key, cfg, cache_ok)


def _missing(check: str, what: str, key: str, cfg: ModelConfig, cache_ok: bool) -> Finding:
    places = " or ".join(str(root) for _, root in _roots(cfg))
    details = {"where": "missing"}
    if not cfg.download:
        return problem(
            AREA,
            check,
            f"{what} is not in {places}, and downloads are off (model.download: false)",
            fix=f"vcamseg models fetch {key}, or set model.download: true",
            **details,
        )
    if not cache_ok:
        return problem(
            AREA,
            check,
            f"{what} is not in {places}, and the cache cannot be written to download it",
            fix=f"make {models_cache_dir(cfg)} writable (or set model.cache_dir), then vcamseg models fetch {key}",
            **details,
        )
    return warning(
        AREA,
        check,
        f"{what} is not downloaded yet: the daemon's first start downloads it (the camera "
        "shows a 'starting' picture meanwhile)",
        fix=f"vcamseg models fetch {key}",
        **details,
    )


def cache_writable(cfg: ModelConfig) -> tuple[bool, Finding]:
    """Create and remove a probe file in the cache folder (or, when the folder does not exist yet,
    check that its nearest existing parent lets us create it)."""
    cache = cfg.cache_dir.expanduser() if cfg.cache_dir is not None else paths.cache_dir()
    fix = f"make it yours and writable (sudo chown -R $USER {cache}), or set model.cache_dir to a writable folder"
    if cache.is_dir():
        try:
            with tempfile.NamedTemporaryFile(dir=cache, prefix=".vcamseg-doctor-", suffix=".probe") as probe:
                probe.write(b"x")
                probe.flush()
        except OSError as exc:
            return False, problem(
                AREA, "cache", f"the cache {cache} is not writable ({exc.strerror})", fix=fix, path=str(cache)
            )
        existing = cache
    else:
        existing = next((p for p in cache.parents if p.is_dir()), Path("/"))
        if not os.access(existing, os.W_OK | os.X_OK):
            return False, problem(
                AREA,
                "cache",
                f"the cache {cache} does not exist and cannot be created ({existing} is not writable)",
                fix=fix,
                path=str(cache),
            )
    free = None
    with contextlib.suppress(OSError):
        st = os.statvfs(existing)
        free = st.f_bavail * st.f_frsize
    if free is not None and free < LOW_SPACE_BYTES:
        return True, warning(
            AREA,
            "cache",
            f"the cache {cache} has only {free / 1e6:.0f} MB free",
            fix="free some space there, or set model.cache_dir",
            path=str(cache),
            free_bytes=free,
        )
    state = "is writable" if existing == cache else f"does not exist yet and can be created (in {existing})"
    return True, ok(AREA, "cache", f"the cache {cache} {state}", path=str(cache), free_bytes=free)
