"""``blur`` (drawBokehEffect) on real images with their ground-truth masks: the background is
blurred, the person is untouched, and no halo of the person's colours surrounds them."""

from __future__ import annotations

import csv
from pathlib import Path

import cv2
import numpy as np
import pytest

from vcamseg.config import load_config
from vcamseg.config.effects import BlurConfig
from vcamseg.effects.blur import BlurEffect
from vcamseg.effects.compositor import Compositor
from vcamseg.segmentation.result import Segmentation


def _portraits(data_dir: Path, count: int) -> list[tuple[np.ndarray, np.ndarray]]:
    with (data_dir / "index.csv").open(newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["source"] == "supervisely_person"][:count]
    return [
        (cv2.imread(str(data_dir / r["image"])), cv2.imread(str(data_dir / r["mask"]), cv2.IMREAD_GRAYSCALE) > 127)
        for r in rows
    ]


def _in_room(data_dir: Path, count: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Real people (ground-truth masks) pasted on a real, detailed empty room: the portraits'
    own backgrounds are photographic bokeh already, with no detail left to blur."""
    out = []
    for image, mask in _portraits(data_dir, count):
        room = _empty_room(data_dir, (mask.shape[1], mask.shape[0]))
        out.append((np.where(mask[..., None], image, room), mask))
    return out


def _empty_room(data_dir: Path, size: tuple[int, int]) -> np.ndarray:
    capture = cv2.VideoCapture(str(data_dir / "videos" / "intel_one_by_one_person.mp4"))
    ok, room = capture.read()  # the clip starts before anyone walks in
    capture.release()
    assert ok
    return cv2.resize(room, size)


def _with_matte(mask: np.ndarray) -> Segmentation:
    """A segmentation whose matte is exactly the ground truth (the effect alone under test)."""
    seg = Segmentation.from_arrays(mask)
    seg = seg.with_alpha(mask.astype(np.uint8) * 255)
    return seg


def _distance_outside(mask: np.ndarray) -> np.ndarray:
    return cv2.distanceTransform((~mask).astype(np.uint8), cv2.DIST_L2, 5)


def _error(a: np.ndarray, b: np.ndarray, where: np.ndarray) -> float:
    return float(np.abs(a.astype(np.float32) - b.astype(np.float32))[where].mean())


def test_background_is_blurred_as_specified_and_person_is_unchanged(data_dir: Path) -> None:
    """Away from the person the result is the requested Gaussian blur (computed at reduced
    resolution, so within a few grey levels); inside the person every pixel is kept exactly."""
    for image, mask in _in_room(data_dir, 3):
        far = _distance_outside(mask) > 3 * 15
        inside = cv2.erode(mask.astype(np.uint8), np.ones((9, 9), np.uint8)) > 0
        results = {}
        for sigma in (5.0, 15.0, 30.0):
            out = BlurEffect(BlurConfig(background_blur=sigma, edge_blur=3)).apply(image.copy(), _with_matte(mask))[0]
            np.testing.assert_array_equal(out[inside], image[inside])
            results[sigma] = out
        for sigma, out in results.items():
            errors = {s: _error(out, cv2.GaussianBlur(image, (0, 0), s), far) for s in results}
            assert errors[sigma] < 2.5
            assert min(errors, key=errors.__getitem__) == sigma
            assert _error(out, image, far) > 2 * errors[sigma]


def test_no_halo_around_the_person(data_dir: Path) -> None:
    """A real person pasted on a real empty room, so the true background behind them is known:
    next to the outline our blur stays close to the blurred room, while a plain full-frame blur
    composited under the person takes on the person's colours (the OBS halo)."""
    sigma = 15
    for image, mask in _portraits(data_dir, 4):
        room = _empty_room(data_dir, (mask.shape[1], mask.shape[0]))
        composite = np.where(mask[..., None], image, room)
        ideal = cv2.GaussianBlur(room, (0, 0), sigma).astype(np.float32)
        ours = BlurEffect(BlurConfig(background_blur=sigma, edge_blur=0)).apply(composite.copy(), _with_matte(mask))[0]
        naive = np.where(mask[..., None], composite, cv2.GaussianBlur(composite, (0, 0), sigma))
        ring = (_distance_outside(mask) >= 2) & (_distance_outside(mask) <= 20)
        ours_error = np.abs(ours.astype(np.float32) - ideal)[ring].mean()
        naive_error = np.abs(naive.astype(np.float32) - ideal)[ring].mean()
        assert naive_error > 9.0  # the halo is real here
        assert ours_error < 0.5 * naive_error
        assert ours_error < 8.0


def test_edge_blur_softens_only_the_outline(data_dir: Path) -> None:
    image, mask = _in_room(data_dir, 1)[0]
    hard = BlurEffect(BlurConfig(edge_blur=0)).apply(image.copy(), _with_matte(mask))[0]
    soft = BlurEffect(BlurConfig(edge_blur=6)).apply(image.copy(), _with_matte(mask))[0]
    near = (_distance_outside(mask) <= 5) & ~mask
    far = _distance_outside(mask) > 10
    assert _error(hard, soft, near) > 2.0
    np.testing.assert_array_equal(hard[far], soft[far])


@pytest.mark.parametrize("size", [(1280, 720), (333, 251)])
def test_default_config_blurs_through_the_compositor(data_dir: Path, size: tuple[int, int]) -> None:
    """The default effect list (empty config) is the background blur, at any frame size."""
    image, mask = _in_room(data_dir, 1)[0]
    image = cv2.resize(image, size)
    mask = cv2.resize(mask.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST) > 0
    config = load_config(text="")
    compositor = Compositor(config.mask, config.effects)
    out = compositor.apply(image.copy(), Segmentation.from_arrays(mask))
    assert out.shape == image.shape and out.dtype == np.uint8
    far = _distance_outside(mask) > 45
    inside = cv2.erode(mask.astype(np.uint8), np.ones((41, 41), np.uint8)) > 0
    assert _error(out, cv2.GaussianBlur(image, (0, 0), 15), far) < 2.5
    # The refined matte is 254 here and there inside: within a grey level of the picture.
    assert np.abs(out.astype(int) - image)[inside].max() <= 1
