"""``pose`` on real multi-person pictures (CIHP) through the real model: keypoints scoring at least
min_score are drawn where they are, the others are not, limbs join drawn keypoints; without poses
the picture passes through with one warning."""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.helpers import make_segmenter, rows
from vcamseg.config.effects import PoseConfig
from vcamseg.effects.pose import LIMBS, PoseEffect
from vcamseg.segmentation.result import Segmentation


@pytest.fixture(scope="module")
def people(data_dir: Path) -> list[tuple[np.ndarray, Segmentation]]:
    segmenter = make_segmenter(multi_person=True)
    found = []
    for row in rows("cihp_multiperson")[:8]:
        image = cv2.imread(str(data_dir / row["image"]))
        seg = segmenter.segment(image)
        if seg.poses:
            found.append((image, seg))
    assert len(found) >= 5
    return found


def _keypoints(seg: Segmentation) -> np.ndarray:
    return np.concatenate([p.keypoints for p in seg.poses])


def test_keypoints_drawn_at_and_only_at_those_scoring_min_score(people) -> None:
    config = PoseConfig(min_score=0.5, thickness=0, radius=4, keypoint_color=(255, 0, 255))
    low_seen = 0
    for image, seg in people:
        out, out_seg = PoseEffect(config).apply(image.copy(), seg)
        assert out_seg is seg
        changed = (out != image).any(axis=2)
        h, w = changed.shape
        kp = _keypoints(seg)
        drawn, low = kp[kp[:, 2] >= config.min_score], kp[kp[:, 2] < config.min_score]
        ys, xs = np.mgrid[0:h, 0:w]
        near_drawn = np.zeros((h, w), bool)
        for x, y, _ in drawn:
            disk = (xs - x) ** 2 + (ys - y) ** 2 <= (config.radius + 2) ** 2  # + anti-aliasing
            near_drawn |= disk
            if 0 <= x < w and 0 <= y < h:
                core = (xs - x) ** 2 + (ys - y) ** 2 <= (config.radius - 1) ** 2
                assert (out[core] == (255, 0, 255)).all()  # BGR of [255, 0, 255]
        assert not changed[~near_drawn].any()  # nothing else is touched
        for x, y, _ in low:
            apart = np.hypot(drawn[:, 0] - x, drawn[:, 1] - y).min(initial=np.inf) > 2 * config.radius + 3
            if not (0 <= x < w and 0 <= y < h) or not apart:
                continue
            low_seen += 1
            disk = (xs - x) ** 2 + (ys - y) ** 2 <= config.radius**2
            assert not changed[disk].any()
    assert low_seen > 5  # keypoints below min_score were there, and not drawn


def test_limbs_join_drawn_keypoints(people) -> None:
    config = PoseConfig(min_score=0.5, thickness=3, limb_color="white", keypoint_color="black")
    limbs = 0
    for image, seg in people:
        out, _ = PoseEffect(config).apply(image.copy(), seg)
        h, w = out.shape[:2]
        kp_all = _keypoints(seg)
        drawn = kp_all[kp_all[:, 2] >= config.min_score]
        for pose in seg.poses:
            kp = pose.keypoints
            for a, b in LIMBS:
                (xa, ya, sa), (xb, yb, sb) = kp[a], kp[b]
                if min(sa, sb) < config.min_score or np.hypot(xb - xa, yb - ya) < 4 * config.radius:
                    continue
                mx, my = round((xa + xb) / 2), round((ya + yb) / 2)
                # (a black keypoint drawn over the limb's middle hides it)
                covered = (np.hypot(drawn[:, 0] - mx, drawn[:, 1] - my) <= config.radius + 3).any()
                if 0 <= mx < w and 0 <= my < h and not covered:
                    assert out[my, mx].min() >= 200  # white, anti-aliased
                    limbs += 1
    assert limbs > 20


def test_one_colour_per_person(people) -> None:
    image, seg = max(people, key=lambda p: len(p[1].poses))
    assert len(seg.poses) >= 2
    out, _ = PoseEffect(PoseConfig(per_person=True, thickness=0, min_score=0.3)).apply(image.copy(), seg)
    colours = []
    for pose in seg.poses:
        x, y, _score = max(pose.keypoints, key=lambda k: k[2])
        colours.append(tuple(out[round(y), round(x)]))
    assert len(set(colours)) == len(colours)


def test_without_poses_it_says_what_to_set(people, caplog: pytest.LogCaptureFixture) -> None:
    image, _ = people[0]
    seg = make_segmenter().segment(image)
    assert not seg.poses
    effect = PoseEffect(PoseConfig())
    with caplog.at_level(logging.WARNING):
        for _ in range(3):
            out, _ = effect.apply(image.copy(), seg)
    np.testing.assert_array_equal(out, image)
    warnings = [r.getMessage() for r in caplog.records if "pose effect" in r.getMessage()]
    assert len(warnings) == 1 and "segmentation.multi_person: true" in warnings[0]
