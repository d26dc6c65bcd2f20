"""Person mIoU (and coarse part accuracy) of a config on an image set with ground truth.

The set is an ``index.csv`` as in ../shared/data: columns image, mask, source, parts. Masks are
0 background / 255 person; part maps use CIHP class ids, which only map coarsely onto BodyPix's
24 parts, so parts are scored by body region (head, torso, arms, legs, feet).
"""

from __future__ import annotations

import csv
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from vcamseg.config import Config
from vcamseg.effects.refine import MaskRefiner
from vcamseg.imaging import mask_iou
from vcamseg.pipeline.builder import segmenter_for
from vcamseg.segmentation.segmenter import Segmenter

# Body regions: CIHP class ids -> BodyPix part ids (see ../shared/data/parts/LABELS.md).
REGIONS: dict[str, tuple[tuple[int, ...], tuple[int, ...]]] = {
    "head": ((1, 2, 4, 13), (0, 1)),
    "torso": ((5, 6, 7, 10, 11), (12, 13)),
    "arms": ((3, 14, 15), tuple(range(2, 12))),
    "legs": ((8, 9, 12, 16, 17), tuple(range(14, 22))),
    "feet": ((18, 19), (22, 23)),
}


def _region_lut(groups: list[tuple[int, ...]]) -> np.ndarray:
    lut = np.full(256, 255, np.uint8)
    for i, ids in enumerate(groups):
        lut[list(ids)] = i
    return lut


CIHP_TO_REGION = _region_lut([c for c, _ in REGIONS.values()])
BODYPIX_TO_REGION = _region_lut([b for _, b in REGIONS.values()])


@dataclass
class AccuracyReport:
    ious: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    part_hits: int = 0
    part_total: int = 0
    region_inter: np.ndarray = field(default_factory=lambda: np.zeros(len(REGIONS)))
    region_union: np.ndarray = field(default_factory=lambda: np.zeros(len(REGIONS)))
    seconds: float = 0.0
    device: str = ""

    @property
    def miou(self) -> float:
        all_ious = [v for values in self.ious.values() for v in values]
        return float(np.mean(all_ious)) if all_ious else float("nan")

    @property
    def part_accuracy(self) -> float:
        return self.part_hits / self.part_total if self.part_total else float("nan")

    def table(self) -> str:
        lines = ["| source | images | person mIoU |", "|---|---:|---:|"]
        for source, values in sorted(self.ious.items()):
            lines.append(f"| {source} | {len(values)} | {np.mean(values):.3f} |")
        count = sum(len(v) for v in self.ious.values())
        lines.append(f"| **all** | {count} | **{self.miou:.3f}** |")
        if self.part_total:
            region = " ".join(
                f"{name} {i / u:.2f}"
                for name, i, u in zip(REGIONS, self.region_inter, self.region_union, strict=True)
                if u
            )
            lines.append("")
            lines.append(f"part regions (CIHP images): pixel accuracy {self.part_accuracy:.3f}; IoU {region}")
        return "\n".join(lines)


# The CIHP viewer palette (RGB) of the part PNGs; OpenCV expands palettes, so ids come back by colour.
CIHP_PALETTE = (
    (0, 0, 0),
    (128, 0, 0),
    (255, 0, 0),
    (0, 85, 0),
    (170, 0, 51),
    (255, 85, 0),
    (0, 0, 85),
    (0, 119, 221),
    (85, 85, 0),
    (0, 85, 85),
    (85, 51, 0),
    (52, 86, 128),
    (0, 128, 0),
    (0, 0, 255),
    (51, 170, 221),
    (0, 255, 255),
    (85, 255, 170),
    (170, 255, 85),
    (255, 255, 0),
    (255, 170, 0),
)


def read_cihp_parts(path: Path) -> np.ndarray:
    """Class ids 0..19 of a palettised CIHP part PNG (255 for colours outside the palette)."""
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise FileNotFoundError(path)
    packed = (bgr[:, :, 2].astype(np.int32) << 16) | (bgr[:, :, 1].astype(np.int32) << 8) | bgr[:, :, 0]
    keys = np.array([(r << 16) | (g << 8) | b for r, g, b in CIHP_PALETTE])
    order = np.argsort(keys)
    pos = np.clip(np.searchsorted(keys[order], packed), 0, len(keys) - 1)
    ids = order[pos].astype(np.uint8)
    ids[keys[order][pos] != packed] = 255
    return ids


def read_gray(path: Path) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise FileNotFoundError(path)
    return image if image.ndim == 2 else image[:, :, 0]


def load_index(index_csv: Path, limit: int | None = None) -> tuple[list[dict[str, str]], list[np.ndarray]]:
    """The rows of an ``index.csv`` (the first ``limit``) and their images (BGR)."""
    with index_csv.open(newline="") as fh:
        rows = list(csv.DictReader(fh))[:limit]
    return rows, [cv2.imread(str(index_csv.parent / row["image"])) for row in rows]


def evaluate(
    config: Config, index_csv: Path, segmenter: Segmenter | None = None, limit: int | None = None
) -> AccuracyReport:
    root = index_csv.parent
    rows, images = load_index(index_csv, limit)
    segmenter = segmenter or segmenter_for(config.model, config.segmentation)
    calibrate(segmenter, images)
    report = AccuracyReport()
    start = time.perf_counter()
    for row, image in zip(rows, images, strict=True):
        truth = read_gray(root / row["mask"]) > 127
        seg = MaskRefiner(config.mask).refine(image, segmenter.segment(image))  # fresh refiner: images are independent
        pred = seg.alpha >= 128
        report.ious[row["source"]].append(mask_iou(pred, truth))
        if row.get("parts"):
            _score_parts(report, seg.part_ids_within(pred), read_cihp_parts(root / row["parts"]), pred & truth)
    report.seconds = time.perf_counter() - start
    report.device = segmenter.device
    return report


def calibrate(segmenter: Segmenter, images: list[np.ndarray], rounds: int = 4) -> None:
    """With int8 inference, let the calibration finish on these images first, so every image is
    scored by the model that a running daemon would use (not the float one it starts with)."""
    for _ in range(rounds):
        for image in images:
            segmenter.segment(image)
            if not segmenter.calibrating:
                return
        segmenter.settle()
        if not segmenter.calibrating:
            return


def _score_parts(report: AccuracyReport, part_ids: np.ndarray, cihp: np.ndarray, both: np.ndarray) -> None:
    pred = BODYPIX_TO_REGION[part_ids]
    truth = CIHP_TO_REGION[cihp]
    valid = both & (truth != 255)
    report.part_hits += int(np.count_nonzero(pred[valid] == truth[valid]))
    report.part_total += int(np.count_nonzero(valid))
    for r in range(len(REGIONS)):
        p, t = (pred == r) & valid, (truth == r) & valid
        report.region_inter[r] += np.count_nonzero(p & t)
        report.region_union[r] += np.count_nonzero(p | t)
