"""`Segmentation` as a value: derived results (with_alpha, with_threshold, resized, flipped) on
small synthetic arrays, shape validation, laziness and immutability. Pure logic: needs neither
../shared nor TensorFlow."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from vcamseg.body import BACKGROUND
from vcamseg.segmentation.result import Pose, Segmentation

pytestmark = pytest.mark.pure  # no ../shared, no TensorFlow


def _sample() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A 6x8 mask (a 4x3 block, off-centre so a flip shows), a part map and two people."""
    mask = np.zeros((6, 8), bool)
    mask[1:5, 1:4] = True
    ids = np.full((6, 8), BACKGROUND, np.uint8)
    ids[1:3, 1:4] = 0
    ids[3:5, 1:4] = 12
    people = np.zeros((6, 8), np.uint8)
    people[1:5, 1:3] = 1
    people[1:5, 3] = 2
    return mask, ids, people


def _counting(mask: np.ndarray, calls: list[str]) -> Segmentation:
    """A lazy result over ``mask`` that records which of its functions ran."""

    def scores() -> np.ndarray:
        calls.append("scores")
        return mask.astype(np.uint8) * 255

    def part_ids(m: np.ndarray) -> np.ndarray:
        calls.append("part_ids")
        return np.where(m, 7, BACKGROUND).astype(np.uint8)

    def people(m: np.ndarray) -> np.ndarray:
        calls.append("people")
        return m.astype(np.uint8)

    return Segmentation.lazy(mask.shape, 0.5, scores=scores, part_ids=part_ids, people=people)


def test_arrays_are_computed_only_when_asked_for_and_once() -> None:
    mask, _, _ = _sample()
    calls: list[str] = []
    seg = _counting(mask, calls)
    assert calls == []
    assert np.array_equal(seg.mask, mask)
    assert calls == ["scores"]
    _ = seg.mask, seg.scores, seg.alpha
    assert calls == ["scores"]
    _ = seg.part_ids, seg.part_ids, seg.people, seg.people
    assert calls == ["scores", "part_ids", "people"]


def test_with_alpha_shares_the_arrays_and_leaves_the_original_alone() -> None:
    mask, _, _ = _sample()
    calls: list[str] = []
    base = _counting(mask, calls)
    matte = np.full(mask.shape, 7, np.uint8)
    a = base.with_alpha(matte)
    b = base.with_alpha(np.full(mask.shape, 9, np.uint8))
    assert np.array_equal(a.mask, mask) and np.array_equal(b.mask, mask) and np.array_equal(base.mask, mask)
    _ = a.part_ids, b.part_ids, base.part_ids
    assert calls == ["scores", "part_ids"], "a result reused for several frames is upsampled and cut once"
    assert int(a.alpha.max()) == 7 and int(b.alpha.max()) == 9
    assert not base.has_matte and int(base.alpha.max()) == 255, "one frame's matte does not leak into another's"
    assert a.result_id == b.result_id == base.result_id
    assert _counting(mask, []).result_id != base.result_id  # a new model result is told apart


def test_with_alpha_refuses_a_matte_that_does_not_fit() -> None:
    seg = Segmentation.from_arrays(np.zeros((6, 8), bool))
    with pytest.raises(ValueError, match=r"alpha: expected a uint8 \(6, 8\) matte, got \(8, 6\) uint8"):
        seg.with_alpha(np.zeros((8, 6), np.uint8))
    with pytest.raises(ValueError, match=r"got \(6, 8\) float32"):
        seg.with_alpha(np.zeros((6, 8), np.float32))


def test_a_result_and_its_arrays_cannot_be_changed() -> None:
    mask, ids, _ = _sample()
    seg = Segmentation.from_arrays(mask, part_ids=ids).with_alpha(mask.astype(np.uint8) * 255)
    with pytest.raises(dataclasses.FrozenInstanceError):
        seg.poses = ()  # type: ignore[misc]
    with pytest.raises(AttributeError):
        seg.alpha = np.zeros((6, 8), np.uint8)  # type: ignore[misc]
    with pytest.raises(AttributeError):
        seg.threshold = 0.3  # type: ignore[misc]
    for array in (seg.scores, seg.mask, seg.part_ids, seg.alpha):
        with pytest.raises(ValueError, match="read-only"):
            array[0, 0] = 1
    assert ids.flags.writeable and mask.flags.writeable  # the caller's own arrays keep their flags


def test_with_threshold_recuts_the_mask_from_the_same_scores() -> None:
    scores = np.tile(np.arange(0, 256, 32, dtype=np.uint8), (3, 1))  # 0, 32, ..., 224 across
    seg = Segmentation.from_arrays(scores > 0, scores=scores)
    low, high = seg.with_threshold(0.1), seg.with_threshold(0.8)
    assert low.threshold == 0.1 and seg.threshold == 0.5 and high.threshold == 0.8
    assert low.mask.sum() > seg.mask.sum() > high.mask.sum()
    assert low.scores is seg.scores and low.result_id == seg.result_id
    assert not seg.with_alpha(np.zeros((3, 8), np.uint8)).with_threshold(0.3).has_matte


