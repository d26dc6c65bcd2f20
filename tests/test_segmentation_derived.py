"""`Segmentation.zoomed` (the frame effect's crop) and `Segmentation.keeping` (the spotlight's one
person) on synthetic results: the arrays, the matte and the poses move or are cut together."""

from __future__ import annotations

import numpy as np
import pytest

from vcamseg.body import BACKGROUND, NUM_KEYPOINTS
from vcamseg.segmentation.result import Pose, Segmentation

pytestmark = pytest.mark.pure  # no ../shared, no TensorFlow


def _two_people() -> Segmentation:
    h, w = 120, 160
    people = np.zeros((h, w), np.uint8)
    people[20:100, 20:60] = 1
    people[30:110, 100:140] = 2
    parts = np.where(people > 0, 12, BACKGROUND).astype(np.uint8)
    parts[20:35, 20:60] = 0  # person 1's face
    poses = []
    for x in (40.0, 120.0):
        kp = np.zeros((NUM_KEYPOINTS, 3), np.float32)
        kp[:, 0], kp[:, 1], kp[:, 2] = x, 60.0, 0.9
        poses.append(Pose(0.9, kp))
    return Segmentation.from_arrays(people > 0, part_ids=parts, people=people, poses=poses)


def test_zoomed_moves_every_array_and_the_poses_alike() -> None:
    seg = _two_people()
    seg = seg.with_alpha(seg.mask.astype(np.uint8) * 255)
    zoomed = seg.zoomed((0.0, 0.0, 80.0, 60.0))  # the top-left quarter, scaled x2
    assert zoomed.shape == seg.shape and zoomed.result_id == seg.result_id
    # Person 1 (x 20..60, y 20..100) -> x 40..120, y 40..200 (cut at 120).
    assert zoomed.mask[45:115, 45:115].all() and not zoomed.mask[:, :38].any() and not zoomed.mask[:38].any()
    np.testing.assert_array_equal(zoomed.alpha > 127, zoomed.mask)
    assert (zoomed.part_ids[42:68, 45:115] == 0).all() and (zoomed.part_ids[75:115, 45:115] == 12).all()
    assert zoomed.people is not None and set(np.unique(zoomed.people)) == {0, 1}
    np.testing.assert_allclose(zoomed.poses[0].keypoints[0, :2], [80.5, 120.5])
    assert zoomed.poses[0].keypoints[0, 2] == pytest.approx(0.9)


def test_keeping_leaves_only_the_region_and_its_person() -> None:
    seg = _two_people()
    seg = seg.with_alpha(seg.mask.astype(np.uint8) * 255)
    region = np.zeros(seg.shape, bool)
    region[25:115, 95:145] = True  # around person 2
    kept = seg.keeping(region, 2)
    two = seg.people == 2
    np.testing.assert_array_equal(kept.mask, two)
    np.testing.assert_array_equal(kept.alpha[two], seg.alpha[two])  # the kept person untouched
    assert not kept.alpha[seg.people == 1].any()  # the other one is background now
    assert kept.people is not None and kept.person_count == 1
    np.testing.assert_array_equal(kept.people == 1, two)
    assert (kept.part_ids[seg.people == 1] == BACKGROUND).all()
    assert len(kept.poses) == 1 and kept.poses[0].keypoints[0, 0] == pytest.approx(120.0)
    assert seg.mask[seg.people == 1].all()  # the original result is unchanged
    nobody = seg.keeping(np.zeros(seg.shape, bool), None)
    assert not nobody.mask.any() and nobody.poses == ()
