"""The BodyPix catalogue: variants, official paths and URLs, keys, pinned checksums."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from vcamseg.config.model import ModelConfig
from vcamseg.errors import ModelError
from vcamseg.models.catalogue import (
    OFFICIAL_BASE_URL,
    PINNED,
    SHARD_BYTES,
    Variant,
    all_variants,
    parse_variant_key,
    variant_for,
)
from vcamseg.models.official_blobs import PINNED_GIT_BLOBS
from vcamseg.models.tfjs import read_model_json


def test_there_are_24_distinct_variants() -> None:
    variants = all_variants()
    assert len(variants) == 24
    assert len({v.key for v in variants}) == 24
    assert len({v.relpath for v in variants}) == 24
    assert sum(v.architecture == "MobileNetV1" for v in variants) == 18
    assert {(v.output_stride, v.quant_bytes) for v in variants if v.architecture == "ResNet50"} == {
        (s, q) for s in (16, 32) for q in (4, 2, 1)
    }


@pytest.mark.parametrize(
    ("variant", "key", "relpath"),
    [
        (
            Variant("MobileNetV1", 16, 0.5, 4),
            "mobilenet-050-float-s16",
            "bodypix/mobilenet/float/050/model-stride16.json",
        ),
        (
            Variant("MobileNetV1", 8, 0.75, 2),
            "mobilenet-075-quant2-s8",
            "bodypix/mobilenet/quant2/075/model-stride8.json",
        ),
        (
            Variant("MobileNetV1", 8, 1.0, 1),
            "mobilenet-100-quant1-s8",
            "bodypix/mobilenet/quant1/100/model-stride8.json",
        ),
        (Variant("ResNet50", 32, 1.0, 1), "resnet50-quant1-s32", "bodypix/resnet50/quant1/model-stride32.json"),
        (Variant("ResNet50", 16, 1.0, 4), "resnet50-float-s16", "bodypix/resnet50/float/model-stride16.json"),
    ],
)
def test_keys_relpaths_and_urls_follow_the_official_storage(variant: Variant, key: str, relpath: str) -> None:
    assert variant.key == key
    assert variant.relpath == relpath
    assert variant.url == "https://storage.googleapis.com/tfjs-models/savedmodel/" + relpath
    assert variant.url_under("http://127.0.0.1:8000/mirror") == "http://127.0.0.1:8000/mirror/" + relpath


@pytest.mark.parametrize("variant", all_variants(), ids=lambda v: v.key)
def test_every_key_round_trips(variant: Variant) -> None:
    assert parse_variant_key(variant.key) == variant
    assert parse_variant_key(variant.key.upper()) == variant
    assert variant.url == OFFICIAL_BASE_URL + variant.relpath


@pytest.mark.parametrize("variant", all_variants(), ids=lambda v: v.key)
def test_every_variant_is_a_valid_model_config(variant: Variant) -> None:
    cfg = variant.apply_to(ModelConfig())
    ModelConfig.model_validate(cfg.model_dump())  # the combination passes the config's own checks
    assert variant_for(cfg) == variant


def test_default_config_is_mobilenet_050_float_s16() -> None:
    assert variant_for(ModelConfig()).key == "mobilenet-050-float-s16"
    assert variant_for(ModelConfig(architecture="resnet50")).key == "resnet50-float-s16"


def test_multiplier_is_canonicalised() -> None:
    assert Variant("MobileNetV1", 16, 0.5000000001, 4) == Variant("MobileNetV1", 16, 0.5, 4)
    assert variant_for(ModelConfig(multiplier=0.75, quant_bytes=2, output_stride=8)).key == "mobilenet-075-quant2-s8"


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (
            {"architecture": "ResNet50", "output_stride": 8},
            "output_stride 8 is not available for ResNet50: choose 16 or 32",
        ),
        (
            {"architecture": "MobileNetV1", "output_stride": 32},
            "output_stride 32 is not available for MobileNetV1: choose 8 or 16",
        ),
        ({"multiplier": 0.6}, "multiplier 0.6 is not available for MobileNetV1: choose 0.50, 0.75, 1.00"),
        ({"architecture": "ResNet50", "multiplier": 0.5}, "multiplier 0.5 is not available for ResNet50: choose 1.00"),
        ({"quant_bytes": 3}, "quant_bytes"),
    ],
)
def test_model_config_rejects_unpublished_combinations(settings: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message.replace(".", r"\.")):
        ModelConfig(**settings)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("ResNet50", 8, 1.0, 4), "output_stride 8 is not available for ResNet50"),
        (("MobileNetV1", 32, 0.5, 4), "output_stride 32 is not available for MobileNetV1"),
        (("MobileNetV1", 16, 0.6, 4), "multiplier 0.6 is not available"),
        (("MobileNetV1", 16, 0.5, 3), "quant_bytes 3 is not available"),
        (("EfficientNet", 16, 1.0, 4), "unknown architecture"),
    ],
)
def test_variant_rejects_unpublished_combinations(args: tuple, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Variant(*args)


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("mobilenet-050-float-s32", "output_stride 32 is not available for MobileNetV1"),
        ("resnet50-quant2-s8", "output_stride 8 is not available for ResNet50"),
        ("mobilenet-060-float-s16", "unknown model"),
        ("mobilenet-050-flaot-s16", "did you mean mobilenet-050-float-s16"),
        ("", "unknown model"),
    ],
)
def test_bad_keys_are_clear_errors(key: str, message: str) -> None:
    with pytest.raises(ModelError, match=message) as info:
        parse_variant_key(key)
    assert "vcamseg models list" in str(info.value)


def test_pinned_table_matches_the_shared_files(models_dir: Path) -> None:
    """Every pinned entry equals the real file: bodypix/* and mediapipe/* directly, the model.json
    files of the variants whose weights are not in shared/models via the byte-identical
    topology-only copies."""
    assert len(PINNED) == 29
    for relpath, (size, sha) in PINNED.items():
        local = models_dir / relpath
        if not local.exists():
            local = models_dir / relpath.replace("bodypix/", "bodypix-topology-only/", 1)
        data = local.read_bytes()
        assert len(data) == size, relpath
        assert hashlib.sha256(data).hexdigest() == sha, relpath


def test_every_official_file_in_shared_is_pinned(models_dir: Path) -> None:
    on_disk = {p.relative_to(models_dir).as_posix() for p in (models_dir / "bodypix").rglob("*") if p.is_file()}
    assert on_disk <= PINNED.keys()


def test_shard_names_match_the_manifests(models_dir: Path) -> None:
    """The shard counts used in manual-install instructions agree with every manifest we hold."""
    checked = 0
    for variant in all_variants():
        path = models_dir / variant.relpath
        if not path.exists():
            path = models_dir / variant.relpath.replace("bodypix/", "bodypix-topology-only/", 1)
        if not path.exists():
            continue
        model = read_model_json(path)
        names = [f"{variant.folder}/{name}" for group in model.groups for name in group.paths]
        assert tuple(names) == variant.expected_shard_relpaths, variant.key
        total = sum(w.nbytes for g in model.groups for w in g.weights)
        assert -(-total // SHARD_BYTES) == variant.shard_count, variant.key
        checked += 1
    assert checked == 21  # 18 MobileNetV1 JSONs + 3 ResNet50 stride-16 topologies


def _git_blob(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def test_the_git_blob_pins_are_the_reference_ids_of_every_official_shard_we_lack(models_dir: Path) -> None:
    """PINNED_GIT_BLOBS holds exactly the shards in shared/models/bodypix-official-blobs, with their
    sizes and ids; every variant's official model.json (topology-only copies) lists exactly those
    shards at those sizes, and its stride-16 file has the reference json_blob id."""
    reference = json.loads((models_dir / "bodypix-official-blobs" / "shard_blobs.json").read_text())
    expected = {
        f"bodypix/{folder}/{shard['file']}": (shard["expected_bytes"], shard["git_blob_sha1"])
        for folder, entry in reference.items()
        for shard in entry["shards"]
    }
    assert expected == PINNED_GIT_BLOBS and len(expected) == 49
    assert not PINNED_GIT_BLOBS.keys() & PINNED.keys()
    manifests = 0
    for variant in all_variants():
        topology = models_dir / variant.relpath.replace("bodypix/", "bodypix-topology-only/", 1)
        if variant.folder.removeprefix("bodypix/") not in reference:
            continue
        if variant.output_stride == 16:
            data = (models_dir / "bodypix-topology-only" / variant.relpath.removeprefix("bodypix/")).read_bytes()
            assert _git_blob(data) == reference[variant.folder.removeprefix("bodypix/")]["json_blob"]
        if not topology.exists():  # ResNet50 stride 32: no copy to check (the one unpinned file kind)
            assert variant.architecture == "ResNet50" and variant.output_stride == 32
            assert variant.relpath not in PINNED
            continue
        assert variant.relpath in PINNED, variant.key
        model = read_model_json(topology)
        for group in model.groups:
            total = sum(w.nbytes for w in group.weights)
            for index, name in enumerate(group.paths):
                size = SHARD_BYTES if index < len(group.paths) - 1 else total - SHARD_BYTES * index
                assert PINNED_GIT_BLOBS[f"{variant.folder}/{name}"][0] == size, (variant.key, name)
        assert {f"{variant.folder}/{n}" for g in model.groups for n in g.paths} == {
            k for k in PINNED_GIT_BLOBS if k.startswith(variant.folder + "/")
        }
        manifests += 1
    assert manifests == 9  # 6 MobileNetV1 + 3 ResNet50 model.json files


def test_every_official_file_is_pinned_but_resnet50_stride32_model_json() -> None:
    """No official file is left to trust on first use except the three we could not obtain: every
    variant's model.json is pinned by sha256 and every shard its manifest lists by sha256 or git blob."""
    unpinned = [v.relpath for v in all_variants() if v.relpath not in PINNED]
    assert unpinned == [f"bodypix/resnet50/{q}/model-stride32.json" for q in ("float", "quant2", "quant1")]
    for variant in all_variants():
        for shard in variant.expected_shard_relpaths:
            assert shard in PINNED or shard in PINNED_GIT_BLOBS, shard
