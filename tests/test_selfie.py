"""The MediaPipe selfie model beside BodyPix (model.selfie): the real files from
../shared/models/mediapipe, run through the stock TFLite interpreter after the custom-op rewrite,
blended into BodyPix's person scores on real portraits; where the files come from and what a bad
one gives."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.helpers import SHARED, flip_byte, iou, make_segmenter, rows
from tests.mirror import Server
from vcamseg.config import Config, load_config
from vcamseg.config.model import ModelConfig
from vcamseg.errors import ConfigError, DownloadError, ModelError
from vcamseg.imaging import shrink
from vcamseg.models import store
from vcamseg.models.catalogue import PINNED
from vcamseg.models.files import SELFIE_RELPATHS, selfie_kind_for
from vcamseg.models.selfie import fetch_selfie, official_url
from vcamseg.pipeline.builder import segmenter_for
from vcamseg.segmentation.segmenter import Segmenter
from vcamseg.segmentation.selfie import SelfieModel, blend

MEDIAPIPE = SHARED / "models" / "mediapipe"


def _portraits() -> list[tuple[np.ndarray, np.ndarray]]:
    return [
        (
            cv2.imread(str(SHARED / "data" / r["image"])),
            cv2.imread(str(SHARED / "data" / r["mask"]), cv2.IMREAD_GRAYSCALE) > 127,
        )
        for r in rows("supervisely_person")
    ]


def _bodypix_alone(both: Segmenter, image: np.ndarray) -> Segmenter:
    """``both`` without the selfie model, on the very same backend: with float inference,
    ``backend: auto`` times TF and TFLite and two segmenters could pick differently."""
    both.prepare(*image.shape[:2])
    return Segmenter(replace(both.model, selfie={}), both.config, backend=both.backend)


@pytest.fixture(scope="module")
def portraits() -> list[tuple[np.ndarray, np.ndarray]]:
    return _portraits()


@pytest.mark.parametrize("kind", ["general", "landscape"])
def test_the_rewritten_model_runs_on_stock_tflite_and_finds_the_person(
    kind: str, portraits: list[tuple[np.ndarray, np.ndarray]]
) -> None:
    path = SHARED / "models" / SELFIE_RELPATHS[kind]  # type: ignore[index]
    # The file's custom op (Convolution2DTransposeBias) is XNNPACK's to run.
    assert b"Convolution2DTransposeBias" in path.read_bytes()
    model = SelfieModel(path, threads=2)
    assert (model.height, model.width) == ((256, 256) if kind == "general" else (144, 256))
    ious = []
    for image, truth in portraits[:8]:
        scores = model.scores(image)
        assert scores.dtype == np.uint8 and scores.shape == (model.height, model.width)
        full = cv2.resize(scores, (image.shape[1], image.shape[0]), interpolation=cv2.INTER_LINEAR)
        ious.append(iou(full >= 128, truth))
    # Wrong input scaling or channel order, or the custom op run wrongly, would not match real
    # people this well.
    assert np.mean(ious) > 0.85, ious


def test_blending_the_selfie_model_improves_outlines_on_real_portraits(
    portraits: list[tuple[np.ndarray, np.ndarray]],
) -> None:
    both = make_segmenter(selfie="auto")
    alone = _bodypix_alone(both, portraits[0][0])
    assert both.model.selfie.keys() == {"general", "landscape"} and not alone.model.selfie
    gains = []
    for image, truth in portraits:
        gains.append(iou(both.segment(image).mask, truth) - iou(alone.segment(image).mask, truth))
    # Measured: +0.04 on these 23 images (README, "Person mask accuracy"), better on most of them.
    assert np.mean(gains) > 0.02, gains
    assert np.mean(np.array(gains) > 0) > 0.6, gains


def test_the_weight_moves_the_scores_from_bodypix_to_the_selfie_model(
    portraits: list[tuple[np.ndarray, np.ndarray]],
) -> None:
    image, _ = portraits[0]
    both = make_segmenter(selfie="auto")
    bodypix_alone = _bodypix_alone(both, image).segment(image).input_scores
    weight0 = both.reconfigured(both.config.model_copy(update={"selfie_weight": 0.0}))
    weight1 = both.reconfigured(both.config.model_copy(update={"selfie_weight": 1.0}))
    assert weight0.model is both.model  # a live weight change reloads nothing
    assert np.array_equal(weight0.segment(image).input_scores, bodypix_alone)
    selfie = both.model.selfie[selfie_kind_for("auto", *image.shape[:2])]
    small = shrink(image, bodypix_alone.shape[::-1], last=cv2.INTER_LINEAR)  # the model input, as made there
    expected = blend(bodypix_alone, selfie.scores(small), 1.0)
    assert np.abs(weight1.segment(image).input_scores.astype(int) - expected.astype(int)).max() <= 1
    # A pixel the selfie model alone calls person (BodyPix says no) stays background at 0.4.
    default = both.segment(image).input_scores
    selfie_only = (expected >= 230) & (bodypix_alone <= 25)
    if selfie_only.any():
        assert (default[selfie_only] < 128).all()


def test_auto_picks_the_model_by_the_frame_shape() -> None:
    assert selfie_kind_for("auto", 720, 1280) == "landscape"
    assert selfie_kind_for("auto", 480, 480) == "landscape"
    assert selfie_kind_for("auto", 1280, 720) == "general"
    assert selfie_kind_for("general", 720, 1280) == "general"


def test_config_reads_yaml_booleans_and_refuses_other_values() -> None:
    assert ModelConfig.model_validate({"selfie": False}).selfie == "off"
    assert ModelConfig.model_validate({"selfie": True}).selfie == "auto"
    assert ModelConfig.model_validate({"selfie": " Landscape "}).selfie == "landscape"
    with pytest.raises(ConfigError, match=r"model\.selfie"):
        load_config(overrides=["model.selfie=portrait"])


def test_the_pins_are_the_shared_files_and_the_npm_urls() -> None:
    for kind, relpath in SELFIE_RELPATHS.items():
        assert PINNED[relpath][0] == (SHARED / "models" / relpath).stat().st_size
        assert official_url(kind).startswith("https://cdn.jsdelivr.net/npm/@mediapipe/selfie_segmentation@")  # type: ignore[arg-type]
        assert official_url(kind).endswith("/" + Path(relpath).name)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# Where the file comes from, and bad files


@pytest.fixture
def model_dir(tmp_path: Path) -> Path:
    """A local model folder with the real BodyPix files and copies of the selfie files."""
    root = tmp_path / "models"
    (root / "mediapipe").mkdir(parents=True)
    (root / "bodypix").symlink_to(SHARED / "models" / "bodypix")
    for relpath in SELFIE_RELPATHS.values():
        (root / relpath).write_bytes((SHARED / "models" / relpath).read_bytes())
    return root


def test_a_corrupted_local_file_is_a_clear_error_naming_it(model_dir: Path) -> None:
    flip_byte(model_dir / SELFIE_RELPATHS["landscape"])
    cfg = Config.model_validate({"model": {"dir": str(model_dir), "precision": "float", "selfie": "auto"}})
    with pytest.raises(ModelError) as info:
        segmenter_for(cfg.model, cfg.segmentation)
    text = str(info.value)
    assert str(model_dir / SELFIE_RELPATHS["landscape"]) in text and "sha256" in text
    assert official_url("landscape") in text and "model.selfie: off" in text
    cfg.model.selfie = "general"  # type: ignore[assignment]
    assert segmenter_for(cfg.model, cfg.segmentation).model.selfie.keys() == {"general"}
    cfg.model.selfie = "off"  # type: ignore[assignment]
    assert segmenter_for(cfg.model, cfg.segmentation).model.selfie == {}


def test_a_file_that_is_not_a_tflite_model_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "selfie_segmentation.tflite"
    bad.write_bytes(b"<html>not found</html>")
    with pytest.raises(ModelError, match="is not a TFLite model that can run here") as info:
        SelfieModel(bad, threads=1)
    assert str(bad) in str(info.value)


@pytest.fixture
def no_local_models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ModelConfig:
    monkeypatch.setattr(store, "RETRY_DELAYS_S", (0.0, 0.0))
    monkeypatch.delenv(store.BASE_URL_ENV, raising=False)
    empty = tmp_path / "no-models"
    empty.mkdir()
    monkeypatch.setenv("VCAMSEG_MODEL_DIR", str(empty))
    return ModelConfig(cache_dir=tmp_path / "cache")


def test_download_from_a_mirror_verifies_and_caches(no_local_models: ModelConfig, serve: Callable[..., Server]) -> None:
    server = serve(SHARED / "models")
    fetched = fetch_selfie("landscape", no_local_models, base_url=server.base_url, progress=False)
    assert fetched.downloaded and fetched.path == store.models_cache_dir(no_local_models) / SELFIE_RELPATHS["landscape"]
    assert fetched.path.read_bytes() == (SHARED / "models" / SELFIE_RELPATHS["landscape"]).read_bytes()
    assert server.requests == ["/" + SELFIE_RELPATHS["landscape"]]
    server.stop()
    again = fetch_selfie("landscape", no_local_models.model_copy(update={"download": False}))
    assert again.path == fetched.path and not again.downloaded


def test_a_corrupted_download_fails_verification_and_is_not_kept(
    no_local_models: ModelConfig, serve: Callable[..., Server], tmp_path: Path
) -> None:
    mirror = tmp_path / "mirror"
    (mirror / "mediapipe").mkdir(parents=True)
    served = mirror / SELFIE_RELPATHS["general"]
    served.write_bytes((SHARED / "models" / SELFIE_RELPATHS["general"]).read_bytes())
    flip_byte(served)
    server = serve(mirror)
    with pytest.raises(DownloadError, match="sha256"):
        fetch_selfie("general", no_local_models, base_url=server.base_url, progress=False)
    assert not (store.models_cache_dir(no_local_models) / SELFIE_RELPATHS["general"]).exists()


def test_offline_without_the_file_says_where_to_put_it(no_local_models: ModelConfig) -> None:
    with pytest.raises(ModelError) as info:
        fetch_selfie("general", no_local_models.model_copy(update={"download": False}))
    text = str(info.value)
    assert "downloads are off" in text and official_url("general") in text and SELFIE_RELPATHS["general"] in text


@pytest.mark.usefixtures("_restore_logging")
def test_models_cli_lists_and_fetches_the_selfie_models(
    no_local_models: ModelConfig, serve: Callable[..., Server], capsys: pytest.CaptureFixture[str]
) -> None:
    from vcamseg.cli.main import main

    cache = f"model.cache_dir={no_local_models.cache_dir}"
    assert main(["models", "list", "--set", cache, "--set", "model.selfie=landscape"]) == 0
    listing = capsys.readouterr().out
    assert "* selfie-landscape  missing" in listing and "  selfie-general    missing" in listing
    server = serve(SHARED / "models")
    assert (
        main(["models", "fetch", "selfie-landscape", "--base-url", server.base_url, "--no-progress", "--set", cache])
        == 0
    )
    path = store.models_cache_dir(no_local_models) / SELFIE_RELPATHS["landscape"]
    assert f"selfie-landscape: downloaded\n  {path}" in capsys.readouterr().out
    assert main(["models", "list", "--set", cache]) == 0  # model.selfie: off, the default
    listing = capsys.readouterr().out
    assert "  selfie-landscape  cache  0.25 MB" in listing and "* selfie" not in listing
