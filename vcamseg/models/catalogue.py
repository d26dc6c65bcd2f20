"""Every BodyPix 2.0 variant Google publishes, where each lives in the official storage, and the
checksums we know for its files.

The official layout (kept as is in local model folders and in the cache) is::

    bodypix/mobilenet/<float|quant2|quant1>/<050|075|100>/model-stride<8|16>.json
    bodypix/resnet50/<float|quant2|quant1>/model-stride<16|32>.json

with the weight shards ``group1-shard<i>of<n>.bin`` next to the model.json; both strides of a
folder share the same shards.
"""

from __future__ import annotations

import difflib
import posixpath
import re
from dataclasses import dataclass
from typing import Literal

from vcamseg.config.model import MULTIPLIERS, STRIDES, ModelConfig
from vcamseg.errors import ModelError

Architecture = Literal["MobileNetV1", "ResNet50"]

OFFICIAL_BASE_URL = "https://storage.googleapis.com/tfjs-models/savedmodel/"
# A mirror of the official layout to download from instead (https, or http on this machine).
BASE_URL_ENV = "VCAMSEG_MODEL_BASE_URL"

# tfjs-converter splits every weight group into shards of exactly this many bytes (the last shard
# holds the rest), so a manifest fixes the size of every shard.
SHARD_BYTES = 4 * 1024 * 1024

# quantBytes -> folder name in the official storage.
QUANT_FOLDERS: dict[int, str] = {4: "float", 2: "quant2", 1: "quant1"}
_QUANT_BY_FOLDER = {folder: qb for qb, folder in QUANT_FOLDERS.items()}

_ARCH_FOLDERS: dict[str, str] = {"MobileNetV1": "mobilenet", "ResNet50": "resnet50"}

# Weight shards per (architecture, quant_bytes, multiplier); both strides share them. From the
# official manifests (MobileNetV1 float/quant1 0.50-1.00 and quant2 0.50/0.75, ResNet50 all three
# quantisations, MobileNetV1 float 0.75 and 1.00 and quant2 1.00: read from the model.json files in
# shared/models and shared/models/bodypix-topology-only). Used only to tell a user which files to fetch by
# hand when even the model.json cannot be downloaded; the manifest is authoritative otherwise.
SHARD_COUNTS: dict[tuple[str, int, float], int] = {
    ("MobileNetV1", 4, 0.5): 1,
    ("MobileNetV1", 4, 0.75): 2,
    ("MobileNetV1", 4, 1.0): 4,
    ("MobileNetV1", 2, 0.5): 1,
    ("MobileNetV1", 2, 0.75): 1,
    ("MobileNetV1", 2, 1.0): 2,
    ("MobileNetV1", 1, 0.5): 1,
    ("MobileNetV1", 1, 0.75): 1,
    ("MobileNetV1", 1, 1.0): 1,
    ("ResNet50", 4, 1.0): 23,
    ("ResNet50", 2, 1.0): 12,
    ("ResNet50", 1, 1.0): 6,
}

