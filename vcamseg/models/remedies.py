"""Telling the user what to do when a model cannot be had: where to put which file by hand, and
what to do about a cache folder that cannot be written."""

from __future__ import annotations

import errno
from pathlib import Path

from vcamseg.config.model import ModelConfig
from vcamseg.errors import DownloadError, ModelError
from vcamseg.models.cache import models_cache_dir
from vcamseg.models.catalogue import BASE_URL_ENV, OFFICIAL_BASE_URL, Variant
from vcamseg.models.tfjs import TfjsGraphModel


def manual_install_fix(variant: Variant, cfg: ModelConfig, model: TfjsGraphModel | None) -> str:
    """How to get ``variant`` without vcamseg downloading it: every file and where it goes (the
    shards from ``model``'s manifest when it could be read, else the catalogue's list)."""
    if model is not None:
        shards = [f"{variant.folder}/{name}" for group in model.groups for name in group.paths]
    else:
        shards = list(variant.expected_shard_relpaths)
    relpaths = [variant.relpath, *dict.fromkeys(shards)]
    local_dir = cfg.effective_dir
    folder = str(local_dir) if local_dir is not None else "<model folder>"
    listing = "".join(f"\n      {folder}/{rel}" for rel in relpaths)
    return (
        f"check the network (or {BASE_URL_ENV}) and run `vcamseg models fetch {variant.key}`; "
        f"or download each file by hand from {OFFICIAL_BASE_URL}<relative path> and put it at{listing}\n"
        f"    and set model.dir (or VCAMSEG_MODEL_DIR) to {folder}; "
        f"or put them under the cache, {models_cache_dir(cfg)}/, with the same relative paths"
    )


def not_found_error(variant: Variant, cfg: ModelConfig, *, incomplete_cache: bool = False) -> ModelError:
    """``variant`` is neither in the local model folder nor (complete) in the cache, and downloads are off."""
    local_dir = cfg.effective_dir
    cache_note = " (incomplete; damaged files were deleted)" if incomplete_cache else ""
    places = [
        f"the local model folder {local_dir}" if local_dir is not None else "no local model folder is set",
        f"the cache {models_cache_dir(cfg)}{cache_note}",
    ]
    return ModelError(
        f"model {variant.key} ({variant.relpath}) is not in {'; '.join(places)}, and downloads are off "
        f"(model.download: false)",
        fix=f"set model.download: true, or {manual_install_fix(variant, cfg, None)}",
    )


def write_error(exc: OSError, folder: Path) -> DownloadError:
    """A file in the cache ``folder`` could not be written (or deleted): full, read-only, ..."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return DownloadError(
            f"cannot write model files: {folder} is full ({exc.strerror})",
            fix="free some space there, or set model.cache_dir to a folder with room",
        )
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return DownloadError(
            f"cannot write model files: {folder} is not writable ({exc.strerror})",
            fix="fix its permissions, or set model.cache_dir to a folder you can write",
        )
    return DownloadError(
        f"cannot write model files in {folder}: {exc.strerror or exc}",
        fix="check the folder, or set model.cache_dir to another one",
    )
