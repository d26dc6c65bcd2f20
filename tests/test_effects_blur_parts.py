"""``blur_parts`` (blurBodyPart) on real images: only the chosen parts (default: the face) are
blurred, with CIHP's hand labels and with the real model's part map."""

from __future__ import annotations

import csv
from pathlib import Path

import cv2
import numpy as np

from vcamseg.body import BACKGROUND, part_id
from vcamseg.config import Config
from vcamseg.config.effects import BlurPartsConfig
from vcamseg.config.mask import MaskConfig
from vcamseg.effects.blur_parts import BlurPartsEffect
from vcamseg.effects.compositor import Compositor
from vcamseg.pipeline.builder import segmenter_for
from vcamseg.segmentation.result import Segmentation

# CIHP palette colours (RGB, parts/LABELS.md) of the head labels -> BodyPix face parts.
HEAD = {(255, 0, 0): "left_face", (0, 0, 255): "right_face"}  # hair, face
TORSO = {rgb: "torso_front" for rgb in ((255, 85, 0), (0, 0, 85), (0, 119, 221), (85, 51, 0))}  # clothes, skin


def _cihp(data_dir: Path, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    image = cv2.imread(str(data_dir / "images" / "cihp_multiperson" / f"{name}.jpg"))
    mask = cv2.imread(str(data_dir / "masks" / "cihp_multiperson" / f"{name}.png"), cv2.IMREAD_GRAYSCALE) > 127
    colours = cv2.imread(str(data_dir / "parts" / "cihp_multiperson" / f"{name}.png"), cv2.IMREAD_COLOR)
    ids = np.full(mask.shape, BACKGROUND, np.uint8)
    ids[mask] = part_id("left_upper_leg_front")  # any other part
    for rgb, name_ in {**HEAD, **TORSO}.items():
        ids[(colours == rgb[::-1]).all(axis=2)] = part_id(name_)
    return image, mask, ids


def _distance_to(region: np.ndarray) -> np.ndarray:
    return cv2.distanceTransform((~region).astype(np.uint8), cv2.DIST_L2, 5)


def _detail(image: np.ndarray) -> np.ndarray:
    return np.abs(cv2.Laplacian(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), cv2.CV_32F))


def test_only_the_faces_are_blurred(data_dir: Path) -> None:
    image, mask, ids = _cihp(data_dir, "0000026")
    seg = Segmentation.from_arrays(mask, part_ids=ids)
    seg = seg.with_alpha(mask.astype(np.uint8) * 255)
    config = BlurPartsConfig()
    out = BlurPartsEffect(config).apply(image.copy(), seg)[0]
    faces = np.isin(ids, [part_id("left_face"), part_id("right_face")])
    reach = config.grow_px + config.edge_blur + 2
    far = _distance_to(faces) > reach
    np.testing.assert_array_equal(out[far], image[far])
    assert (mask & far).sum() > 0.5 * mask.sum()  # the rest of the people is really untouched
    core = cv2.erode(faces.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    assert _detail(out)[core].mean() < 0.5 * _detail(image)[core].mean()


def test_chosen_parts_instead_of_the_face(data_dir: Path) -> None:
    image, mask, ids = _cihp(data_dir, "0000026")
    seg = Segmentation.from_arrays(mask, part_ids=ids)
    seg = seg.with_alpha(mask.astype(np.uint8) * 255)
    config = BlurPartsConfig(parts=["torso_front"], grow_px=0, edge_blur=0)
    out = BlurPartsEffect(config).apply(image.copy(), seg)[0]
    torso = ids == part_id("torso_front")
    faces = np.isin(ids, [part_id("left_face"), part_id("right_face")])
    assert torso.any() and faces.any()
    np.testing.assert_array_equal(out[~torso], image[~torso])
    assert (out[torso] != image[torso]).any(axis=1).mean() > 0.5


def test_faces_blurred_with_the_real_model(data_dir: Path, models_dir: Path) -> None:
    """Real portraits through the real model and the compositor: the face parts the model finds
    are blurred, the torso far below them is not touched."""
    cfg = Config()
    segmenter = segmenter_for(
        cfg.model,
        cfg.segmentation,
        model_json=models_dir / "bodypix" / "mobilenet" / "float" / "050" / "model-stride16.json",
    )
    with (data_dir / "index.csv").open(newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["source"] == "supervisely_person"][:3]
    compositor = Compositor(MaskConfig(), [BlurPartsConfig()])
    for row in rows:
        image = cv2.imread(str(data_dir / row["image"]))
        seg = segmenter.segment(image)
        faces = np.isin(seg.part_ids, [part_id("left_face"), part_id("right_face")])
        assert faces.sum() > 500
        out = compositor.apply(image.copy(), seg)
        far = _distance_to(faces) > 20
        np.testing.assert_array_equal(out[far], image[far])
        core = cv2.erode(faces.astype(np.uint8), np.ones((9, 9), np.uint8)) > 0
        assert _detail(out)[core].mean() < 0.6 * _detail(image)[core].mean()
