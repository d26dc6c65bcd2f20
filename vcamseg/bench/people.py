"""Per-person accuracy: is each predicted person the right person? Scored against per-person
ground truth (an ``instances.csv`` as in ../shared/data: columns image, instances, persons; the
instance PNGs hold 0 for background and 1..N, one id per person).

Matching, per image: the IoU of every true person with every predicted person (a label of the
segmentation's ``people`` map, cut by the refined matte as the effects see it), then the
one-to-one assignment with the largest summed IoU (exact, over subsets: images hold few people);
a pair with IoU 0 is never matched. Figures over a set:

* recall: true people whose match has IoU >= 0.5, over the true people;
* precision: predicted people whose match has IoU >= 0.5, over the predicted people;
* mean IoU per true person, an unmatched one counting 0;
* exact count: the share of images with as many predicted people as true ones;
* and the binary person mask's mean IoU on the same images, for comparison.
"""

from __future__ import annotations

import csv
import functools
import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from vcamseg.bench.accuracy import calibrate, read_gray
from vcamseg.config import Config
from vcamseg.effects.refine import MaskRefiner
from vcamseg.imaging import mask_iou
from vcamseg.pipeline.builder import segmenter_for
from vcamseg.segmentation.segmenter import Segmenter

MATCH_IOU = 0.5
MAX_PEOPLE = 16  # the exact assignment enumerates subsets of the smaller side


