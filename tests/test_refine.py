"""Mask refinement on real frames: edge refinement against ground truth, motion-aware temporal
smoothing on a real video (less flicker) and on a moving edge (no lag), and state handling."""

from __future__ import annotations

import csv
from itertools import pairwise
from pathlib import Path

import cv2
import numpy as np
import pytest

from vcamseg.config import Config
from vcamseg.config.mask import MaskConfig
from vcamseg.effects.refine import MaskRefiner
from vcamseg.pipeline.builder import segmenter_for
from vcamseg.segmentation.result import Segmentation
from vcamseg.segmentation.segmenter import Segmenter

MODEL = Path("mobilenet/float/050/model-stride16.json")


@pytest.fixture(scope="module")
def segmenter(models_dir: Path) -> Segmenter:
    # BodyPix alone: these tests are about refining its coarse (stride-16) scores.
    cfg = Config.model_validate({"model": {"selfie": "off"}})
    return segmenter_for(cfg.model, cfg.segmentation, model_json=models_dir / "bodypix" / MODEL)


def _portraits(data_dir: Path, count: int) -> list[tuple[np.ndarray, np.ndarray]]:
    with (data_dir / "index.csv").open(newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["source"] == "supervisely_person"][:count]
    return [
        (cv2.imread(str(data_dir / r["image"])), cv2.imread(str(data_dir / r["mask"]), cv2.IMREAD_GRAYSCALE) > 127)
        for r in rows
    ]


def _video(data_dir: Path, name: str, count: int) -> list[np.ndarray]:
    capture = cv2.VideoCapture(str(data_dir / "videos" / name))
    frames = []
    while len(frames) < count:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame)
    capture.release()
    return frames


def _edge_band(mask: np.ndarray, px: int) -> np.ndarray:
    disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * px + 1, 2 * px + 1))
    m = mask.astype(np.uint8)
    return cv2.dilate(m, disk) != cv2.erode(m, disk)


def test_alpha_is_a_full_size_matte_inside_and_outside_the_person(data_dir: Path) -> None:
    image, truth = _portraits(data_dir, 1)[0]
    scores = cv2.GaussianBlur(truth.astype(np.uint8) * 255, (0, 0), 12)
    seg = Segmentation.from_arrays(truth, scores=scores)
    refined = MaskRefiner(MaskConfig()).refine(image, seg)
    alpha = refined.alpha
    assert refined.has_matte and refined.result_id == seg.result_id
    assert not seg.has_matte  # the input is left as it was: the matte is the new result's
    assert alpha.shape == truth.shape and alpha.dtype == np.uint8
    disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (61, 61))
    inside = cv2.erode(truth.astype(np.uint8), disk) > 0
    outside = cv2.dilate(truth.astype(np.uint8), disk) == 0
    assert (alpha[inside] == 255).mean() > 0.99
    assert (alpha[outside] == 0).mean() > 0.99


def test_guided_edges_follow_the_real_edges_better_than_the_model(segmenter: Segmenter, data_dir: Path) -> None:
    """Real model scores on real portraits: the frame-guided matte is closer to the ground truth
    along the outline than the model's upsampled scores."""
    errors: dict[str, list[float]] = {"none": [], "guided": [], "guided_color": []}
    for image, truth in _portraits(data_dir, 8):
        scores = segmenter.segment(image).scores
        band = _edge_band(truth, 12)
        for edges in errors:
            seg = Segmentation.from_arrays(scores >= 128, scores=scores)
            alpha = MaskRefiner(MaskConfig(edges=edges, temporal_smoothing=0.0)).refine(image, seg).alpha
            errors[edges].append(float(np.abs(alpha[band] / 255.0 - truth[band]).mean()))
    mean = {k: np.mean(v) for k, v in errors.items()}
    assert mean["guided"] < mean["none"] * 0.97
    assert mean["guided_color"] < mean["guided"]


def test_threshold_comes_from_the_segmentation(data_dir: Path) -> None:
    image, truth = _portraits(data_dir, 1)[0]
    scores = cv2.GaussianBlur(truth.astype(np.uint8) * 255, (0, 0), 12)
    areas = []
    for threshold in (0.3, 0.5, 0.7):
        seg = Segmentation.from_arrays(truth, scores=scores, threshold=threshold)
        areas.append(int((MaskRefiner(MaskConfig(edges="none")).refine(image, seg).alpha >= 128).sum()))
    assert areas[0] > areas[1] > areas[2]


def test_dilate_erode_and_feather_shape_the_matte(data_dir: Path) -> None:
    image, truth = _portraits(data_dir, 1)[0]
    scores = truth.astype(np.uint8) * 255

    def matte(**kw: int) -> np.ndarray:
        seg = Segmentation.from_arrays(truth, scores=scores)
        return MaskRefiner(MaskConfig(edges="none", **kw)).refine(image, seg).alpha

    base = (matte() >= 128).sum()
    assert (matte(dilate_px=6) >= 128).sum() > base * 1.02
    assert (matte(erode_px=6) >= 128).sum() < base * 0.98
    soft_pixels = lambda a: int(((a > 0) & (a < 255)).sum())  # noqa: E731
    assert soft_pixels(matte(feather_px=5)) > 2 * soft_pixels(matte())


