"""``parts`` (drawMask with the coloured part map) on real CIHP images: CIHP's hand-labelled
parts mapped to BodyPix ids for exact expectations, and the real model in multi-person mode
for the per-person hues."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from tf_bodypix.bodypix_js_utils.output_rendering_util import RAINBOW_PART_COLORS

from vcamseg.body import BACKGROUND, PALETTES, RAINBOW, part_id
from vcamseg.config import Config
from vcamseg.config.effects import PartsConfig
from vcamseg.effects.part_colors import PartsEffect
from vcamseg.pipeline.builder import segmenter_for
from vcamseg.segmentation.result import Segmentation
from vcamseg.segmentation.segmenter import Segmenter

# CIHP label -> the BodyPix part covering most of it (CIHP has no left/right face, no front/back).
CIHP_TO_BODYPIX = {
    1: "left_face",
    2: "left_face",
    4: "right_face",
    13: "right_face",
    5: "torso_front",
    6: "torso_front",
    7: "torso_front",
    10: "torso_front",
    11: "torso_front",
    3: "left_hand",
    14: "left_upper_arm_front",
    15: "right_upper_arm_front",
    9: "left_upper_leg_front",
    12: "left_upper_leg_front",
    16: "left_lower_leg_front",
    17: "right_lower_leg_front",
    8: "left_foot",
    18: "left_foot",
    19: "right_foot",
}


# The part PNGs are palettised with these RGB colours (parts/LABELS.md); OpenCV expands palettes,
# so the class ids are recovered by colour.
CIHP_PALETTE = (
    (0, 0, 0),
    (128, 0, 0),
    (255, 0, 0),
    (0, 85, 0),
    (170, 0, 51),
    (255, 85, 0),
    (0, 0, 85),
    (0, 119, 221),
    (85, 85, 0),
    (0, 85, 85),
    (85, 51, 0),
    (52, 86, 128),
    (0, 128, 0),
    (0, 0, 255),
    (51, 170, 221),
    (0, 255, 255),
    (85, 255, 170),
    (170, 255, 85),
    (255, 255, 0),
    (255, 170, 0),
)


def _cihp(data_dir: Path, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Image, person mask and BodyPix part ids (255 = background) from CIHP's labels."""
    image = cv2.imread(str(data_dir / "images" / "cihp_multiperson" / f"{name}.jpg"))
    colours = cv2.imread(str(data_dir / "parts" / "cihp_multiperson" / f"{name}.png"), cv2.IMREAD_COLOR)
    ids = np.full(colours.shape[:2], BACKGROUND, np.uint8)
    for cihp, bodypix in CIHP_TO_BODYPIX.items():
        ids[(colours == CIHP_PALETTE[cihp][::-1]).all(axis=2)] = part_id(bodypix)
    return image, ids != BACKGROUND, ids


def _segmentation(mask: np.ndarray, ids: np.ndarray) -> Segmentation:
    seg = Segmentation.from_arrays(mask, part_ids=ids)
    seg = seg.with_alpha(mask.astype(np.uint8) * 255)
    return seg


def _expected(image: np.ndarray, color_rgb: tuple[int, int, int], opacity: float) -> np.ndarray:
    bgr = np.array(color_rgb[::-1], np.float32)
    return image.astype(np.float32) * (1 - opacity) + bgr * opacity


def test_rainbow_is_bodypix_rainbow() -> None:
    assert [tuple(c) for c in RAINBOW_PART_COLORS] == list(RAINBOW)
    assert all(len(p) == 24 for p in PALETTES.values())


@pytest.mark.parametrize("palette", ["rainbow", "warm", "spectral"])
def test_each_part_gets_its_palette_colour_at_the_opacity(data_dir: Path, palette: str) -> None:
    image, mask, ids = _cihp(data_dir, "0000026")
    opacity = 0.7
    out = PartsEffect(PartsConfig(palette=palette, opacity=opacity)).apply(image.copy(), _segmentation(mask, ids))[0]
    colors = PALETTES[palette]
    present = [p for p in np.unique(ids) if p != BACKGROUND]
    assert len(present) >= 6
    for part in present:
        where = ids == part
        expected = _expected(image, colors[part], opacity)
        assert np.abs(out[where].astype(np.float32) - expected[where]).max() <= 2.0
    np.testing.assert_array_equal(out[~mask], image[~mask])