# {relpath: (size in bytes, sha256)} of official files whose content we know.
# * bodypix/mobilenet/...: shared/models/SHA256SUMS (files byte-identical to the official storage,
#   provenance in shared/models/MANIFEST.md section 1).
# * bodypix/resnet50/<quant>/model-stride16.json and the model.json files of MobileNetV1 0.75 float,
#   1.00 float and 1.00 quant2: computed from the byte-identical official copies in
#   shared/models/bodypix-topology-only/ (MANIFEST.md section 4; the stride-16 ones also equal the
#   git blob ids in bodypix-official-blobs/shard_blobs.json). Their weight shards are pinned by
#   size and git blob id in vcamseg.models.official_blobs.
# The only official files pinned nowhere are the ResNet50 model-stride32.json files (no copy was
# available): they are verified by their parse and the sha256 recorded at first download (trust on
# first use), and the shards they list are the pinned stride-16 ones.
PINNED: dict[str, tuple[int, str]] = {
    "bodypix/mobilenet/float/050/group1-shard1of1.bin": (
        2419840,
        "6066a2082f41602a10f59450754b38000616eadf8c800b07cf25aa895831698d",
    ),
    "bodypix/mobilenet/float/050/model-stride16.json": (
        48459,
        "753ca143964f579f0f6f4d882b97ca60cbb2b9155ae6077c0a4317e5daf950bd",
    ),
    "bodypix/mobilenet/float/050/model-stride8.json": (
        48459,
        "897721605f9db01309e8d117a25b81f1f386dd29420347de10b1de8b44098a30",
    ),
    "bodypix/mobilenet/quant1/050/group1-shard1of1.bin": (
        604960,
        "839ea607edcb271ae135e7ce605a7f4a9941c1521e3831f230da473e00b4574c",
    ),
    "bodypix/mobilenet/quant1/050/model-stride16.json": (
        54655,
        "7cd88f54637fcb36760273ec716fd88078354b09e649bd6e1188f0428cb9c146",
    ),
    "bodypix/mobilenet/quant1/050/model-stride8.json": (
        54655,
        "026e3c85c7b5ec7b0fb7f4cd4ebf3b5f131c7f1af442dfd5f373e48087f76331",
    ),
    "bodypix/mobilenet/quant1/075/group1-shard1of1.bin": (
        1299392,
        "01fd14c9f46978c0e7dca221ec7b282ebf28a11aad1822dd512885b0b6bcecc1",
    ),
    "bodypix/mobilenet/quant1/075/model-stride16.json": (
        54654,
        "209e8c6234e2d5cefaed39329b97b74f88b7232d0c793914dbc719ab737ea7ce",
    ),
    "bodypix/mobilenet/quant1/075/model-stride8.json": (
        54654,
        "6158d803da429abd301c62d07a033cab2ef235c6ca82c4a58cc6348625234eba",
    ),
    "bodypix/mobilenet/quant1/100/group1-shard1of1.bin": (
        3423584,
        "b4aa6b88f8b67f57c8ceecc058d3bd8f7330590120dc96f55a608c40b6304f38",
    ),
    "bodypix/mobilenet/quant1/100/model-stride16.json": (
        54701,
        "562286643df13a09d4a3900885146c1783b7e614ed7c66932d5a5c63110168a9",
    ),
    "bodypix/mobilenet/quant1/100/model-stride8.json": (
        54701,
        "f5b4506ed68d230e713afc88edaeb55440ecc4ff70e8ff74fd714bf828ea0547",
    ),
    "bodypix/mobilenet/quant2/050/group1-shard1of1.bin": (
        1209920,
        "76c2be65c09e953a1c6334cd122c3219c60dae9d66d62d575e2599a5b317ebe9",
    ),
    "bodypix/mobilenet/quant2/050/model-stride16.json": (
        54887,
        "aaeddfa9de73c4882598c1779286ed6ce44be80b4d582607808da2d7463b0136",
    ),
    "bodypix/mobilenet/quant2/050/model-stride8.json": (
        54887,
        "22bc16e86455e13c3292fc846b3a2ea97213c3c4f66a601815a3b7861867904f",
    ),
    "bodypix/mobilenet/quant2/075/group1-shard1of1.bin": (
        2598784,
        "e215c9546b9db0e1e06c23c759ed48ccaf2aad68c656d0130b5757bc0479ac77",
    ),
    "bodypix/mobilenet/quant2/075/model-stride16.json": (
        54892,
        "f7e26cc294524a502dcd873662d152b7c630e1bcb448f69c26ad021f62619da4",
    ),
    "bodypix/mobilenet/quant2/075/model-stride8.json": (
        54892,
        "8f6a52989ce92d9419863c1738616865980f762bc12ca237b46b5183b7cad9c8",
    ),
    # From the byte-identical official copies in shared/models/bodypix-topology-only (their shards:
    # vcamseg.models.official_blobs).
    "bodypix/mobilenet/float/075/model-stride16.json": (
        48482,
        "f4c5ff1f07b3957191e46ef4b178b6a87fcc5beb723ea9a2a6d442da98164a9b",
    ),
    "bodypix/mobilenet/float/075/model-stride8.json": (
        48482,
        "fe28b82114e2142c1da2fc7005aa908d3cf5a1b3ac4a7bed627055325ea5c301",
    ),
    "bodypix/mobilenet/float/100/model-stride16.json": (
        48578,
        "ab696f2b07508cc77bdbddc5194c2d152676d1b7518a2ceb8987bc0fe3c4308b",
    ),
    "bodypix/mobilenet/float/100/model-stride8.json": (
        48578,
        "6f120b9b380977e7938e2d5a333ba0086e0707e7cab51c7a5692cd9630779ac2",
    ),
    "bodypix/mobilenet/quant2/100/model-stride16.json": (
        54944,
        "ad2b5c1543c1da42ecbc31fb0752bfb2bc75b2a1330faf8b6afd959ab616c329",
    ),
    "bodypix/mobilenet/quant2/100/model-stride8.json": (
        54944,
        "2e4a7cd27016aa8cba873a27027bf344e92cfd60545fad52ee11b56c7e43100e",
    ),
    # MediaPipe selfie segmentation (Apache-2.0), npm @mediapipe/selfie_segmentation@0.1.1675465747
    # (shared/models/MANIFEST.md section 3); see vcamseg.models.selfie.
    "mediapipe/selfie_segmentation.tflite": (
        249024,
        "8d13b7fae74af625c641226813616a2117bd6bca19eb3b75574621fc08557f27",
    ),
    "mediapipe/selfie_segmentation_landscape.tflite": (
        249792,
        "4aafe6223bb8dac6fac8ca8ed56852870a33051ef3f6238822d282a109962894",
    ),
    "bodypix/resnet50/float/model-stride16.json": (
        101576,
        "2245c6b07c967573651e515b4c41f32c7059a41df9cec4144666b4f1c9e5ce26",
    ),
    "bodypix/resnet50/quant1/model-stride16.json": (
        112078,
        "fa3b4e3c1a0766599357acb5efbcaadaad11fcf263ff1fd1fe243988a46b5e9b",
    ),
    "bodypix/resnet50/quant2/model-stride16.json": (
        112648,
        "6e0bc797dbf0b5eb98417ea13c8b466e8f3025b42c2bffe1e114a99ffd61a770",
    ),
}


