"""What a model config needs on disk, as found by the store: `ModelFiles`, the hand-over from the
models layer (which finds, downloads and verifies files) to segmentation (which only reads them).
Also the names of the MediaPipe selfie files, which segmentation uses to pick one per frame shape,
and the digest that keys conversions of a model. Nothing here touches the network.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from vcamseg.models.tfjs import read_model_json

SelfieKind = Literal["general", "landscape"]

# Laid out like shared/models: mediapipe/<file>.
SELFIE_RELPATHS: dict[SelfieKind, str] = {
    "general": "mediapipe/selfie_segmentation.tflite",
    "landscape": "mediapipe/selfie_segmentation_landscape.tflite",
}

_CHUNK = 1 << 20


@dataclass(frozen=True)
class ModelFiles:
    """The verified files of one ``model:`` config: the BodyPix graph (its shards beside it), its
    digest, and the selfie model file(s) ``model.selfie`` may run (none when off)."""

    bodypix_json: Path
    digest: str  # model_digest(bodypix_json): the cache key of its TFLite conversions
    selfie: dict[SelfieKind, Path] = field(default_factory=dict)


def selfie_kind_for(setting: str, frame_h: int, frame_w: int) -> SelfieKind:
    """``model.selfie`` -> the file to run: ``auto`` takes the landscape model for frames at least as
    wide as tall (webcams) and the square one for portrait frames."""
    if setting in SELFIE_RELPATHS:
        return setting  # type: ignore[return-value]
    return "landscape" if frame_w >= frame_h else "general"


def selfie_kinds_for(setting: str) -> list[SelfieKind]:
    """The files ``model.selfie`` may run: none when off, both for auto (picked per frame shape)."""
    if setting == "off":
        return []
    return list(SELFIE_RELPATHS) if setting == "auto" else [setting]  # type: ignore[list-item]


def model_digest(model_json: Path) -> str:
    """sha256 over the model.json and its shards in manifest order: a key for derived artefacts."""
    model = read_model_json(model_json)
    digest = hashlib.sha256()
    for path in (model.path, *dict.fromkeys(model.shard_paths)):
        # Length-prefix every file so that moving bytes from one file to the next changes the key.
        digest.update(path.stat().st_size.to_bytes(8, "little"))
        with path.open("rb") as fh:
            while chunk := fh.read(_CHUNK):
                digest.update(chunk)
    return digest.hexdigest()
