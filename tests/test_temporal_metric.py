"""The temporal benchmark's figures (vcamseg/bench/temporal.py): on synthetic masks (pure), and
the default smoothing against none on a real talking-head clip."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from tests.helpers import make_segmenter
from tests.paths import DATA
from vcamseg.bench.temporal import predicted_masks, score, video_frames
from vcamseg.config import Config


@pytest.mark.pure
def test_flicker_counts_only_changes_the_truth_does_not_make() -> None:
    truth = [np.zeros((10, 10), bool) for _ in range(3)]
    truth[1][:, :5] = truth[2][:, :5] = True  # the person appears in frame 1 and stays
    masks = [t.copy() for t in truth]
    masks[2][0, 9] = True  # one spurious pixel in frame 2
    s = score(masks, truth, [np.zeros((10, 10, 3), np.uint8)] * 3)
    assert s.flicker == pytest.approx((0 + 1 / 100) / 2)
    assert s.changed_iou == 1.0, "the moving edge followed at once"
    lagging = [truth[0], truth[0], truth[2]]  # one frame late
    assert score(lagging, truth, [np.zeros((10, 10, 3), np.uint8)] * 3).changed_iou == 0.0
    with pytest.raises(ValueError, match="2 ground-truth masks for 3 frames"):
        score(masks, truth[:2], [np.zeros((10, 10, 3), np.uint8)] * 3)


@pytest.mark.pure
def test_without_truth_flicker_where_the_picture_is_still() -> None:
    frames = [np.full((20, 20, 3), 90, np.uint8) for _ in range(2)]
    frames[1][:, 10:] = 200  # the right half of the picture changes
    masks = [np.zeros((20, 20), bool), np.zeros((20, 20), bool)]
    masks[1][0, 0] = masks[1][0, 19] = True  # one change where still, one where it moved
    s = score(masks, None, frames)
    assert s.iou is None and s.flicker == pytest.approx(2 / 400)
    assert s.flicker_still == pytest.approx(1 / 400)


def test_the_default_smoothing_flickers_less_than_none_on_a_real_clip() -> None:
    frames = list(itertools.islice(video_frames(DATA / "videos" / "intel_headpose_male.mp4"), 40))
    cfg = Config()
    unsmoothed = cfg.model_copy(deep=True)
    unsmoothed.mask.temporal_smoothing = 0.0
    segmenter = make_segmenter()
    smooth = score(predicted_masks(cfg, segmenter, frames), None, frames)
    raw = score(predicted_masks(unsmoothed, segmenter, frames), None, frames)
    assert smooth.frames == raw.frames == 40
    assert 0 < smooth.flicker < raw.flicker
    assert smooth.flicker_still < raw.flicker_still
