"""The loading step before any model runs: every file a ``model:`` config needs, found in the local
model folder or the cache, or downloaded (when allowed) and verified. Its `ModelFiles` is all that
segmentation gets: constructing a segmenter never reaches the network."""

from __future__ import annotations

from pathlib import Path

from vcamseg.config.model import ModelConfig
from vcamseg.errors import ModelError
from vcamseg.models.files import ModelFiles, model_digest, selfie_kinds_for
from vcamseg.models.selfie import fetch_selfie
from vcamseg.models.store import resolve_model


def resolve_model_files(
    cfg: ModelConfig, *, progress: bool | None = None, base_url: str | None = None, bodypix_json: Path | None = None
) -> ModelFiles:
    """The BodyPix variant's files and the selfie file(s) ``cfg.selfie`` may run. Raises ModelError
    (DownloadError) naming what is missing or damaged and how to fix it. ``bodypix_json``: that
    BodyPix file instead of the variant the config names (tests and benchmarks of one file)."""
    if bodypix_json is None:
        bodypix_json = resolve_model(cfg, progress=progress, base_url=base_url)
    selfie = {}
    for kind in selfie_kinds_for(cfg.selfie):
        try:
            selfie[kind] = fetch_selfie(kind, cfg, progress=progress, base_url=base_url).path
        except ModelError as exc:
            raise type(exc)(exc.message, fix=f"{exc.fix}; or set model.selfie: off to run BodyPix alone") from None
    return ModelFiles(bodypix_json, model_digest(bodypix_json), selfie)
