"""``frame`` (auto-framing) on real clips through the real model: the head settles where the
framing puts it, the crop holds still while the subject does, a group stays in frame, the crop
never shows a border, the output keeps its size and the segmentation moves with the picture."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.helpers import iou, make_segmenter
from vcamseg.body import part_id
from vcamseg.config.effects import BlurConfig, FrameConfig, SpotlightConfig
from vcamseg.config.mask import MaskConfig
from vcamseg.effects.blur import BlurEffect
from vcamseg.effects.compositor import Compositor
from vcamseg.effects.frame import FrameEffect
from vcamseg.effects.spotlight import SpotlightEffect
from vcamseg.segmentation.derived import zoom_matrix
from vcamseg.segmentation.result import Segmentation

SETTLE = 45  # frames after which the crop has arrived (0.015 x width per frame from the full frame)


def _frames(path: Path, start: int = 0, stop: int | None = None) -> list[np.ndarray]:
    capture = cv2.VideoCapture(str(path))
    frames = []
    index = 0
    while stop is None or index < stop:
        ok, frame = capture.read()
        if not ok:
            break
        if index >= start:
            frames.append(frame)
        index += 1
    capture.release()
    return frames


@pytest.fixture(scope="module")
def signer(data_dir: Path) -> tuple[list[np.ndarray], list[Segmentation]]:
    """One man facing the camera, head still, hands signing (640x480, 77 frames); default config."""
    frames = _frames(data_dir / "videos" / "intel_asl_again.mp4")
    segmenter = make_segmenter()
    return frames, [segmenter.segment(f) for f in frames]


@pytest.fixture(scope="module")
def children(data_dir: Path) -> tuple[list[np.ndarray], list[Segmentation]]:
    """The bedroom clip's frames 110-199, where both children are in view (before that one hides
    behind the other); multi-person."""
    frames = _frames(data_dir / "videos" / "sam2_bedroom.mp4", 110, 200)
    segmenter = make_segmenter(multi_person=True)
    return frames, [segmenter.segment(f) for f in frames]


def _run(effect: FrameEffect, frames: list[np.ndarray], segs: list[Segmentation]):
    for frame, seg in zip(frames, segs, strict=True):
        out, out_seg = effect.apply(frame.copy(), seg)
        assert effect.crop_box is not None
        yield out, out_seg, effect.crop_box


def _face(ids: np.ndarray) -> np.ndarray:
    return np.isin(ids, [part_id("left_face"), part_id("right_face")])


@pytest.mark.parametrize("target", ["head", "upper_body"])
def test_the_head_settles_at_its_place_in_the_output(signer, target: str) -> None:
    """After settling, the head's centre is within 5 % of the width of the output's centre and its
    top within 5 % of the height of ``headroom`` below the top (or the crop is at the frame's top,
    where no more headroom can be had)."""
    frames, segs = signer
    config = FrameConfig(target=target, headroom=0.1)
    h, w = frames[0].shape[:2]
    for i, (out, out_seg, (_, y, _, _)) in enumerate(_run(FrameEffect(config), frames, segs)):
        assert out.shape == frames[0].shape
        if i < SETTLE:
            continue
        ys, xs = np.nonzero(_face(out_seg.part_ids))
        assert abs(xs.mean() - w / 2) <= 0.05 * w
        assert abs(ys.min() - config.headroom * h) <= 0.05 * h or y < 0.5


def test_head_zooms_in_and_upper_body_keeps_more(signer) -> None:
    frames, segs = signer
    widths = {}
    for target in ("head", "upper_body"):
        *_, (_, _, box) = _run(FrameEffect(FrameConfig(target=target)), frames, segs)
        widths[target] = box[2]
    w = frames[0].shape[1]
    assert widths["head"] < 0.7 * w  # a close-up
    assert widths["upper_body"] > 1.3 * widths["head"]


def test_the_crop_holds_still_while_the_subject_does(signer) -> None:
    """The signer's head stays put while the hands move (the clip played forward, then backward:
    2 x 77 frames): once settled (the second pass), the crop moves less than 0.5 pixel per frame
    (centre and size), and on a repeated frame not at all."""
    frames, segs = signer
    effect = FrameEffect(FrameConfig(target="head"))
    boxes = [box for *_, box in _run(effect, frames + frames[::-1], segs + segs[::-1])]
    settled = np.array(boxes[len(frames) :])
    assert np.abs(np.diff(settled, axis=0)).max() < 0.5
    effect = FrameEffect(FrameConfig(target="head"))
    repeated = [box for *_, box in _run(effect, [frames[40]] * 200, [segs[40]] * 200)]
    assert repeated[-1] == repeated[-2] == repeated[-50]


def test_a_group_stays_in_frame(children) -> None:
    """target: group on two children moving on a bed: after settling, at least 95 % of each
    child's pixels are inside the crop in every frame (and the crop did zoom in)."""
    frames, segs = children
    w = frames[0].shape[1]
    widths = []
    for i, (_, _, (x, y, bw, bh)) in enumerate(_run(FrameEffect(FrameConfig(target="group")), frames, segs)):
        widths.append(bw)
        seg = segs[i]
        if i < SETTLE or seg.person_count < 2:
            continue
        x0, y0, x1, y1 = int(np.floor(x)), int(np.floor(y)), int(np.ceil(x + bw)), int(np.ceil(y + bh))
        for person in seg.person_masks:
            inside = person[y0:y1, x0:x1].sum() / person.sum()
            assert inside >= 0.95, f"frame {i}: {inside:.3f} of a child in the crop"
    assert min(widths) < 0.95 * w


