"""The three steps from a config to a running segmenter, for the benchmarks and the tests:
resolve the files (`vcamseg.models.resolve`, which may download), load them
(`vcamseg.segmentation.loader`), then the `Segmenter`. The daemon does the same in
`vcamseg.pipeline.builder`."""

from __future__ import annotations

from pathlib import Path

from vcamseg.config.model import ModelConfig
from vcamseg.config.segmentation import SegmentationConfig
from vcamseg.models.files import ModelFiles, model_digest, selfie_kinds_for
from vcamseg.models.resolve import resolve_model_files
from vcamseg.models.selfie import fetch_selfie
from vcamseg.segmentation.loader import LoadedModel, load_model
from vcamseg.segmentation.segmenter import Segmenter


def model_files(model: ModelConfig, model_json: Path | None = None) -> ModelFiles:
    """``model``'s files, resolved as the daemon resolves them; with ``model_json``, that BodyPix
    file instead of the variant the config names (the selfie files are resolved all the same)."""
    if model_json is None:
        return resolve_model_files(model)
    selfie = {kind: fetch_selfie(kind, model).path for kind in selfie_kinds_for(model.selfie)}
    return ModelFiles(model_json, model_digest(model_json), selfie)


def loaded_model(model: ModelConfig, model_json: Path | None = None) -> LoadedModel:
    return load_model(model, model_files(model, model_json))


def segmenter_for(model: ModelConfig, segmentation: SegmentationConfig, model_json: Path | None = None) -> Segmenter:
    """A segmenter of ``model`` (or of the BodyPix file ``model_json``) with ``segmentation``."""
    return Segmenter(loaded_model(model, model_json), segmentation)
