"""MediaPipe Selfie Segmentation: the person model that vcamseg blends into BodyPix's person
scores (``model.selfie``). Two published files, pinned by size and sha256 in
:data:`vcamseg.models.catalogue.PINNED` and laid out like ``shared/models``::

    mediapipe/selfie_segmentation.tflite            256x256 input (square and portrait frames)
    mediapipe/selfie_segmentation_landscape.tflite  144x256 input (landscape frames: webcams)
"""

from __future__ import annotations

from pathlib import Path

from vcamseg.config.model import ModelConfig
from vcamseg.models.cache import models_cache_dir
from vcamseg.models.catalogue import PINNED
from vcamseg.models.files import SELFIE_RELPATHS, SelfieKind
from vcamseg.models.store import FetchedFile, resolve_file

# The npm package the files come from, pinned to one version (the sha256 pins the bytes anyway).
NPM_BASE_URL = "https://cdn.jsdelivr.net/npm/@mediapipe/selfie_segmentation@0.1.1675465747/"


def official_url(kind: SelfieKind) -> str:
    return NPM_BASE_URL + Path(SELFIE_RELPATHS[kind]).name


def fetch_selfie(
    kind: SelfieKind,
    cfg: ModelConfig,
    *,
    download: bool | None = None,
    progress: bool | None = None,
    base_url: str | None = None,
) -> FetchedFile:
    """The verified selfie model file: local model folder, else cache, else downloaded."""
    return resolve_file(
        SELFIE_RELPATHS[kind], official_url(kind), cfg, download=download, progress=progress, base_url=base_url
    )


def selfie_status(kind: SelfieKind, cfg: ModelConfig) -> tuple[str, Path | None]:
    """Where the file is ("local", "cache" or "missing"), by a quick size check (fetch_selfie verifies)."""
    relpath = SELFIE_RELPATHS[kind]
    size = PINNED[relpath][0]
    local = cfg.effective_dir
    for where, root in (("local", local), ("cache", models_cache_dir(cfg))):
        if root is not None and (root / relpath).is_file() and (root / relpath).stat().st_size == size:
            return where, root / relpath
    return "missing", None
