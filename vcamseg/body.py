"""BodyPix 2.0's body model as data: the 24 part names and the 17 pose keypoints in model channel
order, the pose tree, and the part colour palettes. Plain constants (no numpy, no OpenCV), used by
config validation, the decoding and the effects alike."""

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


# Part colour palettes (RGB, one colour per part in channel order).
Palette = tuple[tuple[int, int, int], ...]

# From BodyPix 2.0 (tfjs-models body-pix, Apache-2.0): RAINBOW_PART_COLORS in
# output_rendering_util.ts; warm and spectral from the demo's part_color_scales.js (d3-scale-chromatic).
RAINBOW: Palette = (
    (110, 64, 170),
    (143, 61, 178),
    (178, 60, 178),
    (210, 62, 167),
    (238, 67, 149),
    (255, 78, 125),
    (255, 94, 99),
    (255, 115, 75),
    (255, 140, 56),
    (239, 167, 47),
    (217, 194, 49),
    (194, 219, 64),
    (175, 240, 91),
    (135, 245, 87),
    (96, 247, 96),
    (64, 243, 115),
    (40, 234, 141),
    (28, 219, 169),
    (26, 199, 194),
    (33, 176, 213),
    (47, 150, 224),
    (65, 125, 224),
    (84, 101, 214),
    (99, 81, 195),
)
WARM: Palette = (
    (110, 64, 170),
    (106, 72, 183),
    (100, 81, 196),
    (92, 91, 206),
    (84, 101, 214),
    (75, 113, 221),
    (66, 125, 224),
    (56, 138, 226),
    (48, 150, 224),
    (40, 163, 220),
    (33, 176, 214),
    (29, 188, 205),
    (26, 199, 194),
    (26, 210, 182),
    (28, 219, 169),
    (33, 227, 155),
    (41, 234, 141),
    (51, 240, 128),
    (64, 243, 116),
    (79, 246, 105),
    (96, 247, 97),
    (115, 246, 91),
    (134, 245, 88),
    (155, 243, 88),
)
SPECTRAL: Palette = (
    (158, 1, 66),
    (181, 26, 71),
    (202, 50, 74),
    (219, 73, 74),
    (232, 94, 73),
    (242, 117, 75),
    (248, 142, 83),
    (251, 167, 96),
    (253, 190, 112),
    (254, 210, 129),
    (254, 227, 149),
    (254, 240, 166),
    (251, 248, 176),
    (243, 249, 172),
    (231, 245, 163),
    (213, 238, 159),
    (190, 229, 160),
    (164, 218, 163),
    (137, 207, 165),
    (110, 192, 168),
    (86, 173, 174),
    (70, 150, 179),
    (67, 127, 180),
    (77, 103, 173),
)
PALETTES: dict[str, Palette] = {"rainbow": RAINBOW, "warm": WARM, "spectral": SPECTRAL}