def test_flipped_mirrors_every_array_and_the_poses() -> None:
    mask, ids, people = _sample()
    keypoints = np.zeros((17, 3), np.float32)
    keypoints[:, 0], keypoints[:, 1], keypoints[:, 2] = 1.0, 2.0, 0.9
    seg = Segmentation.from_arrays(mask, part_ids=ids, people=people, poses=[Pose(0.8, keypoints)])
    matte = (mask * 200).astype(np.uint8)
    flipped = seg.with_alpha(matte).flipped()
    assert np.array_equal(flipped.mask, mask[:, ::-1])
    assert np.array_equal(flipped.scores, seg.scores[:, ::-1])
    assert np.array_equal(flipped.part_ids, ids[:, ::-1])
    assert np.array_equal(flipped.people, people[:, ::-1])
    assert np.array_equal(flipped.alpha, matte[:, ::-1])
    assert np.array_equal(flipped.part_ids_within(flipped.mask), ids[:, ::-1])
    assert flipped.poses[0].score == pytest.approx(0.8)
    assert np.allclose(flipped.poses[0].keypoints[:, 0], 8 - 1 - 1.0)
    assert np.array_equal(seg.mask, mask), "the original is not flipped"
    assert np.array_equal(flipped.flipped().part_ids, ids)


def test_resized_stretches_the_arrays_and_the_poses() -> None:
    mask, ids, people = _sample()
    keypoints = np.full((17, 3), 2.0, np.float32)
    seg = Segmentation.from_arrays(mask, part_ids=ids, people=people, poses=[Pose(0.5, keypoints)])
    big = seg.resized((12, 16))
    assert big.shape == (12, 16) and seg.shape == (6, 8)
    nearest = np.repeat(np.repeat(mask, 2, axis=0), 2, axis=1)
    assert np.array_equal(big.mask[2:-2, 2:-2], nearest[2:-2, 2:-2])  # inside; the edges are interpolated
    assert set(np.unique(big.part_ids[big.mask]).tolist()) <= {0, 12}
    assert (big.part_ids[~big.mask] == BACKGROUND).all() and (big.people[~big.mask] == 0).all()
    assert np.allclose(big.poses[0].keypoints, [4.0, 4.0, 2.0])
    assert big.result_id == seg.result_id
    refined = seg.with_alpha(np.full((6, 8), 100, np.uint8)).resized((12, 16))
    assert refined.alpha.shape == (12, 16) and (refined.alpha == 100).all()


def test_from_arrays_says_which_shape_does_not_fit() -> None:
    mask = np.zeros((6, 8), bool)
    with pytest.raises(ValueError, match=r"mask: expected \(h, w\), got \(6, 8, 3\)"):
        Segmentation.from_arrays(np.zeros((6, 8, 3), np.uint8))
    with pytest.raises(ValueError, match=r"part_ids: expected \(6, 8\) \(the mask's h, w\), got \(3, 4\)"):
        Segmentation.from_arrays(mask, part_ids=np.zeros((3, 4), np.uint8))
    with pytest.raises(ValueError, match=r"people: expected \(6, 8\)"):
        Segmentation.from_arrays(mask, people=np.zeros((8, 6), np.uint8))
    with pytest.raises(ValueError, match=r"scores: expected \(6, 8\)"):
        Segmentation.from_arrays(mask, scores=np.zeros((6, 9), np.uint8))
    with pytest.raises(ValueError, match="scores: expected uint8"):
        Segmentation.from_arrays(mask, scores=np.zeros((6, 8), np.float32))
    with pytest.raises(ValueError, match="poses: expected Pose objects"):
        Segmentation.from_arrays(mask, poses=[np.zeros((17, 3))])  # type: ignore[list-item]
    assert not Segmentation.from_arrays(mask).has_parts and Segmentation.from_arrays(mask).people is None


def test_a_mask_given_as_0_255_is_a_mask() -> None:
    mask, _, _ = _sample()
    seg = Segmentation.from_arrays(mask.astype(np.uint8) * 255)
    assert np.array_equal(seg.mask, mask) and seg.person_count == 0 and seg.person_masks == []


def test_person_masks_and_parts_per_person() -> None:
    mask, ids, people = _sample()
    seg = Segmentation.from_arrays(mask, part_ids=ids, people=people)
    assert seg.person_count == 2
    first, second = seg.person_masks
    assert np.array_equal(first, people == 1) and np.array_equal(second, people == 2)
    assert (seg.person_part_ids[1][~second] == BACKGROUND).all()
    assert np.array_equal(seg.person_part_ids[1][second], ids[second])


def test_a_pose_is_a_read_only_copy() -> None:
    keypoints = np.zeros((17, 3), np.float32)
    pose = Pose(0.7, keypoints)
    keypoints[0, 0] = 99.0
    assert pose.keypoints[0, 0] == 0.0
    with pytest.raises(ValueError, match="read-only"):
        pose.keypoints[0, 0] = 1.0
    with pytest.raises(ValueError, match=r"keypoints: expected \(17, 3\), got \(5, 3\)"):
        Pose(0.5, np.zeros((5, 3)))
    assert pose != Pose(0.7, keypoints)  # compared by identity, never element-wise arrays
