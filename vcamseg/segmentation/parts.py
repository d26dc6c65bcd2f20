"""BodyPix 2.0 names: the 24 body parts and the 17 pose keypoints, in model channel order."""

from __future__ import annotations

PART_NAMES: tuple[str, ...] = (
    "left_face",
    "right_face",
    "left_upper_arm_front",
    "left_upper_arm_back",
    "right_upper_arm_front",
    "right_upper_arm_back",
    "left_lower_arm_front",
    "left_lower_arm_back",
    "right_lower_arm_front",
    "right_lower_arm_back",
    "left_hand",
    "right_hand",
    "torso_front",
    "torso_back",
    "left_upper_leg_front",
    "left_upper_leg_back",
    "right_upper_leg_front",
    "right_upper_leg_back",
    "left_lower_leg_front",
    "left_lower_leg_back",
    "right_lower_leg_front",
    "right_lower_leg_back",
    "left_foot",
    "right_foot",
)
PART_IDS: dict[str, int] = {name: i for i, name in enumerate(PART_NAMES)}
# BodyPix itself spells the last two "left_feet"/"right_feet"; accept both.
PART_IDS.update({"left_feet": 22, "right_feet": 23})
BACKGROUND = 255  # part id / label value outside any person

KEYPOINT_NAMES: tuple[str, ...] = (
    "nose",
    "left_eye",
    "right_eye",
    "left_ear",
    "right_ear",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
)
NUM_KEYPOINTS = len(KEYPOINT_NAMES)

# Parent -> child keypoint edges of the pose tree (PoseNet's POSE_CHAIN).
POSE_CHAIN: tuple[tuple[int, int], ...] = tuple(
    (KEYPOINT_NAMES.index(a), KEYPOINT_NAMES.index(b))
    for a, b in (
        ("nose", "left_eye"),
        ("left_eye", "left_ear"),
        ("nose", "right_eye"),
        ("right_eye", "right_ear"),
        ("nose", "left_shoulder"),
        ("left_shoulder", "left_elbow"),
        ("left_elbow", "left_wrist"),
        ("left_shoulder", "left_hip"),
        ("left_hip", "left_knee"),
        ("left_knee", "left_ankle"),
        ("nose", "right_shoulder"),
        ("right_shoulder", "right_elbow"),
        ("right_elbow", "right_wrist"),
        ("right_shoulder", "right_hip"),
        ("right_hip", "right_knee"),
        ("right_knee", "right_ankle"),
    )
)


def part_id(name: str) -> int:
    """The part id for a BodyPix part name; KeyError names the valid ones."""
    try:
        return PART_IDS[name]
    except KeyError:
        raise KeyError(f"unknown body part {name!r}; valid parts: {', '.join(PART_NAMES)}") from None