def test_no_borders_and_the_segmentation_moves_with_the_picture(signer) -> None:
    """The crop is inside the frame, the output's edges are picture (not black), and the
    returned segmentation matches what the model finds in the output frame."""
    frames, segs = signer
    segmenter = make_segmenter()
    h, w = frames[0].shape[:2]
    for i, (out, out_seg, (x, y, bw, bh)) in enumerate(_run(FrameEffect(FrameConfig(target="head")), frames, segs)):
        assert x >= -1e-6 and y >= -1e-6 and x + bw <= w + 1e-6 and y + bh <= h + 1e-6
        for edge in (out[0], out[-1], out[:, 0], out[:, -1]):
            assert (edge.max(axis=1) > 0).mean() > 0.99
        if i in (SETTLE, 70):
            assert bw < 0.8 * w
            found = segmenter.segment(out).mask
            # Aligned: as close to what the model finds as a re-segmentation gets; the unmoved
            # segmentation (what the effects after it would use otherwise) is far off.
            assert iou(out_seg.mask, found) > 0.8
            assert iou(segs[i].mask, found) < 0.6


def test_a_blur_after_frame_is_aligned(signer) -> None:
    """frame then blur: the blur uses the zoomed matte, so the framed person stays sharp."""
    frames, segs = signer
    framing, blur = FrameEffect(FrameConfig(target="head")), BlurEffect(BlurConfig())
    for frame, seg in zip(frames[: SETTLE + 1], segs[: SETTLE + 1], strict=True):
        zoomed, zoomed_seg = framing.apply(frame.copy(), seg.with_alpha(seg.mask.astype(np.uint8) * 255))
    sharp = zoomed.copy()
    out, _ = blur.apply(zoomed, zoomed_seg)
    core = cv2.erode(zoomed_seg.alpha, np.ones((15, 15), np.uint8)) == 255
    far = cv2.dilate(zoomed_seg.alpha, np.ones((41, 41), np.uint8)) == 0
    assert core.sum() > 10000 and far.sum() > 10000
    np.testing.assert_array_equal(out[core], sharp[core])
    assert np.abs(out[far].astype(int) - sharp[far]).mean() > 2


def test_it_eases_back_to_the_full_frame_when_nobody_is_found(signer) -> None:
    """Framed on the signer (the clip forward and backward), then results with nobody in them
    (BodyPix sees a face in the empty room of intel_one_by_one_person, so an empty result stands
    for "nobody"): it holds for release_after frames, then glides back to the full frame and
    passes the picture unchanged."""
    frames, segs = signer
    effect = FrameEffect(FrameConfig(target="head", release_after=20))
    *_, (_, _, framed) = _run(effect, frames + frames[::-1], segs + segs[::-1])  # settled
    assert framed[2] < 0.8 * 640
    nobody = Segmentation.from_arrays(np.zeros((480, 640), bool))
    boxes = [box for *_, box in _run(effect, [frames[SETTLE]] * 150, [nobody] * 150)]
    assert boxes[19] == framed
    assert boxes[-1] == (0.0, 0.0, 640.0, 480.0)
    out, _ = effect.apply(frames[SETTLE].copy(), nobody)
    np.testing.assert_array_equal(out, frames[SETTLE])


def test_after_spotlight_it_frames_the_kept_person(children) -> None:
    """spotlight then frame (head) on the two children: the crop follows the kept child, whose
    face stays in the output, nearer its centre than the other child's would be."""
    frames, segs = children
    spotlight, framing = SpotlightEffect(SpotlightConfig()), FrameEffect(FrameConfig(target="head"))
    nearer = 0
    counted = 0
    for i, (frame, seg) in enumerate(zip(frames, segs, strict=True)):
        picture, kept = spotlight.apply(frame.copy(), seg)
        _, out_seg = framing.apply(picture, kept)
        if i < SETTLE or seg.person_count < 2 or spotlight.kept_label is None:
            continue
        faces = [_face(ids) for ids in seg.person_part_ids]
        if min(f.sum() for f in faces) < 200:
            continue
        x, _, bw, _ = framing.crop_box
        centres = [np.nonzero(f)[1].mean() for f in faces]
        distances = [abs(c - (x + bw / 2)) for c in centres]
        counted += 1
        nearer += distances[spotlight.kept_label - 1] == min(distances)
        assert _face(out_seg.part_ids).sum() > 0  # the kept face is in the output
        assert out_seg.person_count <= 1
    assert counted > 20 and nearer >= 0.9 * counted


def test_in_the_compositor_with_the_refined_matte(signer) -> None:
    """frame then blur behind the compositor's refiner (a refined matte, warped with the picture):
    the frames keep their size and the framed face is the picture's, unblurred."""
    frames, segs = signer
    compositor = Compositor(MaskConfig(), [FrameConfig(target="head"), BlurConfig()])
    for frame, seg in zip(frames[: SETTLE + 1], segs[: SETTLE + 1], strict=True):
        out = compositor.apply(frame.copy(), seg)
        assert out.shape == frame.shape
    framing = compositor.effects[0]
    assert isinstance(framing, FrameEffect) and framing.crop_box is not None
    box = framing.crop_box
    assert box[2] < 0.8 * frame.shape[1]
    expected = cv2.warpAffine(frame, zoom_matrix(frame.shape[:2], box), (frame.shape[1], frame.shape[0]))
    face = cv2.erode(_face(seg.zoomed(box).part_ids).astype(np.uint8), np.ones((9, 9), np.uint8)) > 0
    assert face.sum() > 1000
    assert np.abs(out[face].astype(int) - expected[face]).mean() < 2
