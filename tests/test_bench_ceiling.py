"""The oracle ceilings of benchmarks/accuracy_ceiling.py on real images: each fixes only its own
kind of error, so it never scores below the measured IoU, and each finds the error it names."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.lib.ceiling import NAMES, ceilings
from tests.helpers import iou, load_pair, make_segmenter, rows
from vcamseg.config.mask import MaskConfig
from vcamseg.effects.refine import MaskRefiner


@pytest.fixture(scope="module")
def segmenter():
    return make_segmenter()


def _row(stem: str) -> dict[str, str]:
    return next(r for r in rows() if Path(r["image"]).stem == stem)


@pytest.mark.parametrize(
    ("stem", "named_error"),
    [
        ("0000261", "far false positives"),  # CIHP: the scouts behind the two labelled people
        ("girl-dance-dress-flowers-163508", "missed regions"),  # the flamenco dress BodyPix misses
    ],
)
def test_each_ceiling_fixes_only_its_error(segmenter, stem: str, named_error: str) -> None:
    image, truth = load_pair(_row(stem))
    values = ceilings(image, truth, segmenter, MaskConfig())
    assert list(values) == list(NAMES)
    measured = values["measured"]
    refined = MaskRefiner(MaskConfig()).refine(image, segmenter.segment(image))
    assert measured == pytest.approx(iou(refined.alpha >= 128, truth))
    assert all(v >= measured - 1e-9 for v in values.values())
    assert values["all three"] >= max(values["edges + far FP"], values["missed regions"]) - 1e-9
    assert values["edges + far FP"] >= max(values["edges"], values["far false positives"]) - 1e-9
    # The image's main error is the one its oracle removes: a large gain there.
    assert values[named_error] > measured + 0.2
