"""``spotlight`` on real multi-person pictures (CIHP) and the two-child bedroom clip through the
real model: the kept person's matte is untouched, everyone else becomes background (a blur after
it blurs them), the choice holds across frames; and the chooser's hysteresis on its own."""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.helpers import make_segmenter, rows
from vcamseg.config.effects import BlurConfig, SpotlightConfig
from vcamseg.effects.blur import BlurEffect
from vcamseg.effects.spotlight import Candidate, SpotlightChooser, SpotlightEffect
from vcamseg.segmentation.result import Segmentation

SHAPE = (720, 1280)


def _with_matte(seg: Segmentation) -> Segmentation:
    return seg.with_alpha(seg.mask.astype(np.uint8) * 255)


@pytest.fixture(scope="module")
def groups(data_dir: Path) -> list[tuple[np.ndarray, Segmentation]]:
    """CIHP multi-person pictures in which the model tells at least two people apart."""
    segmenter = make_segmenter(multi_person=True)
    found = []
    for row in rows("cihp_multiperson"):
        image = cv2.imread(str(data_dir / row["image"]))
        seg = segmenter.segment(image)
        if seg.person_count >= 2 and min(m.sum() for m in seg.person_masks) > 500:
            found.append((image, _with_matte(seg)))
        if len(found) == 6:
            break
    assert len(found) >= 4
    return found


def _detail(image: np.ndarray) -> np.ndarray:
    return np.abs(cv2.Laplacian(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), cv2.CV_32F))


def _check_kept_and_others(seg: Segmentation, out: Segmentation, label: int) -> None:
    assert seg.people is not None
    kept = seg.people == label
    others = (seg.people > 0) & ~kept
    np.testing.assert_array_equal(out.alpha[kept], seg.alpha[kept])  # untouched
    assert not out.alpha[others].any() and not out.mask[others].any()  # background now
    assert out.person_count == 1 and out.people is not None
    np.testing.assert_array_equal(out.people == 1, kept)


def test_the_largest_person_stays_and_the_others_are_blurred_with_the_room(groups) -> None:
    for image, seg in groups:
        spotlight = SpotlightEffect(SpotlightConfig(choose="largest"))
        frame, out = spotlight.apply(image.copy(), seg)
        areas = [m.sum() for m in seg.person_masks]
        assert spotlight.kept_label == 1 + int(np.argmax(areas))
        _check_kept_and_others(seg, out, spotlight.kept_label)
        assert len(out.poses) == 1 and out.poses[0] is seg.poses[spotlight.kept_label - 1]
        blurred, _ = BlurEffect(BlurConfig(edge_blur=0)).apply(frame, out)
        kept = seg.people == spotlight.kept_label
        others = (seg.people > 0) & ~kept
        np.testing.assert_array_equal(blurred[kept], image[kept])
        inner = cv2.erode(others.astype(np.uint8), np.ones((7, 7), np.uint8)) > 0
        assert _detail(blurred)[inner].mean() < 0.6 * _detail(image)[inner].mean()


def test_central_and_facing_choices(groups) -> None:
    for image, seg in groups:
        h, w = seg.shape
        central = SpotlightEffect(SpotlightConfig(choose="central"))
        central.apply(image.copy(), seg)
        distances = []
        for mask in seg.person_masks:
            ys, xs = np.nonzero(mask)
            distances.append(np.hypot(xs.mean() - w / 2, ys.mean() - h / 2))
        assert central.kept_label == 1 + int(np.argmin(distances))
        facing = SpotlightEffect(SpotlightConfig(choose="facing"))
        facing.apply(image.copy(), seg)
        scores = [(p.keypoints[0, 2] + min(p.keypoints[1, 2], p.keypoints[2, 2])) / 2 for p in seg.poses]
        assert facing.kept_label is not None
        assert scores[facing.kept_label - 1] == pytest.approx(max(scores), abs=1e-6)