def test_temporal_smoothing_reduces_flicker_on_a_real_video(segmenter: Segmenter, data_dir: Path) -> None:
    """Real model masks on 30 consecutive frames of a real talking-head video: the matte changes
    less from frame to frame with smoothing (edges 'none' isolates the temporal step)."""
    frames = _video(data_dir, "intel_headpose_male.mp4", 30)
    segs = [segmenter.segment(f) for f in frames]

    def mean_change(**kw: float) -> float:
        refiner = MaskRefiner(MaskConfig(edges="none", **kw))
        mattes = [refiner.refine(f, s).alpha.astype(np.int16) for f, s in zip(frames, segs, strict=True)]
        return float(np.mean([np.abs(b - a).mean() for a, b in pairwise(mattes)]))

    assert mean_change(temporal_smoothing=0.7) < 0.75 * mean_change(temporal_smoothing=0.0)


def _moving_edge(background: np.ndarray, steps: int, speed: int) -> list[tuple[np.ndarray, np.ndarray, int]]:
    """A dark 'person' filling the frame left of an edge that moves right by ``speed`` px a frame,
    over a real background; scores blurred like a coarse model's."""
    h, w = background.shape[:2]
    out = []
    for t in range(steps):
        edge = w // 4 + t * speed
        frame = background.copy()
        frame[:, :edge] = (40, 50, 60)
        mask = np.zeros((h, w), np.uint8)
        mask[:, :edge] = 255
        out.append((frame, cv2.GaussianBlur(mask, (0, 0), 10), edge))
    return out


def _crossing(alpha: np.ndarray) -> float:
    row = alpha[alpha.shape[0] // 2].astype(np.int32)
    return float(np.argmax(row < 128))


@pytest.mark.parametrize("edges", ["none", "guided_color"])
def test_a_moving_edge_is_not_delayed(data_dir: Path, edges: str) -> None:
    """The matte's edge is where the frame's edge is on every frame (within half a frame's motion),
    while a fixed moving average (what motion_threshold 255 amounts to) trails by frames."""
    background = cv2.resize(_video(data_dir, "intel_one_by_one_person.mp4", 1)[0], (640, 360))
    speed = 12
    sequence = _moving_edge(background, 12, speed)

    def lags(**kw: float) -> list[float]:
        refiner = MaskRefiner(MaskConfig(edges=edges, **kw))
        return [
            edge - _crossing(refiner.refine(frame, Segmentation.from_arrays(scores > 127, scores=scores)).alpha)
            for frame, scores, edge in sequence
        ][3:]

    assert max(abs(lag) for lag in lags()) <= speed / 2
    assert max(lags(motion_threshold=255.0)) > speed


def test_a_reused_segmentation_is_refined_against_each_new_frame(data_dir: Path) -> None:
    """The pipeline may reuse the last result while the model works: the matte's edge still
    moves towards each new frame's edge (guided filter) and the temporal state does not advance."""
    background = cv2.resize(_video(data_dir, "intel_one_by_one_person.mp4", 1)[0], (640, 360))
    (frame0, scores, edge0), _, (frame2, _, edge2) = _moving_edge(background, 3, 6)
    refiner = MaskRefiner(MaskConfig())
    seg = Segmentation.from_arrays(scores > 127, scores=scores)
    first = refiner.refine(frame0, seg)
    assert abs(_crossing(first.alpha) - edge0) <= 2
    state = refiner.smoother.state
    assert state is not None
    state = state.copy()
    second = refiner.refine(frame2, seg)
    np.testing.assert_array_equal(refiner.smoother.state, state)
    assert edge0 + 3 <= _crossing(second.alpha) <= edge2


def test_a_new_frame_size_resets_the_state(data_dir: Path) -> None:
    frames = _video(data_dir, "intel_headpose_female.mp4", 2)
    refiner = MaskRefiner(MaskConfig())
    truth = np.zeros(frames[0].shape[:2], bool)
    truth[60:, 150:330] = True
    refiner.refine(frames[0], Segmentation.from_arrays(truth))
    big = cv2.resize(frames[1], (960, 540))
    big_truth = cv2.resize(truth.astype(np.uint8), (960, 540), interpolation=cv2.INTER_NEAREST) > 0
    alpha = refiner.refine(big, Segmentation.from_arrays(big_truth)).alpha
    fresh = MaskRefiner(MaskConfig()).refine(big, Segmentation.from_arrays(big_truth)).alpha
    assert alpha.shape == (540, 960)
    np.testing.assert_array_equal(alpha, fresh)
