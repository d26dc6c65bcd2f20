"""Model lookup, verification and download, for real: the shared BodyPix files, copies of them in
temporary folders, and an HTTP server on 127.0.0.1 standing in for Google's storage."""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers import flip_byte
from tests.mirror import Server
from vcamseg.cli.main import main
from vcamseg.config.model import ModelConfig
from vcamseg.errors import DownloadError, ModelError
from vcamseg.models import store
from vcamseg.models.catalogue import OFFICIAL_BASE_URL as OFFICIAL_URL
from vcamseg.models.catalogue import PINNED, Variant, all_variants, parse_variant_key
from vcamseg.models.expected import CHECKSUMS_FILE
from vcamseg.models.files import model_digest
from vcamseg.models.official_blobs import PINNED_GIT_BLOBS
from vcamseg.models.store import (
    effective_base_url,
    models_cache_dir,
    resolve_model,
    variant_status,
)

FLOAT_050 = parse_variant_key("mobilenet-050-float-s16")
FLOAT_050_S8 = parse_variant_key("mobilenet-050-float-s8")
SHARD = "group1-shard1of1.bin"
# The one kind of official path pinned nowhere (no copy of ResNet50's stride-32 model.json was
# available): a mirror serving the float 0.50 files there exercises trust-on-first-use with real,
# self-consistent files (its one shard's name is not one of the pinned ResNet50 shards either).
UNPINNED = parse_variant_key("resnet50-float-s32")


# --------------------------------------------------------------------------------------------
# Fixtures


@pytest.fixture(autouse=True)
def _no_retry_pauses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store, "RETRY_DELAYS_S", (0.0, 0.0))
    monkeypatch.delenv(store.BASE_URL_ENV, raising=False)


