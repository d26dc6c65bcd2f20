"""vcamseg.io.media: one list of image suffixes for sources and outputs, THE image loader (what
it converts, and the errors it gives), and FOURCC codes as text."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from vcamseg.errors import InputError
from vcamseg.io.media import IMAGE_SUFFIXES, fourcc_text, read_image
from vcamseg.io.sinks import sink_kind
from vcamseg.io.sources import source_kind

pytestmark = pytest.mark.pure  # no ../shared, no TensorFlow


@pytest.mark.parametrize("suffix", sorted(IMAGE_SUFFIXES))
def test_sources_and_outputs_agree_on_what_an_image_is(suffix: str) -> None:
    for name in (f"frame{suffix}", f"FRAME{suffix.upper()}"):
        assert source_kind(name) == "image" and sink_kind(name) == "image", name


def test_pgm_is_an_image_for_outputs_too() -> None:
    # The sources' list had .pgm and the outputs' did not (an output x.pgm became a video): one list.
    assert sink_kind("x.pgm") == "image" and source_kind("x.pgm") == "image"


def _written(tmp_path: Path, name: str, image: np.ndarray) -> Path:
    path = tmp_path / name
    assert cv2.imwrite(str(path), image)
    return path


def test_a_colour_image_reads_as_written(tmp_path: Path) -> None:
    colour = np.random.default_rng(1).integers(0, 256, (12, 16, 3), dtype=np.uint8)
    image = read_image(_written(tmp_path, "c.png", colour))
    assert image.dtype == np.uint8 and np.array_equal(image, colour)


def test_grey_alpha_and_16_bit_images_become_bgr_uint8(tmp_path: Path) -> None:
    grey = np.tile(np.arange(0, 256, 16, dtype=np.uint8), (6, 1))
    image = read_image(_written(tmp_path, "g.png", grey))
    assert image.shape == (6, 16, 3) and all(np.array_equal(image[..., c], grey) for c in range(3))

    bgra = np.zeros((6, 8, 4), np.uint8)
    bgra[..., :3] = (10, 120, 240)
    bgra[..., 3] = np.arange(8, dtype=np.uint8) * 30  # transparency is dropped, not composited
    image = read_image(_written(tmp_path, "a.png", bgra))
    assert image.shape == (6, 8, 3) and (image == (10, 120, 240)).all()

    deep = np.tile(np.array([0, 255, 256, 40000, 65535], np.uint16), (4, 1))
    image = read_image(_written(tmp_path, "d.png", deep))
    assert image.dtype == np.uint8 and image.shape == (4, 5, 3)
    assert image[0, :, 0].tolist() == [0, 0, 1, 156, 255], "16-bit keeps its high byte"


def test_an_image_that_is_no_picture_names_the_file_and_the_fix(tmp_path: Path) -> None:
    for name, content in (("notes.jpg", b"not an image"), ("empty.png", b"")):
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(InputError) as info:
            read_image(path)
        assert str(path) in info.value.message and "not a readable image" in info.value.message
        assert "PNG" in info.value.fix
    with pytest.raises(InputError, match="does not exist") as info:
        read_image(tmp_path / "missing.png")
    assert str(tmp_path / "missing.png") in info.value.message and info.value.fix
    with pytest.raises(InputError, match="cannot be read") as info:
        read_image(tmp_path)  # a folder
    assert info.value.fix


def test_fourcc_codes_read_as_text() -> None:
    assert fourcc_text(cv2.VideoWriter.fourcc(*"MJPG")) == "MJPG"
    assert fourcc_text(0x56595559) == "YUYV"
    assert fourcc_text(cv2.VideoWriter.fourcc(*"Y16 ")) == "Y16", "the padding is not part of the name"
    assert fourcc_text(0) == "?", "OpenCV reports 0 for a format it does not know"
