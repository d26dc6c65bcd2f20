"""The segmentation engine on real weights and real images."""

from __future__ import annotations

import re

import numpy as np
import pytest

from tests.helpers import SHARED, iou, load_pair, make_segmenter, mobilenet_json, rows
from vcamseg.body import BACKGROUND
from vcamseg.segmentation.geometry import Geometry, valid_size

PORTRAITS = rows("supervisely_person")[:8]
# Measured mean IoU on these 8 portraits (float/050: 0.78). uint8 ("quant1") BodyPix weights
# lose accuracy, the 1.00 multiplier most (0.25): that is the published weights, not the reader
# (test_tfjs_reader shows they dequantise to the float ones within half a step).
VARIANTS = {
    ("float", "050"): 0.7,
    ("quant2", "050"): 0.7,
    ("quant2", "075"): 0.7,
    ("quant1", "050"): 0.5,
    ("quant1", "075"): 0.6,
    ("quant1", "100"): 0.15,
}


@pytest.mark.parametrize("stride", [8, 16])
@pytest.mark.parametrize(("quant", "multiplier"), list(VARIANTS))
def test_every_variant_loads_and_segments_portraits(quant: str, multiplier: str, stride: int) -> None:
    segmenter = make_segmenter(mobilenet_json(quant, multiplier, stride))
    scores = [iou(segmenter.segment(img).mask, truth) for img, truth in map(load_pair, PORTRAITS)]
    assert np.mean(scores) >= VARIANTS[(quant, multiplier)]


@pytest.fixture(scope="module")
def float16() -> object:
    return make_segmenter(mobilenet_json("float", "050", 16))


def _logits(segmenter: object, image: np.ndarray) -> np.ndarray:
    _, out = segmenter.infer(image)
    return out[0][:, :, 0]


def test_quant2_outputs_match_float(float16: object) -> None:
    quant2 = make_segmenter(mobilenet_json("quant2", "050", 16))
    image, _ = load_pair(PORTRAITS[0])
    a, b = _logits(float16, image), _logits(quant2, image)
    assert np.abs(a - b).max() < 0.5
    assert iou(float16.segment(image).mask, quant2.segment(image).mask) > 0.98


def test_quant1_masks_close_to_quant2() -> None:
    image, _ = load_pair(PORTRAITS[1])
    a = make_segmenter(mobilenet_json("quant2", "075", 16)).segment(image).mask
    b = make_segmenter(mobilenet_json("quant1", "075", 16)).segment(image).mask
    assert iou(a, b) > 0.8


def test_stride_8_has_twice_the_grid_and_agrees_with_16(float16: object) -> None:
    stride8 = make_segmenter(mobilenet_json("float", "050", 8))
    image, truth = load_pair(PORTRAITS[2])
    geom16, out16 = float16.infer(image)
    geom8, out8 = stride8.infer(image)
    assert out16[0].shape[:2] == geom16.grid_shape
    assert out8[0].shape[:2] == geom8.grid_shape
    assert out8[0].shape[0] == 2 * (out16[0].shape[0] - 1) + 1
    m8, m16 = stride8.segment(image).mask, float16.segment(image).mask
    assert iou(m8, m16) > 0.85 and iou(m8, truth) > 0.7


def test_valid_input_sizes() -> None:
    assert (
        valid_size(257, 16) == 257
        and valid_size(260, 16) == 257
        and valid_size(271.9, 8) == 265
        and valid_size(480, 16) == 481
    )
    geom = Geometry.for_frame(720, 1280, 0.375, 16)
    assert (geom.input_h, geom.input_w) == (257, 481) and geom.grid_shape == (17, 31)


def test_grid_maps_back_onto_the_frame_where_it_came_from() -> None:
    """A one-cell spike on the grid comes back centred on that cell's frame position."""
    geom = Geometry.for_frame(720, 1280, 0.375, 16)
    grid = np.zeros(geom.grid_shape, np.float32)
    grid[8, 20] = 1.0
    frame = geom.input_to_frame(geom.grid_to_input(grid))
    y, x = np.unravel_index(np.argmax(frame), frame.shape)
    expected = geom.input_points_to_frame(np.array([20 * 16, 8 * 16], np.float32))
    assert abs(x - expected[0]) <= 2 and abs(y - expected[1]) <= 2


def test_part_ids_are_in_range_and_consistent_with_the_mask(float16: object) -> None:
    image, _ = load_pair(PORTRAITS[3])
    seg = float16.segment(image)
    parts, mask = seg.part_ids, seg.mask
    assert parts.shape == mask.shape == image.shape[:2] and parts.dtype == np.uint8
    assert np.all(parts[~mask] == BACKGROUND)
    assert parts[mask].max() <= 23
    # A front-facing portrait shows a face and a torso.
    present = set(np.unique(parts[mask]).tolist())
    assert present & {0, 1} and present & {12, 13}