@pytest.fixture
def no_local_models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty model folder, so that lookups go to the cache and the network."""
    empty = tmp_path / "no-models"
    empty.mkdir()
    monkeypatch.setenv("VCAMSEG_MODEL_DIR", str(empty))
    return empty


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return tmp_path / "cache"


def config(variant: Variant, cache: Path, **overrides: object) -> ModelConfig:
    return variant.apply_to(ModelConfig(cache_dir=cache, **overrides))


def copy_variant(models_dir: Path, variant: Variant, dest_root: Path, *, as_variant: Variant | None = None) -> Path:
    """Copy a variant's model.json and shards from shared/models (into a temp folder)."""
    target = as_variant or variant
    folder = dest_root / target.folder
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(models_dir / variant.relpath, dest_root / target.relpath)
    for shard in variant.expected_shard_relpaths:
        shutil.copyfile(models_dir / shard, folder / Path(shard).name)
    return dest_root / target.relpath


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def leftovers(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.part"))


def shared_variants(models_dir: Path) -> list[Variant]:
    return [v for v in all_variants() if (models_dir / v.relpath).exists()]


# --------------------------------------------------------------------------------------------
# Local model folder


def test_every_shared_variant_resolves_from_the_local_folder(models_dir: Path, cache: Path) -> None:
    present = shared_variants(models_dir)
    assert len(present) == 12
    for variant in present:
        cfg = config(variant, cache)
        assert resolve_model(cfg, base_url="http://127.0.0.1:9/") == models_dir / variant.relpath
        where, path, total = variant_status(variant, cfg)
        shard = models_dir / variant.folder / SHARD
        assert (where, path) == ("local", models_dir / variant.relpath)
        assert total == (models_dir / variant.relpath).stat().st_size + shard.stat().st_size
    assert not cache.exists()  # nothing was downloaded or even prepared


@pytest.fixture
def local_copy(models_dir: Path, tmp_path: Path) -> Path:
    root = tmp_path / "my-models"
    copy_variant(models_dir, FLOAT_050, root)
    return root


def resolve_local(root: Path, cache: Path) -> Path:
    return resolve_model(config(FLOAT_050, cache, dir=root, download=False))


def test_local_copy_resolves(local_copy: Path, cache: Path) -> None:
    assert resolve_local(local_copy, cache) == local_copy / FLOAT_050.relpath


def test_truncated_local_shard_is_a_clear_error(local_copy: Path, cache: Path) -> None:
    shard = local_copy / FLOAT_050.folder / SHARD
    shard.write_bytes(shard.read_bytes()[:-100])
    with pytest.raises(ModelError) as info:
        resolve_local(local_copy, cache)
    text = str(info.value)
    assert str(shard) in text
    assert "has 2419740 bytes but should have 2419840" in text
    assert f"https://storage.googleapis.com/tfjs-models/savedmodel/{FLOAT_050.folder}/{SHARD}" in text
    assert shard.stat().st_size == 2419740  # the user's folder is left alone


def test_corrupted_local_shard_is_a_clear_error(local_copy: Path, cache: Path) -> None:
    shard = local_copy / FLOAT_050.folder / SHARD
    flip_byte(shard)
    damaged = sha256(shard)
    with pytest.raises(ModelError) as info:
        resolve_local(local_copy, cache)
    assert str(shard) in str(info.value)
    assert f"sha256 is {damaged} but should be {PINNED[FLOAT_050.folder + '/' + SHARD][1]}" in str(info.value)
    assert sha256(shard) == damaged


def test_missing_local_shard_is_a_clear_error(local_copy: Path, cache: Path) -> None:
    shard = local_copy / FLOAT_050.folder / SHARD
    shard.unlink()
    with pytest.raises(ModelError, match="is missing") as info:
        resolve_local(local_copy, cache)
    assert str(shard) in str(info.value)
    assert "model.dir" in info.value.fix


def test_corrupted_local_model_json_is_a_clear_error(local_copy: Path, cache: Path) -> None:
    model_json = local_copy / FLOAT_050.relpath
    flip_byte(model_json, offset=10)
    with pytest.raises(ModelError, match="sha256") as info:
        resolve_local(local_copy, cache)
    assert str(model_json) in str(info.value)


def test_local_folder_without_the_variant_falls_through_to_the_cache(
    local_copy: Path, cache: Path, models_dir: Path
) -> None:
    # The folder has float/050 only; quant1/050 comes from the cache (copied there beforehand).
    quant1 = parse_variant_key("mobilenet-050-quant1-s16")
    cached = copy_variant(models_dir, quant1, models_cache_dir(config(quant1, cache)))
    assert resolve_model(config(quant1, cache, dir=local_copy, download=False)) == cached


# --------------------------------------------------------------------------------------------
# Download into the cache


@pytest.mark.usefixtures("no_local_models")
def test_download_into_an_empty_cache_then_use_it_offline(
    models_dir: Path, cache: Path, serve: Callable[..., Server]
) -> None:
    server = serve(models_dir)
    cfg = config(FLOAT_050, cache)
    path = resolve_model(cfg, base_url=server.base_url, progress=True)

    root = models_cache_dir(cfg)
    assert path == root / FLOAT_050.relpath
    for relpath in (FLOAT_050.relpath, f"{FLOAT_050.folder}/{SHARD}"):
        size, digest = PINNED[relpath]
        assert (root / relpath).stat().st_size == size
        assert sha256(root / relpath) == digest
    assert leftovers(root) == []
    assert server.requests == ["/" + FLOAT_050.relpath, f"/{FLOAT_050.folder}/{SHARD}"]
    assert variant_status(FLOAT_050, cfg) == ("cache", path, 48459 + 2419840)

    server.stop()  # from now on any network use would fail
    assert resolve_model(cfg, base_url=server.base_url) == path
    assert resolve_model(config(FLOAT_050, cache, download=False)) == path


@pytest.mark.usefixtures("no_local_models")
def test_the_other_stride_reuses_the_cached_shard(models_dir: Path, cache: Path, serve: Callable[..., Server]) -> None:
    server = serve(models_dir)
    resolve_model(config(FLOAT_050, cache), base_url=server.base_url)
    server.requests.clear()
    resolve_model(config(FLOAT_050_S8, cache), base_url=server.base_url)
    assert server.requests == ["/" + FLOAT_050_S8.relpath]


@pytest.fixture
def mirror(models_dir: Path, tmp_path: Path) -> Path:
    root = tmp_path / "mirror"
    copy_variant(models_dir, FLOAT_050, root)
    return root


@pytest.mark.usefixtures("no_local_models")
def test_truncated_download_is_rejected_and_not_kept(mirror: Path, cache: Path, serve: Callable[..., Server]) -> None:
    shard = mirror / FLOAT_050.folder / SHARD
    shard.write_bytes(shard.read_bytes()[: 3 * 1024 * 1024 // 2])
    server = serve(mirror)
    cfg = config(FLOAT_050, cache)
    with pytest.raises(DownloadError) as info:
        resolve_model(cfg, base_url=server.base_url)
    assert f"{server.base_url}{FLOAT_050.folder}/{SHARD}" in str(info.value)
    assert "1572864 bytes" in str(info.value) and "2419840" in str(info.value)
    root = models_cache_dir(cfg)
    assert not (root / FLOAT_050.folder / SHARD).exists()
    assert leftovers(root) == []
    assert sha256(root / FLOAT_050.relpath) == PINNED[FLOAT_050.relpath][1]  # the good file is kept


@pytest.mark.usefixtures("no_local_models")
def test_corrupted_download_fails_sha256(mirror: Path, cache: Path, serve: Callable[..., Server]) -> None:
    flip_byte(mirror / FLOAT_050.folder / SHARD)
    server = serve(mirror)
    cfg = config(FLOAT_050, cache)
    with pytest.raises(DownloadError, match="sha256") as info:
        resolve_model(cfg, base_url=server.base_url)
    assert f"{FLOAT_050.folder}/{SHARD}" in str(info.value)
    root = models_cache_dir(cfg)
    assert not (root / FLOAT_050.folder / SHARD).exists()
    assert leftovers(root) == []


@pytest.mark.usefixtures("no_local_models")
def test_404_names_the_url_and_the_files_to_put_where(
    tmp_path: Path, cache: Path, serve: Callable[..., Server]
) -> None:
    empty_mirror = tmp_path / "empty-mirror"
    empty_mirror.mkdir()
    server = serve(empty_mirror)
    cfg = config(FLOAT_050, cache)
    with pytest.raises(DownloadError) as info:
        resolve_model(cfg, base_url=server.base_url)
    err = info.value
    assert f"{server.base_url}{FLOAT_050.relpath}" in err.message
    assert "HTTP 404" in err.message
    assert f"/{FLOAT_050.relpath}" in err.fix
    assert f"/{FLOAT_050.folder}/{SHARD}" in err.fix
    assert "model.dir" in err.fix and "VCAMSEG_MODEL_DIR" in err.fix
    assert str(models_cache_dir(cfg)) in err.fix
    assert server.requests == ["/" + FLOAT_050.relpath]  # a 404 is not retried


@pytest.mark.usefixtures("no_local_models")
def test_404_of_a_large_variant_lists_all_its_shards(tmp_path: Path, cache: Path, serve: Callable[..., Server]) -> None:
    server = serve(tmp_path)
    variant = parse_variant_key("resnet50-quant1-s16")
    with pytest.raises(DownloadError) as info:
        resolve_model(config(variant, cache), base_url=server.base_url)
    for i in range(1, 7):
        assert f"bodypix/resnet50/quant1/group1-shard{i}of6.bin" in info.value.fix


@pytest.mark.usefixtures("no_local_models")
def test_unreachable_server_is_retried_then_reported(cache: Path, serve: Callable[..., Server], tmp_path: Path) -> None:
    server = serve(tmp_path)
    server.stop()  # the port is now closed: connection refused
    with pytest.raises(DownloadError, match="tried 3 times") as info:
        resolve_model(config(FLOAT_050, cache), base_url=server.base_url)
    assert f"{server.base_url}{FLOAT_050.relpath}" in str(info.value)


@pytest.mark.usefixtures("no_local_models")
def test_server_errors_are_retried(models_dir: Path, cache: Path, serve: Callable[..., Server]) -> None:
    server = serve(models_dir, fail_first=1)
    path = resolve_model(config(FLOAT_050, cache), base_url=server.base_url)
    assert sha256(path) == PINNED[FLOAT_050.relpath][1]
    assert server.requests.count("/" + FLOAT_050.relpath) == 2


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/tfjs-models/savedmodel/",
        "http://10.0.0.1/",
        "ftp://127.0.0.1/models/",
        "file:///work/shared/models/",
    ],
)
@pytest.mark.usefixtures("no_local_models")
def test_insecure_base_urls_are_rejected(url: str, cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(DownloadError, match="is not allowed") as info:
        resolve_model(config(FLOAT_050, cache), base_url=url)
    assert "https://" in info.value.fix
    monkeypatch.setenv(store.BASE_URL_ENV, url)
    with pytest.raises(DownloadError, match="is not allowed"):
        resolve_model(config(FLOAT_050, cache))
    assert not models_cache_dir(config(FLOAT_050, cache)).joinpath(FLOAT_050.folder).exists()


@pytest.mark.parametrize(
    "url",
    [
        "https://mirror.example.org/bodypix-models",
        "http://127.0.0.1:8000/",
        "http://localhost/m/",
        "http://[::1]:81/",
    ],
)
def test_https_and_loopback_http_base_urls_are_accepted(url: str) -> None:
    assert effective_base_url(url).startswith(url)
    assert effective_base_url(url).endswith("/")


def test_official_base_url_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    assert effective_base_url() == "https://storage.googleapis.com/tfjs-models/savedmodel/"
    monkeypatch.setenv(store.BASE_URL_ENV, "https://mirror.example.org/m/")
    assert effective_base_url() == "https://mirror.example.org/m/"


@pytest.mark.usefixtures("no_local_models")
def test_redirect_to_plain_http_elsewhere_is_refused(tmp_path: Path, cache: Path, serve: Callable[..., Server]) -> None:
    server = serve(tmp_path, redirect_to="http://192.0.2.1")
    with pytest.raises(DownloadError, match=r"redirects to http://192\.0\.2\.1/"):
        resolve_model(config(FLOAT_050, cache), base_url=server.base_url)


@pytest.mark.usefixtures("no_local_models")
def test_damaged_cache_file_is_deleted_and_downloaded_again(
    models_dir: Path, cache: Path, serve: Callable[..., Server]
) -> None:
    server = serve(models_dir)
    cfg = config(FLOAT_050, cache)
    path = resolve_model(cfg, base_url=server.base_url)
    shard = path.parent / SHARD
    flip_byte(shard)
    server.requests.clear()
    assert resolve_model(cfg, base_url=server.base_url) == path
    assert server.requests == [f"/{FLOAT_050.folder}/{SHARD}"]
    assert sha256(shard) == PINNED[f"{FLOAT_050.folder}/{SHARD}"][1]


@pytest.mark.usefixtures("no_local_models")
def test_damaged_cache_without_downloads_is_deleted_and_reported(models_dir: Path, cache: Path) -> None:
    cfg = config(FLOAT_050, cache, download=False)
    model_json = copy_variant(models_dir, FLOAT_050, models_cache_dir(cfg))
    shard = model_json.parent / SHARD
    shard.write_bytes(b"not weights")
    with pytest.raises(ModelError, match="downloads are off") as info:
        resolve_model(cfg)
    assert "model.download: true" in info.value.fix
    assert not shard.exists()


@pytest.mark.usefixtures("no_local_models")
def test_missing_model_with_downloads_off_is_a_clear_error(cache: Path) -> None:
    cfg = config(FLOAT_050, cache, download=False)
    with pytest.raises(ModelError, match="downloads are off") as info:
        resolve_model(cfg)
    assert FLOAT_050.relpath in info.value.fix
    assert not cache.exists()


@pytest.mark.usefixtures("no_local_models")
def test_full_disk_is_reported_with_the_folder(
    models_dir: Path, cache: Path, serve: Callable[..., Server], monkeypatch: pytest.MonkeyPatch
) -> None:
    server = serve(models_dir)
    cfg = config(FLOAT_050, cache)

    def disk_full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(store.os, "fsync", disk_full)
    with pytest.raises(DownloadError, match="is full") as info:
        resolve_model(cfg, base_url=server.base_url)
    assert str(models_cache_dir(cfg) / FLOAT_050.folder) in str(info.value)
    assert "model.cache_dir" in info.value.fix
    assert leftovers(models_cache_dir(cfg)) == []
    assert not (models_cache_dir(cfg) / FLOAT_050.relpath).exists()


@pytest.mark.usefixtures("no_local_models")
def test_unwritable_cache_is_reported(tmp_path: Path, serve: Callable[..., Server], models_dir: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("the cache_dir is a file, not a folder")
    server = serve(models_dir)
    with pytest.raises(DownloadError, match="cannot write model files") as info:
        resolve_model(config(FLOAT_050, blocker), base_url=server.base_url)
    assert str(blocker) in str(info.value)


# --------------------------------------------------------------------------------------------
# Files without a pinned checksum: trust on first use


@pytest.fixture
def unpinned_mirror(models_dir: Path, tmp_path: Path) -> Path:
    root = tmp_path / "unpinned-mirror"
    copy_variant(models_dir, FLOAT_050, root, as_variant=UNPINNED)
    assert UNPINNED.relpath not in PINNED
    return root


@pytest.mark.usefixtures("no_local_models")
def test_unpinned_download_records_its_checksums(
    unpinned_mirror: Path, cache: Path, serve: Callable[..., Server], caplog: pytest.LogCaptureFixture
) -> None:
    server = serve(unpinned_mirror)
    cfg = config(UNPINNED, cache)
    with caplog.at_level(logging.WARNING, logger="vcamseg.models.store"):
        path = resolve_model(cfg, base_url=server.base_url)
    assert "no pinned checksum" in caplog.text
    record = json.loads((models_cache_dir(cfg) / CHECKSUMS_FILE).read_text())["files"]
    for relpath in (UNPINNED.relpath, f"{UNPINNED.folder}/{SHARD}"):
        file = models_cache_dir(cfg) / relpath
        assert record[relpath] == {"size": file.stat().st_size, "sha256": sha256(file)}
    assert resolve_model(config(UNPINNED, cache, download=False)) == path


@pytest.mark.usefixtures("no_local_models")
def test_recorded_checksum_catches_a_damaged_cache_file(
    unpinned_mirror: Path, cache: Path, serve: Callable[..., Server]
) -> None:
    server = serve(unpinned_mirror)
    path = resolve_model(config(UNPINNED, cache), base_url=server.base_url)
    server.stop()
    flip_byte(path.parent / SHARD)
    with pytest.raises(ModelError, match="downloads are off"):
        resolve_model(config(UNPINNED, cache, download=False))
    assert not (path.parent / SHARD).exists()


@pytest.mark.usefixtures("no_local_models")
def test_recorded_checksum_rejects_a_changed_download(
    unpinned_mirror: Path, cache: Path, serve: Callable[..., Server]
) -> None:
    server = serve(unpinned_mirror)
    path = resolve_model(config(UNPINNED, cache), base_url=server.base_url)
    (path.parent / SHARD).unlink()
    flip_byte(unpinned_mirror / UNPINNED.folder / SHARD)  # the mirror now serves something else
    with pytest.raises(DownloadError, match="recorded at first download"):
        resolve_model(config(UNPINNED, cache), base_url=server.base_url)
    assert not (path.parent / SHARD).exists()


@pytest.mark.usefixtures("no_local_models")
def test_manifest_cannot_write_outside_the_model_folder(
    unpinned_mirror: Path, cache: Path, serve: Callable[..., Server], tmp_path: Path
) -> None:
    model_json = unpinned_mirror / UNPINNED.relpath
    doc = json.loads(model_json.read_text())
    doc["weightsManifest"][0]["paths"] = ["../../../../../escaped.bin"]
    model_json.write_text(json.dumps(doc))
    server = serve(unpinned_mirror)
    with pytest.raises(ModelError, match="not a plain file name"):
        resolve_model(config(UNPINNED, cache), base_url=server.base_url)
    assert not list(tmp_path.rglob("escaped.bin"))


# --------------------------------------------------------------------------------------------
# model_digest


def test_model_digest_identifies_the_model_files(local_copy: Path, models_dir: Path) -> None:
    shared_json = models_dir / FLOAT_050.relpath
    copied_json = local_copy / FLOAT_050.relpath
    assert model_digest(shared_json) == model_digest(copied_json)
    assert model_digest(shared_json) != model_digest(models_dir / FLOAT_050_S8.relpath)
    flip_byte(copied_json.parent / SHARD)
    assert model_digest(shared_json) != model_digest(copied_json)
    assert len(model_digest(shared_json)) == 64


# --------------------------------------------------------------------------------------------
# vcamseg models list / fetch


@pytest.mark.usefixtures("_restore_logging")
def test_models_list_shows_local_variants(models_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "list", "--set", "model.quant_bytes=2", "--set", "model.multiplier=0.75"]) == 0
    out = capsys.readouterr().out
    rows: dict[str, str] = {}
    for line in out.splitlines():
        words = line.replace("*", " ").split()
        if words and words[0] in {v.key for v in all_variants()}:
            rows[words[0]] = line
    assert len(rows) == 24
    for variant in all_variants():
        line = rows[variant.key]
        if (models_dir / variant.relpath).exists():
            assert str(models_dir) in line and "MB" in line, line
        else:
            assert "missing" in line, line
    assert rows["mobilenet-075-quant2-s16"].startswith("*")
    assert sum(line.startswith("*") for line in rows.values()) == 1
    assert "2.7 MB" in rows["mobilenet-075-quant2-s16"]


@pytest.mark.usefixtures("_restore_logging", "no_local_models")
def test_models_fetch_downloads_into_the_cache(
    models_dir: Path, tmp_path: Path, serve: Callable[..., Server], capsys: pytest.CaptureFixture[str]
) -> None:
    server = serve(models_dir)
    cache = tmp_path / "fetch-cache"
    args = [
        "models",
        "fetch",
        "mobilenet-050-quant1-s8",
        "mobilenet-050-quant1-s16",
        "--base-url",
        server.base_url,
        "--no-progress",
        "--set",
        f"model.cache_dir={cache}",
    ]
    assert main(args) == 0
    out = capsys.readouterr().out
    folder = cache / "models/bodypix/mobilenet/quant1/050"
    assert f"{folder / 'model-stride8.json'}" in out
    assert f"{folder / 'model-stride16.json'}" in out
    assert f"{folder / SHARD}" in out
    assert sha256(folder / SHARD) == PINNED["bodypix/mobilenet/quant1/050/" + SHARD][1]

    server.stop()
    assert main(args) == 0  # everything cached: no network needed
    assert "already in the cache, verified" in capsys.readouterr().out


@pytest.mark.usefixtures("_restore_logging")
def test_models_fetch_of_a_local_variant_only_verifies(capsys: pytest.CaptureFixture[str], cache: Path) -> None:
    assert main(["models", "fetch", "--set", f"model.cache_dir={cache}"]) == 0
    assert "nothing to download" in capsys.readouterr().out
    assert not cache.exists()


@pytest.mark.usefixtures("_restore_logging")
def test_models_fetch_rejects_unknown_keys(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "fetch", "mobilenet-050-flaot-s16"]) == 2
    assert "did you mean mobilenet-050-float-s16" in capsys.readouterr().err


# --------------------------------------------------------------------------------------------
# Shards pinned by git blob id (the official files we could not hold)

FLOAT_075 = parse_variant_key("mobilenet-075-float-s16")


def _git_blob(path: Path) -> str:
    data = path.read_bytes()
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@pytest.fixture
def float_050_pinned_by_git_blob(models_dir: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The real float 0.50 shard pinned the way the shards we lack are: by size and git blob id
    (shared/models/MANIFEST.md gives its id's first digits), its sha256 pin set aside."""
    relpath = f"{FLOAT_050.folder}/{SHARD}"
    blob = _git_blob(models_dir / relpath)
    assert blob.startswith("df6542f002c1")  # the id the public copy's git tree records
    monkeypatch.setitem(PINNED_GIT_BLOBS, relpath, (PINNED[relpath][0], blob))
    monkeypatch.delitem(PINNED, relpath)
    return blob


@pytest.mark.usefixtures("no_local_models")
def test_a_git_blob_pinned_shard_is_accepted_without_trust_on_first_use(
    float_050_pinned_by_git_blob: str,
    mirror: Path,
    cache: Path,
    serve: Callable[..., Server],
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = serve(mirror)
    cfg = config(FLOAT_050, cache)
    with caplog.at_level(logging.WARNING, logger="vcamseg.models.store"):
        path = resolve_model(cfg, base_url=server.base_url)
    assert "no pinned checksum" not in caplog.text
    assert not (models_cache_dir(cfg) / CHECKSUMS_FILE).exists()  # nothing trusted, nothing recorded
    assert _git_blob(path.parent / SHARD) == float_050_pinned_by_git_blob
    flip_byte(path.parent / SHARD)  # damaged in the cache: found by the git blob id, deleted, reported
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="vcamseg.models.store"), pytest.raises(ModelError, match="damaged"):
        resolve_model(config(FLOAT_050, cache, download=False))
    assert f"deleting damaged cached file {path.parent / SHARD}" in caplog.text
    assert f"but should be {float_050_pinned_by_git_blob}" in caplog.text
    assert not (path.parent / SHARD).exists()


@pytest.mark.usefixtures("no_local_models")
def test_a_git_blob_pinned_shard_with_one_byte_flipped_is_refused(
    float_050_pinned_by_git_blob: str, mirror: Path, cache: Path, serve: Callable[..., Server]
) -> None:
    shard = mirror / FLOAT_050.folder / SHARD
    flip_byte(shard)
    server = serve(mirror)
    cfg = config(FLOAT_050, cache)
    with pytest.raises(DownloadError) as info:
        resolve_model(cfg, base_url=server.base_url)
    text = str(info.value)
    assert f"{server.base_url}{FLOAT_050.folder}/{SHARD} failed verification" in text
    assert f"git blob id is {_git_blob(shard)} but should be {float_050_pinned_by_git_blob}" in text
    assert "fix: the file was altered on the way or on the server" in text
    assert f"download each file by hand from {OFFICIAL_URL}" in text  # and where to put it
    root = models_cache_dir(cfg)
    assert not (root / FLOAT_050.folder / SHARD).exists() and leftovers(root) == []
    assert not (root / CHECKSUMS_FILE).exists()


def test_a_git_blob_pinned_local_shard_with_one_byte_flipped_is_a_clear_error(
    float_050_pinned_by_git_blob: str, local_copy: Path, cache: Path
) -> None:
    shard = local_copy / FLOAT_050.folder / SHARD
    flip_byte(shard)
    with pytest.raises(ModelError) as info:
        resolve_local(local_copy, cache)
    text = str(info.value)
    assert str(shard) in text and f"should be {float_050_pinned_by_git_blob}" in text and "fix:" in text


@pytest.mark.usefixtures("no_local_models")
def test_an_official_shard_we_lack_is_checked_against_its_pin_not_trusted(
    models_dir: Path, tmp_path: Path, cache: Path, serve: Callable[..., Server]
) -> None:
    """MobileNet 0.75 float as a mirror would serve it with a damaged first shard: its real official
    model.json (sha256-pinned) is accepted, the shard is refused by its pinned git blob id, named,
    and not kept, and nothing is recorded for trust on first use."""
    root = tmp_path / "mirror"
    folder = root / FLOAT_075.folder
    folder.mkdir(parents=True)
    for stride in (8, 16):
        name = f"model-stride{stride}.json"
        shutil.copyfile(models_dir / "bodypix-topology-only" / "mobilenet" / "float" / "075" / name, folder / name)
    first, second = f"{FLOAT_075.folder}/group1-shard1of2.bin", f"{FLOAT_075.folder}/group1-shard2of2.bin"
    # Stand-ins of the exact official sizes (the real bytes are not in shared/models).
    (root / first).write_bytes(bytes(PINNED_GIT_BLOBS[first][0]))
    (root / second).write_bytes(bytes(PINNED_GIT_BLOBS[second][0]))
    server = serve(root)
    cfg = config(FLOAT_075, cache)
    with pytest.raises(DownloadError) as info:
        resolve_model(cfg, base_url=server.base_url)
    text = str(info.value)
    assert f"{server.base_url}{first} failed verification" in text
    assert f"should be {PINNED_GIT_BLOBS[first][1]}" in text and "fix:" in text
    cached = models_cache_dir(cfg)
    assert sha256(cached / FLOAT_075.relpath) == PINNED[FLOAT_075.relpath][1]  # the pinned JSON is kept
    assert not (cached / first).exists() and leftovers(cached) == []
    assert not (cached / CHECKSUMS_FILE).exists()


@pytest.mark.usefixtures("no_local_models")
def test_an_official_model_json_that_differs_is_refused(
    models_dir: Path, tmp_path: Path, cache: Path, serve: Callable[..., Server]
) -> None:
    folder = tmp_path / "mirror" / FLOAT_075.folder
    folder.mkdir(parents=True)
    json_file = folder / "model-stride16.json"
    shutil.copyfile(models_dir / "bodypix-topology-only" / "mobilenet" / "float" / "075" / json_file.name, json_file)
    flip_byte(json_file, offset=200)
    server = serve(tmp_path / "mirror")
    with pytest.raises(DownloadError, match="sha256") as info:
        resolve_model(config(FLOAT_075, cache), base_url=server.base_url)
    assert f"{FLOAT_075.relpath} should be {PINNED[FLOAT_075.relpath][1]}" in str(info.value)
