"""Small helpers shared by tests (real data only)."""

from __future__ import annotations

import csv
from pathlib import Path

import cv2
import numpy as np

from tests.paths import REPO, SHARED  # noqa: F401  (re-exported)
from vcamseg.config import Config
from vcamseg.imaging import mask_iou as iou  # noqa: F401  (re-exported: the tests' IoU is the product's)
from vcamseg.pipeline.builder import segmenter_for
from vcamseg.segmentation.segmenter import Segmenter


def mobilenet_json(quant: str = "float", multiplier: str = "050", stride: int = 16, root: Path | None = None) -> Path:
    return (root or SHARED / "models") / "bodypix" / "mobilenet" / quant / multiplier / f"model-stride{stride}.json"


def make_segmenter(model_json: Path | None = None, selfie: str = "off", **segmentation: object) -> Segmenter:
    """A segmenter of one BodyPix file; BodyPix alone unless ``selfie`` (model.selfie) says otherwise."""
    cfg = Config()
    path = model_json or mobilenet_json()
    cfg.model.output_stride = int(path.stem.rsplit("stride", 1)[-1])
    cfg.model.precision = "float"  # deterministic: int8 depends on what the cache holds (tests/test_int8.py)
    cfg.model.selfie = selfie  # type: ignore[assignment]
    for key, value in segmentation.items():
        setattr(cfg.segmentation, key, value)
    return segmenter_for(cfg.model, cfg.segmentation, model_json=path)


def rows(source: str | None = None, with_parts: bool = False) -> list[dict[str, str]]:
    index = SHARED / "data" / "index.csv"
    if not index.is_file():
        return []  # no ../shared: every test using the rows is skipped (conftest), none may fail to import
    with index.open(newline="") as fh:
        out = list(csv.DictReader(fh))
    if source:
        out = [r for r in out if r["source"] == source]
    if with_parts:
        out = [r for r in out if r["parts"]]
    return out


def load_pair(row: dict[str, str]) -> tuple[np.ndarray, np.ndarray]:
    root = SHARED / "data"
    return cv2.imread(str(root / row["image"])), cv2.imread(str(root / row["mask"]), cv2.IMREAD_GRAYSCALE) > 127


def flip_byte(path: Path, offset: int = 1000) -> None:
    """Damage a file in place, same size: only a checksum can tell."""
    data = bytearray(path.read_bytes())
    data[offset] ^= 0xFF
    path.write_bytes(bytes(data))
