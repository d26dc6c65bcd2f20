"""``mirror`` (frame and segmentation flipped together), ``mask`` (the segmentation shown) and
``none`` on a real CIHP image with ground-truth mask and part labels."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from vcamseg.body import BACKGROUND, RAINBOW
from vcamseg.config.effects import MaskViewConfig, MirrorConfig, NoneConfig, PartsConfig, PixelateConfig
from vcamseg.config.mask import MaskConfig
from vcamseg.effects.compositor import Compositor
from vcamseg.effects.mask_view import MaskViewEffect
from vcamseg.segmentation.result import Segmentation


@pytest.fixture(scope="module")
def sample(data_dir: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A real image, its mask, and part ids made from it (left half of each row of the person is
    one part, right half another: asymmetric, so a missed flip shows)."""
    image = cv2.imread(str(data_dir / "images" / "cihp_multiperson" / "0000047.jpg"))
    mask = cv2.imread(str(data_dir / "masks" / "cihp_multiperson" / "0000047.png"), cv2.IMREAD_GRAYSCALE) > 127
    ids = np.full(mask.shape, BACKGROUND, np.uint8)
    columns = np.arange(mask.shape[1])[None, :].repeat(mask.shape[0], 0)
    ids[mask & (columns < mask.shape[1] // 3)] = 0
    ids[mask & (columns >= mask.shape[1] // 3)] = 12
    return image, mask, ids


def _seg(mask: np.ndarray, ids: np.ndarray) -> Segmentation:
    return Segmentation.from_arrays(mask, part_ids=ids)


@pytest.mark.parametrize(
    "later",
    [
        [PartsConfig(opacity=1.0)],
        [MaskViewConfig(mode="parts")],
        [PixelateConfig(cell_size=8)],
        [MaskViewConfig(mode="person")],
    ],
)
def test_mirror_flips_the_frame_and_the_segmentation_together(
    sample: tuple[np.ndarray, np.ndarray, np.ndarray], later: list
) -> None:  # type: ignore[type-arg]
    """Mirroring first and drawing after gives the mirror image of drawing unmirrored: the
    effects after the mirror see the mirrored masks and part map."""
    image, mask, ids = sample
    mirrored_first = Compositor(MaskConfig(), [MirrorConfig(), *later]).apply(image.copy(), _seg(mask, ids))
    drawn_first = Compositor(MaskConfig(), [*later, MirrorConfig()]).apply(image.copy(), _seg(mask, ids))
    plain = Compositor(MaskConfig(), later).apply(image.copy(), _seg(mask, ids))
    np.testing.assert_array_equal(mirrored_first, cv2.flip(plain, 1))
    np.testing.assert_array_equal(drawn_first, cv2.flip(plain, 1))
    assert not np.array_equal(plain, cv2.flip(plain, 1))


def test_mirror_leaves_the_pipelines_segmentation_alone(sample: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    image, mask, ids = sample
    seg = _seg(mask, ids)
    Compositor(MaskConfig(), [MirrorConfig()]).apply(image.copy(), seg)
    np.testing.assert_array_equal(seg.part_ids, ids)
    assert seg.alpha[mask].mean() > 250 and seg.alpha[~mask].mean() < 5  # not flipped
    # Not changed at all: the refined matte went to a new result, this one keeps its mask's.
    assert not seg.has_matte
    np.testing.assert_array_equal(seg.alpha, mask.astype(np.uint8) * 255)


def test_mask_view_modes(sample: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    image, mask, ids = sample
    seg = _seg(mask, ids)
    seg = seg.with_alpha(mask.astype(np.uint8) * 255)
    person = MaskViewEffect(MaskViewConfig(mode="person")).apply(image.copy(), seg)[0]
    assert (person[mask] == 255).all() and (person[~mask] == 0).all()
    parts = MaskViewEffect(MaskViewConfig(mode="parts")).apply(image.copy(), seg)[0]
    assert (parts[ids == 0] == RAINBOW[0][::-1]).all()
    assert (parts[ids == 12] == RAINBOW[12][::-1]).all()
    assert (parts[~mask] == 0).all()
    # Without multi-person labels "people" falls back to the person matte.
    people = MaskViewEffect(MaskViewConfig(mode="people")).apply(image.copy(), seg)[0]
    np.testing.assert_array_equal(people, person)


def test_mask_view_people_colours_each_person(sample: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    image, mask, _ = sample
    labels = np.zeros(mask.shape, np.uint8)
    labels[mask] = 1
    labels[mask & (np.arange(mask.shape[1])[None, :] > mask.shape[1] // 2)] = 2
    seg = Segmentation.from_arrays(mask, people=labels)
    out = MaskViewEffect(MaskViewConfig(mode="people")).apply(image.copy(), seg)[0]
    first, second = out[labels == 1], out[labels == 2]
    assert (first == first[0]).all() and (second == second[0]).all()
    assert not np.array_equal(first[0], second[0])
    assert (out[~mask] == 0).all()


def test_none_passes_the_picture_through(sample: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    image, mask, ids = sample
    out = Compositor(MaskConfig(), [NoneConfig()]).apply(image.copy(), _seg(mask, ids))
    np.testing.assert_array_equal(out, image)
