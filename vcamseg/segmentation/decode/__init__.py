"""BodyPix decoding: from the model's eight outputs to a lazy `Segmentation` (`decode`), with
person scores and part map (person.py), poses (poses.py), and the split of the person mask into
people (instances.py)."""

from __future__ import annotations

import numpy as np

from vcamseg.config.segmentation import SegmentationConfig
from vcamseg.segmentation.decode import instances, person
from vcamseg.segmentation.decode.poses import decode_poses
from vcamseg.segmentation.geometry import Geometry
from vcamseg.segmentation.graph import OUTPUT_INDEX
from vcamseg.segmentation.lazy import MaskedMap
from vcamseg.segmentation.result import Pose, Segmentation
from vcamseg.segmentation.selfie import blend

_OUT = OUTPUT_INDEX


def decode(
    outputs: tuple[np.ndarray, ...], geom: Geometry, cfg: SegmentationConfig, selfie_scores: np.ndarray | None = None
) -> Segmentation:
    """The `Segmentation` of one frame from the model's outputs (graph.OUTPUTS order, batch
    dimension dropped) and, with model.selfie on, the selfie model's scores (blended into
    BodyPix's at ``cfg.selfie_weight``). Poses and the people grid are decoded here (multi-person
    only); the full-size arrays are left to the result, computed when first asked for."""
    seg_logits = outputs[_OUT["segments"]][:, :, 0]
    part_logits = outputs[_OUT["part_heatmaps"]]
    poses: list[Pose] = []
    people: MaskedMap | None = None
    if cfg.multi_person:
        decoded = decode_poses(
            outputs[_OUT["heatmaps"]],
            outputs[_OUT["short_offsets"]],
            outputs[_OUT["displacement_fwd"]],
            outputs[_OUT["displacement_bwd"]],
            geom.stride,
            cfg.max_detections,
            cfg.score_threshold,
            cfg.nms_radius,
        )
        # decode_poses takes the threshold for its root candidates; a pose's instance score (its
        # keypoints' mean, less those an earlier pose claims) can still fall below it.
        kept = [(score, kp) for score, kp in decoded if score >= cfg.score_threshold]
        labels = instances.assign_people(
            outputs[_OUT["long_offsets"]], [kp for _, kp in kept], geom, cfg.refine_steps, cfg.min_keypoint_score
        )
        for score, kp in kept:
            frame_kp = kp.copy()
            frame_kp[:, :2] = geom.input_points_to_frame(kp[:, :2])
            poses.append(Pose(score, frame_kp))

        def people(mask: np.ndarray, labels: np.ndarray = labels) -> np.ndarray:
            return instances.people_map(labels, geom, mask)

    def small_scores() -> np.ndarray:
        scores = person.input_scores(seg_logits, geom)
        return scores if selfie_scores is None else blend(scores, selfie_scores, cfg.selfie_weight)

    def full_scores() -> np.ndarray:
        small = seg.input_scores
        assert small is not None
        return geom.input_to_frame(small)

    seg = Segmentation.lazy(
        (geom.frame_h, geom.frame_w),
        cfg.threshold,
        scores=full_scores,
        input_scores=small_scores,
        part_ids=lambda mask: person.part_ids(part_logits, geom, mask),
        people=people,
        poses=poses,
    )
    return seg.flipped() if cfg.flip_horizontal else seg