def _canonical_multiplier(architecture: str, multiplier: float) -> float | None:
    for allowed in MULTIPLIERS.get(architecture, ()):
        if abs(allowed - multiplier) < 1e-6:
            return allowed
    return None


@dataclass(frozen=True)
class Variant:
    """One published BodyPix model: ``bodyPix.load({architecture, outputStride, multiplier, quantBytes})``."""

    architecture: Architecture
    output_stride: int
    multiplier: float
    quant_bytes: int

    def __post_init__(self) -> None:
        if self.architecture not in STRIDES:
            raise ValueError(f"unknown architecture {self.architecture!r}: choose MobileNetV1 or ResNet50")
        if self.output_stride not in STRIDES[self.architecture]:
            allowed = " or ".join(str(s) for s in STRIDES[self.architecture])
            raise ValueError(
                f"output_stride {self.output_stride} is not available for {self.architecture}: choose {allowed}"
            )
        canonical = _canonical_multiplier(self.architecture, self.multiplier)
        if canonical is None:
            allowed = ", ".join(f"{m:.2f}" for m in MULTIPLIERS[self.architecture])
            raise ValueError(f"multiplier {self.multiplier} is not available for {self.architecture}: choose {allowed}")
        if self.quant_bytes not in QUANT_FOLDERS:
            raise ValueError(f"quant_bytes {self.quant_bytes} is not available: choose 4, 2 or 1")
        # 0.5000001 from a float config value and 0.5 must be the same variant (same key, same hash).
        object.__setattr__(self, "multiplier", canonical)

    @property
    def quant_folder(self) -> str:
        return QUANT_FOLDERS[self.quant_bytes]

    @property
    def multiplier_folder(self) -> str:
        """``050``, ``075``, ``100``: the multiplier as the official storage spells it."""
        return f"{round(self.multiplier * 100):03d}"

    @property
    def key(self) -> str:
        """Short name for the command line: ``mobilenet-050-float-s16``, ``resnet50-quant1-s32``."""
        if self.architecture == "ResNet50":
            return f"resnet50-{self.quant_folder}-s{self.output_stride}"
        return f"mobilenet-{self.multiplier_folder}-{self.quant_folder}-s{self.output_stride}"

    @property
    def folder(self) -> str:
        """The model.json's folder, relative to a model root (posix separators)."""
        parts = ["bodypix", _ARCH_FOLDERS[self.architecture], self.quant_folder]
        if self.architecture == "MobileNetV1":
            parts.append(self.multiplier_folder)
        return "/".join(parts)

    @property
    def relpath(self) -> str:
        """The model.json, relative to a model root: ``bodypix/mobilenet/float/050/model-stride16.json``."""
        return f"{self.folder}/model-stride{self.output_stride}.json"

    @property
    def url(self) -> str:
        return self.url_under(OFFICIAL_BASE_URL)

    def url_under(self, base_url: str) -> str:
        return file_url(base_url, self.relpath)

    @property
    def shard_count(self) -> int:
        return SHARD_COUNTS[(self.architecture, self.quant_bytes, self.multiplier)]

    @property
    def expected_shard_relpaths(self) -> tuple[str, ...]:
        """The shard files the official manifest lists (for instructions; the manifest decides)."""
        n = self.shard_count
        return tuple(f"{self.folder}/group1-shard{i}of{n}.bin" for i in range(1, n + 1))

    def apply_to(self, cfg: ModelConfig) -> ModelConfig:
        """``cfg`` with this variant selected (folders, backend, download flag kept)."""
        return cfg.model_copy(
            update={
                "architecture": self.architecture,
                "output_stride": self.output_stride,
                "multiplier": self.multiplier,
                "quant_bytes": self.quant_bytes,
            }
        )

    def __str__(self) -> str:
        return self.key


