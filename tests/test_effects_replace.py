"""``replace`` on a real image with its ground-truth mask: the background becomes the colour,
picture or looping video exactly, the person stays as they were."""

from __future__ import annotations

import csv
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from vcamseg.config.effects import ReplaceConfig
from vcamseg.config.mask import MaskConfig
from vcamseg.effects.compositor import Compositor
from vcamseg.effects.kernels.fitting import fit_to
from vcamseg.effects.replace import ReplaceEffect
from vcamseg.segmentation.result import Segmentation


@pytest.fixture(scope="module")
def person(data_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    with (data_dir / "index.csv").open(newline="") as fh:
        row = next(r for r in csv.DictReader(fh) if r["source"] == "supervisely_person")
    image = cv2.imread(str(data_dir / row["image"]))
    mask = cv2.imread(str(data_dir / row["mask"]), cv2.IMREAD_GRAYSCALE) > 127
    return image, mask


def _with_matte(mask: np.ndarray) -> Segmentation:
    seg = Segmentation.from_arrays(mask)
    seg = seg.with_alpha(mask.astype(np.uint8) * 255)
    return seg


def _other_image(data_dir: Path) -> Path:
    return next((data_dir / "images" / "voc2011_labelme").glob("*.jpg"))


def test_color_fills_the_background_exactly(person: tuple[np.ndarray, np.ndarray]) -> None:
    image, mask = person
    out = ReplaceEffect(ReplaceConfig(color=[0, 177, 64])).apply(image.copy(), _with_matte(mask))[0]
    assert (out[~mask] == (64, 177, 0)).all()  # BGR of the RGB chroma green
    np.testing.assert_array_equal(out[mask], image[mask])


def test_named_chroma_green_is_the_keying_green(person: tuple[np.ndarray, np.ndarray]) -> None:
    assert ReplaceConfig(color="chroma_green").color == (0, 177, 64)
    assert ReplaceConfig(color="#00B140").color == (0, 177, 64)


@pytest.mark.parametrize("fit", ["cover", "contain", "stretch"])
def test_image_background_is_the_fitted_picture(
    person: tuple[np.ndarray, np.ndarray], data_dir: Path, fit: str
) -> None:
    image, mask = person
    path = _other_image(data_dir)
    effect = ReplaceEffect(ReplaceConfig(image=path, fit=fit))
    out = effect.apply(image.copy(), _with_matte(mask))[0]
    expected = fit_to(cv2.imread(str(path)), (image.shape[1], image.shape[0]), fit)  # type: ignore[arg-type]
    np.testing.assert_array_equal(out[~mask], expected[~mask])
    np.testing.assert_array_equal(out[mask], image[mask])
    prepared = effect.background(*image.shape[:2])
    effect.apply(image.copy(), _with_matte(mask))
    assert effect.background(*image.shape[:2]) is prepared  # fitted once, reused for every frame of this size


def test_fit_modes_keep_or_ignore_the_aspect_ratio(data_dir: Path) -> None:
    picture = cv2.imread(str(_other_image(data_dir)))  # landscape
    h, w = picture.shape[:2]
    portrait = (200, 400)
    cover = fit_to(picture, portrait, "cover")
    # cover = the centre crop of the frame's aspect, resized.
    crop_w = round(h * portrait[0] / portrait[1])
    x0 = (w - crop_w) // 2
    centre = cv2.resize(picture[:, x0 : x0 + crop_w], portrait, interpolation=cv2.INTER_AREA)
    assert np.abs(cover.astype(int) - centre).mean() < 1.0
    contain = fit_to(picture, portrait, "contain")
    rows_with_picture = np.flatnonzero(contain.max(axis=(1, 2)) > 0)
    assert (contain[: rows_with_picture[0]] == 0).all() and rows_with_picture[0] > 50  # letterbox bars
    assert fit_to(picture, portrait, "stretch").shape == (400, 200, 3)


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self.now


def _decoded(path: Path, count: int) -> list[np.ndarray]:
    capture = cv2.VideoCapture(str(path))
    frames = [capture.read()[1] for _ in range(count)]
    capture.release()
    return frames


def _wait_for(condition, timeout: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, "background video decoder did not catch up"
        time.sleep(0.005)


def test_video_background_follows_the_wall_clock_and_loops(
    person: tuple[np.ndarray, np.ndarray], data_dir: Path
) -> None:
    """A 23-frame clip at 12.5 fps: frame k is shown from k/12.5 s on, and after the last frame it
    starts over. The clock is simulated; decoding runs on the effect's own thread."""
    image, mask = person
    path = data_dir / "videos" / "intel_headpose_female.mp4"
    size = (image.shape[1], image.shape[0])
    frames = [fit_to(f, size, "cover") for f in _decoded(path, 23)]
    clock = FakeClock()
    effect = ReplaceEffect(ReplaceConfig(video=path))
    video = effect.video
    assert video is not None
    video.clock = clock
    try:

        def background_at(seconds: float, index: int) -> np.ndarray:
            clock.now = seconds
            _wait_for(lambda: video.index >= index)
            out = effect.apply(image.copy(), _with_matte(mask))[0]
            np.testing.assert_array_equal(out[mask], image[mask])
            return out[~mask]

        np.testing.assert_array_equal(background_at(0.0, 0), frames[0][~mask])
        np.testing.assert_array_equal(background_at(5 / 12.5, 5), frames[5][~mask])
        np.testing.assert_array_equal(background_at(5.5 / 12.5, 5), frames[5][~mask])  # not yet frame 6
        np.testing.assert_array_equal(background_at((23 + 3) / 12.5, 26), frames[3][~mask])
        assert video.frames_per_loop == 23
        assert video.decoding
    finally:
        effect.close()
    assert not video.decoding


def test_compositor_close_stops_the_video_thread(person: tuple[np.ndarray, np.ndarray], data_dir: Path) -> None:
    image, mask = person
    config = ReplaceConfig(video=data_dir / "videos" / "intel_asl_again.mp4")
    compositor = Compositor(MaskConfig(), [config])
    compositor.apply(image.copy(), Segmentation.from_arrays(mask))
    effect = compositor.effects[0]
    assert isinstance(effect, ReplaceEffect) and effect.video is not None
    assert effect.video.decoding
    compositor.close()
    assert not effect.video.decoding
