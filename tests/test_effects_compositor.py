"""The compositor: refine then effects in order, live reload that keeps state, and frames whose
size no longer matches the segmentation."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from vcamseg.config import load_config
from vcamseg.config.effects import BlurConfig, PartsConfig, ReplaceConfig
from vcamseg.config.mask import MaskConfig
from vcamseg.effects.compositor import Compositor
from vcamseg.effects.replace import ReplaceEffect
from vcamseg.segmentation.result import Segmentation


@pytest.fixture(scope="module")
def sample(data_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    image = cv2.imread(str(data_dir / "images" / "cihp_multiperson" / "0000047.jpg"))
    mask = cv2.imread(str(data_dir / "masks" / "cihp_multiperson" / "0000047.png"), cv2.IMREAD_GRAYSCALE) > 127
    return image, mask


def test_effects_run_in_order_on_the_refined_matte(sample: tuple[np.ndarray, np.ndarray]) -> None:
    image, mask = sample
    green = ReplaceConfig(color=[0, 177, 64])
    blur = BlurConfig()
    green_then_blur = Compositor(MaskConfig(), [green, blur]).apply(image.copy(), Segmentation.from_arrays(mask))
    blur_then_green = Compositor(MaskConfig(), [blur, green]).apply(image.copy(), Segmentation.from_arrays(mask))
    far = cv2.distanceTransform((~mask).astype(np.uint8), cv2.DIST_L2, 5) > 60
    assert (blur_then_green[far] == (64, 177, 0)).all()
    assert np.abs(green_then_blur[far].astype(int) - (64, 177, 0)).max() <= 2  # a blurred flat green


def test_update_keeps_unchanged_effects_and_the_temporal_state(
    sample: tuple[np.ndarray, np.ndarray], data_dir: Path
) -> None:
    image, mask = sample
    video = ReplaceConfig(video=data_dir / "videos" / "intel_asl_again.mp4")
    compositor = Compositor(MaskConfig(), [video, PartsConfig()])
    compositor.apply(image.copy(), Segmentation.from_arrays(mask))
    player, parts = compositor.effects
    state = compositor.refiner.smoother.state
    assert state is not None

    compositor.update(MaskConfig(softness=0.3), [video, PartsConfig(opacity=0.2)])
    assert compositor.effects[0] is player  # the video keeps playing
    assert compositor.effects[1] is not parts
    assert compositor.refiner.config.softness == 0.3
    assert compositor.refiner.smoother.state is state

    assert isinstance(player, ReplaceEffect) and player.video is not None
    assert player.video.decoding
    compositor.update(MaskConfig(softness=0.3), [PartsConfig(opacity=0.2)])
    assert not player.video.decoding  # the removed effect was closed
    compositor.close()


def test_a_stale_segmentation_of_another_size_is_fitted_to_the_frame(sample: tuple[np.ndarray, np.ndarray]) -> None:
    """The camera changed resolution while the pipeline still holds the last result: the frame
    is composited with the result stretched to it, and the refiner restarts at the new size."""
    image, mask = sample
    compositor = Compositor(MaskConfig(), [ReplaceConfig(color=[0, 0, 0]), PartsConfig()])
    ids = np.where(mask, 12, 255).astype(np.uint8)
    seg = Segmentation.from_arrays(mask, part_ids=ids)
    compositor.apply(image.copy(), seg)
    bigger = cv2.resize(image, (832, 640))
    out = compositor.apply(bigger.copy(), seg)
    assert out.shape == bigger.shape
    big_mask = cv2.resize(mask.astype(np.uint8), (832, 640), interpolation=cv2.INTER_NEAREST) > 0
    far = cv2.distanceTransform((~big_mask).astype(np.uint8), cv2.DIST_L2, 5) > 40
    assert (out[far] == 0).all()


@pytest.mark.parametrize("size", [(17, 23), (481, 271), (1920, 1080)])
def test_every_effect_handles_odd_tiny_and_large_frames(
    sample: tuple[np.ndarray, np.ndarray], data_dir: Path, size: tuple[int, int]
) -> None:
    image, mask = sample
    frame = cv2.resize(image, size)
    person = cv2.resize(mask.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST) > 0
    ids = np.where(person, 0, 255).astype(np.uint8)
    ids[person & (np.arange(size[1])[:, None] > size[1] // 3)] = 12
    picture = next((data_dir / "images" / "voc2011_labelme").glob("*.jpg"))
    config = load_config(
        text=f"""
effects:
  - {{type: mirror}}
  - {{type: blur, background_blur: 40}}
  - {{type: replace, image: {picture}, fit: contain}}
  - {{type: blur, background_blur: 3}}
  - {{type: parts, mask_blur: 3}}
  - {{type: pixelate, cell_size: 7}}
  - {{type: blur_parts}}
  - {{type: mask, mode: parts}}
"""
    )
    for mask_config in (MaskConfig(), MaskConfig(edges="guided", dilate_px=2, feather_px=2), MaskConfig(edges="none")):
        compositor = Compositor(mask_config, config.effects)
        for _ in range(2):
            out = compositor.apply(frame.copy(), Segmentation.from_arrays(person, part_ids=ids))
            assert out.shape == frame.shape and out.dtype == np.uint8