def test_backends_agree() -> None:
    from vcamseg.config import Config
    from vcamseg.pipeline.builder import segmenter_for

    image, _ = load_pair(PORTRAITS[4])
    results = {}
    for backend in ("tensorflow", "tflite"):
        cfg = Config()
        cfg.model.backend = backend
        cfg.model.precision = "float"
        seg = segmenter_for(cfg.model, cfg.segmentation, model_json=mobilenet_json())
        results[backend] = _logits(seg, image)
        assert seg.backend.name == backend
    assert np.abs(results["tensorflow"] - results["tflite"]).max() < 1e-2


def test_flip_average_and_flip_horizontal(float16: object) -> None:
    image, truth = load_pair(PORTRAITS[5])
    averaged = make_segmenter(flip_average=True).segment(image).mask
    assert iou(averaged, truth) > iou(float16.segment(image).mask, truth) - 0.05
    mirrored = make_segmenter(flip_horizontal=True).segment(image)
    assert np.array_equal(mirrored.mask, float16.segment(image).mask[:, ::-1])


@pytest.fixture(scope="module")
def multi() -> object:
    return make_segmenter(multi_person=True)


@pytest.mark.parametrize("row", rows("cihp_multiperson")[:12], ids=lambda r: r["image"].split("/")[-1])
def test_multi_person_masks_are_disjoint_and_cover_the_person(multi: object, row: dict[str, str]) -> None:
    image, _ = load_pair(row)
    seg = multi.segment(image)
    assert seg.person_count >= 1 and len(seg.poses) >= seg.person_count
    masks = seg.person_masks
    stacked = np.stack(masks).astype(np.uint8).sum(axis=0)
    assert stacked.max() <= 1  # disjoint
    assert np.array_equal(stacked.astype(bool), seg.mask)  # covering
    for person_parts, person_mask in zip(seg.person_part_ids, masks, strict=True):
        assert np.all(person_parts[~person_mask] == BACKGROUND)
        assert person_parts[person_mask].max(initial=0) <= 23


def test_several_people_are_found_on_group_photos(multi: object) -> None:
    counts = [multi.segment(load_pair(r)[0]).person_count for r in rows("cihp_multiperson")[:20]]
    assert sum(c >= 2 for c in counts) >= 15
    assert max(counts) >= 4


def test_poses_have_keypoints_in_the_frame(multi: object) -> None:
    image, _ = load_pair(rows("cihp_multiperson")[0])
    seg = multi.segment(image)
    h, w = image.shape[:2]
    for pose in seg.poses:
        assert pose.keypoints.shape == (17, 3)
        good = pose.keypoints[pose.keypoints[:, 2] > 0.5]
        assert np.all((good[:, 0] > -20) & (good[:, 0] < w + 20) & (good[:, 1] > -20) & (good[:, 1] < h + 20))
        assert 0.0 <= pose.score <= 1.0


def test_shared_data_is_real() -> None:
    assert (SHARED / "data" / "index.csv").is_file()


@pytest.mark.parametrize(("precision", "timed"), [("auto", False), ("float", True)])
def test_backend_auto_on_the_cpu(precision: str, timed: bool, caplog: pytest.LogCaptureFixture) -> None:
    """int8 runs on TFLite only, so auto goes there at once; float inference times both backends."""
    from vcamseg.config import Config
    from vcamseg.pipeline.builder import segmenter_for

    cfg = Config()
    cfg.model.backend = "auto"
    cfg.model.precision = precision
    image, _ = load_pair(PORTRAITS[0])
    with caplog.at_level("INFO", logger="vcamseg.segmentation.backends.base"):
        seg = segmenter_for(cfg.model, cfg.segmentation, model_json=mobilenet_json())
        seg.segment(image)
    assert ("median ms: tflite" in caplog.text) is timed
    if not timed:
        assert seg.backend.name == "tflite"
    else:
        # The faster one in this run's timing is kept (usually TFLite; on a busy machine it can
        # be TensorFlow: which wins is a benchmark's question, not a test's).
        timings = dict(re.findall(r"(tflite|tensorflow) ([0-9.]+)", caplog.text.split("median ms: ")[1]))
        assert timings.keys() == {"tflite", "tensorflow"}
        assert seg.backend.name == min(timings, key=lambda name: float(timings[name]))


def test_small_frames_are_upscaled_for_the_model_and_answered_at_their_size(float16: object) -> None:
    from vcamseg.errors import InputError
    from vcamseg.segmentation.segmenter import upscaled_for_the_model

    image, _ = load_pair(PORTRAITS[0])
    tiny = np.ascontiguousarray(image[200:205, 250:257])
    seg = float16.segment(tiny)
    assert seg.shape == (5, 7) and seg.mask.shape == (5, 7) and seg.part_ids.shape == (5, 7)
    with pytest.raises(InputError, match="7x5 is too small"):
        float16.infer(tiny)  # raw model outputs have no frame size to come back to: still refused
    assert upscaled_for_the_model(tiny).shape == (128, 179, 3)
    strip = np.zeros((5000, 1, 3), np.uint8)
    assert upscaled_for_the_model(strip).shape == (5000, 128, 3)  # the long side keeps its length
    assert upscaled_for_the_model(image) is image
