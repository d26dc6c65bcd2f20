"""The per-person metric (vcamseg/bench/people.py): matching on synthetic label maps (pure), and
the real model on real street images with one mask per person."""

from __future__ import annotations

import numpy as np
import pytest

from tests.paths import DATA
from vcamseg.bench.people import PeopleReport, best_assignment, evaluate_people, iou_matrix, score_image
from vcamseg.config import Config


def _boxes(shape: tuple[int, int], boxes: list[tuple[int, int, int, int]]) -> np.ndarray:
    labels = np.zeros(shape, np.uint8)
    for i, (y0, x0, y1, x1) in enumerate(boxes, 1):
        labels[y0:y1, x0:x1] = i
    return labels


@pytest.mark.pure
def test_iou_matrix_and_the_best_one_to_one_assignment() -> None:
    truth = _boxes((40, 60), [(0, 0, 20, 20), (0, 30, 20, 50)])
    predicted = _boxes((40, 60), [(0, 30, 20, 50), (0, 0, 20, 10)])  # swapped order, the second half-sized
    iou = iou_matrix(truth, predicted)
    assert iou.shape == (2, 2)
    assert iou[1, 0] == 1.0 and iou[0, 1] == pytest.approx(0.5) and iou[0, 0] == 0.0
    assert sorted(best_assignment(iou)) == [(0, 1), (1, 0)]
    # The largest total wins over the greedy first pick: 0.6 + 0.6 beats 0.7 + 0.
    assert sorted(best_assignment(np.array([[0.7, 0.6], [0.6, 0.0]]))) == [(0, 1), (1, 0)]
    assert best_assignment(np.zeros((2, 3))) == []


@pytest.mark.pure
def test_merged_and_missed_people_count_against_recall_precision_and_count() -> None:
    truth = _boxes((40, 90), [(0, 0, 30, 20), (0, 22, 30, 42), (0, 70, 10, 80)])
    merged = _boxes((40, 90), [(0, 0, 30, 42)])  # the two touching people as one, the small one missed
    score = score_image("x", truth, merged)
    assert (score.true_people, score.predicted_people) == (3, 1)
    assert score.found == 0 and score.matched_predictions == 0  # one merged blob matches neither at 0.5
    report = PeopleReport([score, score_image("y", truth, truth)])
    assert report.recall == pytest.approx(3 / 6) and report.precision == pytest.approx(3 / 4)
    assert report.exact_count == 0.5
    assert report.mean_iou == pytest.approx((sum(score.ious) + 3.0) / 6)
    # Gaps in the ids are not people.
    assert score_image("z", truth * 2, truth).true_people == 3


def test_real_street_people_are_found_one_by_one() -> None:
    report = evaluate_people(Config(), DATA / "instances.csv", limit=8)
    assert len(report.images) == 8 and report.true_people >= 10
    assert report.recall > 0.7 and report.precision > 0.7 and report.mean_iou > 0.6
    assert all(s.predicted_people > 0 for s in report.images)
    assert "| 8 |" in report.table() and report.per_image().count("\n") == 9
