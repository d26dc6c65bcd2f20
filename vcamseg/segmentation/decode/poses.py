"""Multi-person pose decoding (PoseNet / BodyPix ``decodeMultiplePoses``), in model-input pixels.

Candidates (local maxima of every keypoint heatmap above the score threshold) are found with one
max-filter over all 17 channels instead of a Python loop over every cell; the greedy decoding
that follows touches only the candidates.
"""

from __future__ import annotations

import cv2
import numpy as np

from vcamseg.body import NUM_KEYPOINTS, POSE_CHAIN

LOCAL_MAXIMUM_RADIUS = 1
OFFSET_REFINE_STEPS = 2
_PARENT = np.array([p for p, _ in POSE_CHAIN])
_CHILD = np.array([c for _, c in POSE_CHAIN])


def _candidates(scores: np.ndarray, threshold: float) -> np.ndarray:
    """(score, y, x, k) rows of local maxima, highest score first."""
    size = 2 * LOCAL_MAXIMUM_RADIUS + 1
    local_max = cv2.dilate(scores, np.ones((size, size), np.uint8), borderType=cv2.BORDER_REPLICATE)
    ys, xs, ks = np.nonzero((scores >= threshold) & (scores >= local_max))
    vals = scores[ys, xs, ks]
    order = np.argsort(-vals, kind="stable")
    return np.stack([vals[order], ys[order], xs[order], ks[order]], axis=1)


def _point_on_grid(y: float, x: float, stride: int, h: int, w: int) -> tuple[int, int]:
    return (min(max(round(y / stride), 0), h - 1), min(max(round(x / stride), 0), w - 1))


def _traverse(
    edge: int,
    src_y: float,
    src_x: float,
    target: int,
    scores: np.ndarray,
    offsets: np.ndarray,
    stride: int,
    displacements: np.ndarray,
) -> tuple[float, float, float]:
    h, w = scores.shape[:2]
    num_edges = displacements.shape[2] // 2
    gy, gx = _point_on_grid(src_y, src_x, stride, h, w)
    y = src_y + displacements[gy, gx, edge]
    x = src_x + displacements[gy, gx, num_edges + edge]
    for _ in range(OFFSET_REFINE_STEPS):
        gy, gx = _point_on_grid(y, x, stride, h, w)
        y = gy * stride + offsets[gy, gx, target]
        x = gx * stride + offsets[gy, gx, target + NUM_KEYPOINTS]
    gy, gx = _point_on_grid(y, x, stride, h, w)
    return float(y), float(x), float(scores[gy, gx, target])


def _decode_pose(
    root_score: float,
    ry: int,
    rx: int,
    rk: int,
    scores: np.ndarray,
    offsets: np.ndarray,
    stride: int,
    fwd: np.ndarray,
    bwd: np.ndarray,
) -> np.ndarray:
    """Keypoints (17, 3) as (x, y, score), starting from one root part."""
    kp = np.full((NUM_KEYPOINTS, 3), np.nan, np.float32)
    kp[rk] = (rx * stride + offsets[ry, rx, rk + NUM_KEYPOINTS], ry * stride + offsets[ry, rx, rk], root_score)
    done = np.zeros(NUM_KEYPOINTS, bool)
    done[rk] = True
    for edge in range(len(POSE_CHAIN) - 1, -1, -1):  # up the tree: child -> parent
        src, dst = _CHILD[edge], _PARENT[edge]
        if done[src] and not done[dst]:
            y, x, s = _traverse(edge, kp[src, 1], kp[src, 0], dst, scores, offsets, stride, bwd)
            kp[dst] = (x, y, s)
            done[dst] = True
    for edge in range(len(POSE_CHAIN)):  # down the tree: parent -> child
        src, dst = _PARENT[edge], _CHILD[edge]
        if done[src] and not done[dst]:
            y, x, s = _traverse(edge, kp[src, 1], kp[src, 0], dst, scores, offsets, stride, fwd)
            kp[dst] = (x, y, s)
            done[dst] = True
    return kp


def decode_poses(
    heatmap_logits: np.ndarray,
    short_offsets: np.ndarray,
    displacement_fwd: np.ndarray,
    displacement_bwd: np.ndarray,
    stride: int,
    max_detections: int = 10,
    score_threshold: float = 0.3,
    nms_radius: float = 20.0,
) -> list[tuple[float, np.ndarray]]:
    """Poses as (score, keypoints (17, 3) x/y/score) in model-input pixels, best first."""
    scores = (1.0 / (1.0 + np.exp(-heatmap_logits))).astype(np.float32)
    sq_radius = nms_radius * nms_radius
    poses: list[tuple[float, np.ndarray]] = []
    for score, y, x, k in _candidates(scores, score_threshold):
        if len(poses) >= max_detections:
            break
        y, x, k = int(y), int(x), int(k)
        root_y = y * stride + short_offsets[y, x, k]
        root_x = x * stride + short_offsets[y, x, k + NUM_KEYPOINTS]
        if any((p[k, 0] - root_x) ** 2 + (p[k, 1] - root_y) ** 2 <= sq_radius for _, p in poses):
            continue
        kp = _decode_pose(float(score), y, x, k, scores, short_offsets, stride, displacement_fwd, displacement_bwd)
        poses.append((_instance_score(poses, sq_radius, kp), kp))
    return poses


def _instance_score(existing: list[tuple[float, np.ndarray]], sq_radius: float, kp: np.ndarray) -> float:
    """Mean keypoint score, not counting keypoints that an earlier pose already claims."""
    free = np.ones(NUM_KEYPOINTS, bool)
    for _, other in existing:
        d2 = (other[:, 0] - kp[:, 0]) ** 2 + (other[:, 1] - kp[:, 1]) ** 2
        free &= d2 > sq_radius
    return float(kp[free, 2].sum() / NUM_KEYPOINTS)
