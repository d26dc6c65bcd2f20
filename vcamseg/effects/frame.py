"""``frame`` — auto-framing (Apple's Center Stage, NVIDIA Broadcast's auto-frame): the frame is
cropped to the person (or the group) and scaled back to its own size, the crop moved smoothly by
a `FramingController` (framing.py: dead zone, bounded glide, release).

Where people are, per model result (averaged with the last result's, `NEW_RESULT_WEIGHT`):
heads from the face parts (``left_face``/``right_face``, which every BodyPix result has), one
per person with ``multi_person`` (the people map) or one per connected face region without it,
else from the poses' head keypoints; bodies from the person mask (per person with
``multi_person``). The crop asked for:

* ``head`` / ``upper_body``: the main head (the largest, or the one framed now while it is nearly
  as large: no hopping between two similar faces) fills ``HEAD_SHARE`` of the output's height,
  centred, its top ``headroom`` below the top;
* ``group``: every person's box with ``margin`` around it, the highest head ``headroom`` below the
  top where the crop is taller than the group.

The effect moves pixels, so it returns the segmentation moved the same way (`Segmentation.zoomed`)
and the effects after it (blur, replace) stay aligned with the picture.
"""

from __future__ import annotations

import cv2
import numpy as np

from vcamseg.body import PART_IDS
from vcamseg.config.effects import FrameConfig
from vcamseg.effects.base import EffectBase
from vcamseg.effects.framing import Crop, FramingController
from vcamseg.effects.kernels.buffers import Buffers
from vcamseg.effects.kernels.palettes import selection_lut
from vcamseg.segmentation.derived import warp, zoom_matrix
from vcamseg.segmentation.result import Segmentation

# The share of the output's height the main head takes.
HEAD_SHARE = {"head": 0.4, "upper_body": 0.2}
# People are located on every STEP-th pixel of the maps (a 1280x720 frame -> 640x360): exact
# enough for a crop, and cheap.
STEP = 2
# Each new result's crop is averaged with the last one by this weight: the model's frame-to-frame
# noise (a few pixels of hair) halves, a real move still shows at once.
NEW_RESULT_WEIGHT = 0.5
# A head or body smaller than this share of the frame's area is noise, not a person.
MIN_AREA = 0.0005
# The head framed now stays the main one while it is at least this share of the largest.
KEEP_HEAD = 0.7
_FACE = selection_lut({PART_IDS["left_face"], PART_IDS["right_face"]})
_HEAD_KEYPOINTS = slice(0, 5)  # nose, eyes, ears
_KEYPOINT_SCORE = 0.3

Bounds = tuple[float, float, float, float]  # x0, y0, x1, y1 in frame pixels


class FrameEffect(EffectBase[FrameConfig]):
    def __init__(self, config: FrameConfig) -> None:
        super().__init__(config)
        self._controller: FramingController | None = None
        self._wanted: Crop | None = None
        self._located: tuple[int, tuple[int, int]] | None = None  # (result_id, shape) located last
        self._buffers = Buffers()

    @property
    def crop_box(self) -> tuple[float, float, float, float] | None:
        """The crop (x, y, w, h) of the last frame, in its pixels (None before the first frame)."""
        return None if self._controller is None else self._controller.crop.box(self._controller.aspect)

    def apply(self, frame: np.ndarray, seg: Segmentation) -> tuple[np.ndarray, Segmentation]:
        h, w = frame.shape[:2]
        controller = self._controller
        if controller is None or (controller.frame_w, controller.frame_h) != (w, h):
            controller = self._controller = FramingController((w, h), self.config)
            self._located = None
        if self._located != (seg.result_id, seg.shape):  # the same result may come with several frames
            self._located = (seg.result_id, seg.shape)
            self._wanted = _averaged(self._wanted, self._wanted_crop(seg, controller))
        crop = controller.step(self._wanted)
        if crop == controller.full:
            return frame, seg
        box = crop.box(controller.aspect)
        matrix = zoom_matrix((h, w), box)
        zoomed = warp(frame, matrix, dst=self._buffers.like("zoomed", frame))
        np.copyto(frame, zoomed)  # the frame handed out is the pipeline's, never this buffer
        return frame, seg.zoomed(box)

    # --- where the subject is --------------------------------------------------------------------

    def _wanted_crop(self, seg: Segmentation, controller: FramingController) -> Crop | None:
        cfg = self.config
        heads = _heads(seg)
        if cfg.target == "group":
            bodies = _bodies(seg)
            if not bodies:
                return None
            return _group_crop(bodies, heads, controller, cfg.margin, cfg.headroom)
        if not heads:
            return None
        head = _main_head(heads, controller.goal if controller.goal != controller.full else None)
        x0, y0, x1, y1 = head
        crop_h = (y1 - y0) / HEAD_SHARE[cfg.target]
        return Crop((x0 + x1) / 2, y0 - cfg.headroom * crop_h + crop_h / 2, crop_h * controller.aspect)