def test_custom_palette_and_part_selection(data_dir: Path) -> None:
    image, mask, ids = _cihp(data_dir, "0000026")
    custom = [[i * 10, 255 - i * 10, 128] for i in range(24)]
    config = PartsConfig(palette=custom, opacity=1.0, parts=["torso_front", "left_face"])
    out = PartsEffect(config).apply(image.copy(), _segmentation(mask, ids))[0]
    for name in ("torso_front", "left_face"):
        where = ids == part_id(name)
        assert where.any()
        assert (out[where] == custom[part_id(name)][::-1]).all()
    others = mask & ~np.isin(ids, [part_id("torso_front"), part_id("left_face")])
    assert others.any()
    np.testing.assert_array_equal(out[others], image[others])


def test_mask_blur_softens_the_coloured_mask(data_dir: Path) -> None:
    image, mask, ids = _cihp(data_dir, "0000026")
    sharp = PartsEffect(PartsConfig(opacity=1.0)).apply(image.copy(), _segmentation(mask, ids))[0]
    blurred = PartsEffect(PartsConfig(opacity=1.0, mask_blur=6)).apply(image.copy(), _segmentation(mask, ids))[0]
    outside = cv2.dilate(mask.astype(np.uint8), np.ones((7, 7), np.uint8)).astype(bool) & ~mask
    assert np.abs(blurred.astype(int) - image)[outside].mean() > 5  # colour reaches past the outline
    np.testing.assert_array_equal(sharp[outside], image[outside])
    core = cv2.erode((ids == part_id("torso_front")).astype(np.uint8), np.ones((31, 31), np.uint8)) > 0
    assert core.any()
    # Deep inside a part the colour is the palette colour, not darkened by the blur.
    assert np.abs(blurred[core].astype(int) - RAINBOW[part_id("torso_front")][::-1]).max() <= 3


def test_without_a_part_map_the_picture_is_unchanged(data_dir: Path) -> None:
    image, mask, _ = _cihp(data_dir, "0000026")
    out = PartsEffect(PartsConfig()).apply(image.copy(), Segmentation.from_arrays(mask))[0]
    np.testing.assert_array_equal(out, image)


@pytest.fixture(scope="module")
def multi_person_segmenter(models_dir: Path) -> Segmenter:
    cfg = Config()
    cfg.segmentation.multi_person = True
    model = models_dir / "bodypix" / "mobilenet" / "float" / "050" / "model-stride16.json"
    return segmenter_for(cfg.model, cfg.segmentation, model_json=model)


def test_per_person_colours_give_each_person_a_hue(data_dir: Path, multi_person_segmenter: Segmenter) -> None:
    """The real model in multi-person mode on a CIHP photo of two people: each person's pixels
    are drawn in one hue, different between the people, with parts shaded within it."""
    image = cv2.imread(str(data_dir / "images" / "cihp_multiperson" / "0000026.jpg"))
    seg = multi_person_segmenter.segment(image)
    assert seg.person_count == 2
    out = PartsEffect(PartsConfig(per_person=True, opacity=1.0)).apply(image.copy(), seg)[0]
    hsv = cv2.cvtColor(out, cv2.COLOR_BGR2HSV_FULL)
    hues = []
    for person in seg.person_masks:
        core = cv2.erode(person.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
        core &= seg.alpha == 255
        assert core.sum() > 500
        person_hues = hsv[..., 0][core].astype(int)
        dominant = np.bincount(person_hues, minlength=256).argmax()
        circular = np.minimum(np.abs(person_hues - dominant), 256 - np.abs(person_hues - dominant))
        assert (circular <= 3).mean() > 0.95  # one hue per person
        assert len(np.unique(out[core], axis=0)) >= 3  # parts shaded differently
        hues.append(int(dominant))
    gap = abs(hues[0] - hues[1])
    assert min(gap, 256 - gap) > 40