def iou_matrix(truth: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """IoU[i, j] of true person i+1 and predicted person j+1 (label maps of one shape, 0 = none);
    rows and columns for every label up to each map's maximum (absent labels score 0)."""
    if truth.shape != predicted.shape:
        raise ValueError(f"label maps of different shapes: {truth.shape} vs {predicted.shape}")
    n_true, n_pred = int(truth.max(initial=0)), int(predicted.max(initial=0))
    joint = np.bincount(
        truth.astype(np.int64).ravel() * (n_pred + 1) + predicted.astype(np.int64).ravel(),
        minlength=(n_true + 1) * (n_pred + 1),
    ).reshape(n_true + 1, n_pred + 1)
    inter = joint[1:, 1:].astype(np.float64)
    union = joint[1:, :].sum(1)[:, None] + joint[:, 1:].sum(0)[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def best_assignment(iou: np.ndarray) -> list[tuple[int, int]]:
    """The one-to-one (row, column) pairs with the largest summed IoU, pairs of IoU 0 left out."""
    if iou.size == 0:
        return []
    transposed = iou.shape[0] > iou.shape[1]
    m = iou.T if transposed else iou  # rows <= columns: subsets of the columns are enumerated
    rows, cols = m.shape
    if cols > MAX_PEOPLE:
        raise ValueError(f"{cols} people in one image: more than the exact matcher's {MAX_PEOPLE}")

    @functools.cache
    def best(row: int, used: int) -> tuple[float, tuple[tuple[int, int], ...]]:
        if row == rows:
            return 0.0, ()
        top = best(row + 1, used)  # this row unmatched
        for col in range(cols):
            if not used >> col & 1 and m[row, col] > 0:
                value, rest = best(row + 1, used | 1 << col)
                if value + m[row, col] > top[0]:
                    top = (value + float(m[row, col]), ((row, col), *rest))
        return top

    pairs = best(0, 0)[1]
    return [(c, r) for r, c in pairs] if transposed else list(pairs)


@dataclass(frozen=True)
class ImageScore:
    name: str
    true_people: int
    predicted_people: int
    ious: tuple[float, ...]  # per true person, its match's IoU (0 when unmatched)
    matched_predictions: int  # predicted people matched at IoU >= MATCH_IOU
    mask_iou: float

    @property
    def found(self) -> int:
        return sum(v >= MATCH_IOU for v in self.ious)


def score_image(
    name: str, truth: np.ndarray, predicted: np.ndarray, mask_iou_value: float = float("nan")
) -> ImageScore:
    """One image's per-person score; people are the non-empty labels of each map."""
    truth, predicted = _compact(truth), _compact(predicted)
    iou = iou_matrix(truth, predicted)
    pairs = best_assignment(iou)
    per_true = np.zeros(iou.shape[0])
    for r, c in pairs:
        per_true[r] = iou[r, c]
    matched = sum(iou[r, c] >= MATCH_IOU for r, c in pairs)
    return ImageScore(name, iou.shape[0], iou.shape[1], tuple(float(v) for v in per_true), int(matched), mask_iou_value)


def _compact(labels: np.ndarray) -> np.ndarray:
    """Labels renumbered 1..K over the non-empty ones (a missing id is no person)."""
    present = np.unique(labels)
    present = present[present > 0]
    lut = np.zeros(int(labels.max(initial=0)) + 1, np.int64)
    lut[present] = np.arange(1, len(present) + 1)
    return lut[labels]


@dataclass
class PeopleReport:
    images: list[ImageScore] = field(default_factory=list)
    seconds: float = 0.0
    device: str = ""

    @property
    def true_people(self) -> int:
        return sum(s.true_people for s in self.images)

    @property
    def predicted_people(self) -> int:
        return sum(s.predicted_people for s in self.images)

    @property
    def recall(self) -> float:
        return sum(s.found for s in self.images) / max(1, self.true_people)

    @property
    def precision(self) -> float:
        return sum(s.matched_predictions for s in self.images) / max(1, self.predicted_people)

    @property
    def mean_iou(self) -> float:
        values = [v for s in self.images for v in s.ious]
        return float(np.mean(values)) if values else float("nan")

    @property
    def exact_count(self) -> float:
        return float(np.mean([s.true_people == s.predicted_people for s in self.images])) if self.images else 0.0

    @property
    def mask_miou(self) -> float:
        return float(np.nanmean([s.mask_iou for s in self.images])) if self.images else float("nan")

    def table(self) -> str:
        return "\n".join(
            [
                "| images | true people | predicted | recall@0.5 | precision | mean IoU / true person | exact count "
                "| person mask IoU |",
                "|---:|---:|---:|---:|---:|---:|---:|---:|",
                f"| {len(self.images)} | {self.true_people} | {self.predicted_people} | {self.recall:.3f} | "
                f"{self.precision:.3f} | {self.mean_iou:.3f} | {self.exact_count:.1%} | {self.mask_miou:.3f} |",
            ]
        )

    def per_image(self) -> str:
        lines = ["| image | true | predicted | IoU per true person | person mask IoU |", "|---|---:|---:|---|---:|"]
        for s in self.images:
            ious = " ".join(f"{v:.2f}" for v in s.ious)
            lines.append(f"| {s.name} | {s.true_people} | {s.predicted_people} | {ious} | {s.mask_iou:.3f} |")
        return "\n".join(lines)


def evaluate_people(
    config: Config, instances_csv: Path, segmenter: Segmenter | None = None, limit: int | None = None
) -> PeopleReport:
    """Score ``config`` (its segmentation run multi-person, whatever it says) on every image of
    ``instances_csv`` (the first ``limit``)."""
    root = instances_csv.parent
    with instances_csv.open(newline="") as fh:
        rows = list(csv.DictReader(fh))[:limit]
    images = [cv2.imread(str(root / row["image"])) for row in rows]
    if segmenter is None:
        segmentation = config.segmentation.model_copy(update={"multi_person": True})
        segmenter = segmenter_for(config.model, segmentation)
    calibrate(segmenter, images)
    report = PeopleReport(device=segmenter.device)
    start = time.perf_counter()
    for row, image in zip(rows, images, strict=True):
        truth = read_gray(root / row["instances"])
        seg = MaskRefiner(config.mask).refine(image, segmenter.segment(image))  # fresh: images are independent
        matte = seg.alpha >= 128
        people = seg.people_within(matte)
        predicted = np.zeros(truth.shape, np.uint8) if people is None else people
        report.images.append(score_image(Path(row["image"]).name, truth, predicted, mask_iou(matte, truth > 0)))
    report.seconds = time.perf_counter() - start
    report.device = segmenter.device
    return report