def _averaged(last: Crop | None, new: Crop | None) -> Crop | None:
    if last is None or new is None:
        return new
    k = NEW_RESULT_WEIGHT
    return Crop(
        last.cx + k * (new.cx - last.cx), last.cy + k * (new.cy - last.cy), last.width + k * (new.width - last.width)
    )


def _main_head(heads: list[Bounds], framed: Crop | None) -> Bounds:
    """The largest head, unless the head framed now is nearly as large (it stays the main one)."""
    areas = [(x1 - x0) * (y1 - y0) for x0, y0, x1, y1 in heads]
    largest = max(range(len(heads)), key=areas.__getitem__)
    if framed is None:
        return heads[largest]
    nearest = min(range(len(heads)), key=lambda i: _distance(heads[i], framed))
    return heads[nearest] if areas[nearest] >= KEEP_HEAD * areas[largest] else heads[largest]


def _distance(head: Bounds, crop: Crop) -> float:
    return abs((head[0] + head[2]) / 2 - crop.cx) + abs((head[1] + head[3]) / 2 - crop.cy)


def _group_crop(
    bodies: list[Bounds], heads: list[Bounds], controller: FramingController, margin: float, headroom: float
) -> Crop:
    x0 = min(b[0] for b in bodies)
    y0 = min(b[1] for b in bodies)
    x1 = max(b[2] for b in bodies)
    y1 = max(b[3] for b in bodies)
    pad_x, pad_y = margin * (x1 - x0) / 2, margin * (y1 - y0) / 2
    x0, x1, y0, y1 = x0 - pad_x, x1 + pad_x, y0 - pad_y, y1 + pad_y
    width = max(x1 - x0, (y1 - y0) * controller.aspect)
    height = width / controller.aspect
    cy = (y0 + y1) / 2
    if heads:
        # A crop taller than the group: the spare height goes below, the highest head keeps its headroom.
        top = min(h[1] for h in heads) - headroom * height
        cy = max(min(cy, top + height / 2), y1 - height / 2)
    return Crop((x0 + x1) / 2, cy, width)


def _heads(seg: Segmentation) -> list[Bounds]:
    """One box per head found: face parts (per person or per connected region), else pose keypoints."""
    if seg.has_parts:
        faces = cv2.LUT(np.ascontiguousarray(seg.part_ids[::STEP, ::STEP]), _FACE)
        people = seg.people
        if people is not None and seg.person_count:
            labels = people[::STEP, ::STEP]
            found = [_bounds((faces > 0) & (labels == i), seg.shape) for i in range(1, seg.person_count + 1)]
        else:
            found = _regions(faces, seg.shape)
        heads = [b for b in found if b is not None]
        if heads:
            return heads
    heads = []
    for pose in seg.poses:
        head = pose.keypoints[_HEAD_KEYPOINTS]
        seen = head[head[:, 2] >= _KEYPOINT_SCORE]
        if len(seen) >= 2:
            # The eyes and ears span about half a head's height; the head's top is above them.
            x0, y0 = seen[:, 0].min(), seen[:, 1].min()
            x1 = seen[:, 0].max()
            size = max(x1 - x0, 1.0) * 1.6
            cx = (x0 + x1) / 2
            heads.append((cx - size / 2, y0 - size * 0.6, cx + size / 2, y0 + size * 0.4))
    return heads


def _bodies(seg: Segmentation) -> list[Bounds]:
    """One box per person (people map), or one for the whole person mask."""
    people = seg.people
    if people is not None and seg.person_count:
        labels = people[::STEP, ::STEP]
        found = [_bounds(labels == i, seg.shape) for i in range(1, seg.person_count + 1)]
    else:
        found = _regions(seg.mask[::STEP, ::STEP].astype(np.uint8), seg.shape)
    return [b for b in found if b is not None]


def _regions(mask: np.ndarray, shape: tuple[int, int]) -> list[Bounds | None]:
    """The bounds of each connected region of a reduced mask (uint8, non-zero = in)."""
    count, _, stats, _ = cv2.connectedComponentsWithStats((mask > 0).astype(np.uint8), connectivity=8)
    min_cells = MIN_AREA * mask.size
    return [
        _scaled_bounds(x, y, x + w, y + h, shape) for x, y, w, h, area in stats[1:count] if area >= max(min_cells, 4)
    ]


def _bounds(mask: np.ndarray, shape: tuple[int, int]) -> Bounds | None:
    """The bounds of a reduced bool mask in frame pixels (None: too small to be a person)."""
    cells = mask.view(np.uint8)
    if cv2.countNonZero(cells) < max(MIN_AREA * mask.size, 4):
        return None
    x, y, w, h = cv2.boundingRect(cells)
    return _scaled_bounds(x, y, x + w, y + h, shape)


def _scaled_bounds(x0: int, y0: int, x1: int, y1: int, shape: tuple[int, int]) -> Bounds:
    h, w = shape
    return float(x0 * STEP), float(y0 * STEP), float(min(w, x1 * STEP)), float(min(h, y1 * STEP))