def file_url(base_url: str, relpath: str) -> str:
    """``base_url`` joined with a posix relpath (exactly one slash between them)."""
    return base_url.rstrip("/") + "/" + posixpath.normpath(relpath).lstrip("/")


def variant_for(cfg: ModelConfig) -> Variant:
    """The variant a ``model:`` config section selects (multiplier default applied)."""
    return Variant(cfg.architecture, cfg.output_stride, cfg.effective_multiplier, cfg.quant_bytes)


def all_variants() -> list[Variant]:
    """All 24 published variants, MobileNetV1 first, in a stable order."""
    variants = [
        Variant("MobileNetV1", stride, multiplier, quant)
        for multiplier in MULTIPLIERS["MobileNetV1"]
        for quant in (4, 2, 1)
        for stride in STRIDES["MobileNetV1"]
    ]
    variants += [Variant("ResNet50", stride, 1.0, quant) for quant in (4, 2, 1) for stride in STRIDES["ResNet50"]]
    return variants


_MOBILENET_KEY = re.compile(r"mobilenet-(050|075|100)-(float|quant2|quant1)-s(\d+)")
_RESNET_KEY = re.compile(r"resnet50-(float|quant2|quant1)-s(\d+)")


def parse_variant_key(key: str) -> Variant:
    """``mobilenet-075-quant2-s8`` -> Variant; ModelError with the close matches otherwise."""
    text = key.strip().lower()
    try:
        if m := _MOBILENET_KEY.fullmatch(text):
            return Variant("MobileNetV1", int(m[3]), int(m[1]) / 100, _QUANT_BY_FOLDER[m[2]])
        if m := _RESNET_KEY.fullmatch(text):
            return Variant("ResNet50", int(m[2]), 1.0, _QUANT_BY_FOLDER[m[1]])
    except ValueError as exc:  # well-formed but not published, e.g. mobilenet-050-float-s32
        raise ModelError(f"model {key!r}: {exc}", fix="see `vcamseg models list` for the published variants") from None
    keys = [v.key for v in all_variants()]
    close = difflib.get_close_matches(text, keys, n=3)
    hint = f"did you mean {', '.join(close)}? " if close else ""
    raise ModelError(
        f"unknown model {key!r}: keys look like mobilenet-050-float-s16 or resnet50-quant1-s32",
        fix=f"{hint}see `vcamseg models list` for all {len(keys)} variants",
    )
