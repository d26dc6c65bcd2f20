"""Our vectorised pose decoding against tf-bodypix's port of BodyPix's decodeMultiplePoses, on
real model outputs: same poses, same scores, same keypoints (tf-bodypix is the reference we
replaced because it is ~2x slower; see README)."""

from __future__ import annotations

import numpy as np
import pytest
from tf_bodypix.bodypix_js_utils.multi_person.decode_multiple_poses import decodeMultiplePoses

from tests.helpers import load_pair, make_segmenter, rows
from vcamseg.segmentation.decode.poses import decode_poses
from vcamseg.segmentation.graph import OUTPUTS

OUT = {name: i for i, name in enumerate(OUTPUTS)}


@pytest.mark.parametrize("row", rows("cihp_multiperson")[:4], ids=lambda r: r["image"].split("/")[-1])
def test_poses_match_tf_bodypix(row: dict[str, str]) -> None:
    segmenter = make_segmenter()
    image, _ = load_pair(row)
    _, out = segmenter.infer(image)
    heat, short = out[OUT["heatmaps"]], out[OUT["short_offsets"]]
    fwd, bwd = out[OUT["displacement_fwd"]], out[OUT["displacement_bwd"]]
    ours = decode_poses(heat, short, fwd, bwd, 16, max_detections=10, score_threshold=0.3, nms_radius=20)
    theirs = decodeMultiplePoses(
        scoresBuffer=1 / (1 + np.exp(-heat)),
        offsetsBuffer=short,
        displacementsFwdBuffer=fwd,
        displacementsBwdBuffer=bwd,
        outputStride=16,
        maxPoseDetections=10,
        scoreThreshold=0.3,
        nmsRadius=20,
    )
    assert len(ours) == len(theirs) >= 1
    for (score, keypoints), pose in zip(ours, theirs, strict=True):
        assert score == pytest.approx(float(pose.score), abs=1e-4)
        for k, kp in pose.keypoints.items():
            assert keypoints[k, 0] == pytest.approx(float(kp.position.x), abs=1e-3)
            assert keypoints[k, 1] == pytest.approx(float(kp.position.y), abs=1e-3)
            assert keypoints[k, 2] == pytest.approx(float(kp.score), abs=1e-4)