def test_on_the_bedroom_clip_one_child_is_kept_steadily(data_dir: Path) -> None:
    """Frames 110-199 (both children in view, moving): in every frame the kept child's matte is
    untouched and the other is background; the kept child does not change hands more than once."""
    capture = cv2.VideoCapture(str(data_dir / "videos" / "sam2_bedroom.mp4"))
    segmenter = make_segmenter(multi_person=True)
    spotlight = SpotlightEffect(SpotlightConfig())
    centres = []
    for index in range(200):
        ok, frame = capture.read()
        assert ok
        if index < 110:
            continue
        seg = _with_matte(segmenter.segment(frame))
        _, out = spotlight.apply(frame.copy(), seg)
        if seg.person_count < 2:
            continue
        assert spotlight.kept_label is not None
        _check_kept_and_others(seg, out, spotlight.kept_label)
        ys, xs = np.nonzero(out.mask)
        centres.append((xs.mean(), ys.mean()))
    capture.release()
    assert len(centres) > 60
    jumps = np.hypot(*np.diff(np.array(centres), axis=0).T)
    assert (jumps > 150).sum() <= 1  # the children are ~300 px apart: a jump is a change of person


def test_without_per_person_masks_it_says_what_to_set(groups, caplog: pytest.LogCaptureFixture) -> None:
    image, _ = groups[0]
    seg = _with_matte(make_segmenter().segment(image))
    spotlight = SpotlightEffect(SpotlightConfig())
    with caplog.at_level(logging.WARNING):
        for _ in range(3):
            frame, out = spotlight.apply(image.copy(), seg)
    assert out is seg
    np.testing.assert_array_equal(frame, image)
    warnings = [r.getMessage() for r in caplog.records if "spotlight" in r.getMessage()]
    assert len(warnings) == 1 and "segmentation.multi_person: true" in warnings[0]


# --- the chooser on its own -------------------------------------------------------------------


def _person(x: float, size: float, facing: float = 0.5) -> Candidate:
    return Candidate((x, 100.0, x + size, 100.0 + size), size * size, (x + size / 2, 100.0 + size / 2), facing)


@pytest.mark.pure
def test_two_similar_people_do_not_make_it_flip() -> None:
    chooser = SpotlightChooser("largest", switch_margin=0.3, switch_after=5)
    assert chooser.pick([_person(100, 200), _person(700, 190)], SHAPE) == 0
    for i in range(50):  # the other one is a little larger every other result, and in another order
        a, b = _person(100, 200), _person(700, 215 if i % 2 else 185)
        assert chooser.pick([b, a], SHAPE) == 1


@pytest.mark.pure
def test_a_clearly_better_person_takes_over_after_switch_after_results() -> None:
    chooser = SpotlightChooser("largest", switch_margin=0.3, switch_after=5)
    chooser.pick([_person(100, 200), _person(700, 100)], SHAPE)
    picks = [chooser.pick([_person(100, 200), _person(700, 300)], SHAPE) for _ in range(6)]
    assert picks == [0, 0, 0, 0, 1, 1]
    # An interrupted streak starts again.
    chooser = SpotlightChooser("largest", switch_margin=0.3, switch_after=3)
    chooser.pick([_person(100, 200), _person(700, 100)], SHAPE)
    picks = [chooser.pick([_person(100, 200), _person(700, size)], SHAPE) for size in (300, 300, 200, 300, 300, 300)]
    assert picks == [0, 0, 0, 0, 0, 1]


@pytest.mark.pure
def test_when_the_kept_person_leaves_the_best_one_is_kept_at_once() -> None:
    chooser = SpotlightChooser("central", switch_margin=0.3, switch_after=5)
    assert chooser.pick([_person(540, 200), _person(1000, 200)], SHAPE) == 0
    assert chooser.pick([_person(1000, 200)], SHAPE) == 0
    assert chooser.pick([], SHAPE) is None
    assert chooser.pick([_person(100, 200), _person(1000, 200)], SHAPE) == 1  # the same one, back
