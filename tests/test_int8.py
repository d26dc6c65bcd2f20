"""int8 inference calibrated on the stream: it switches in, agrees with float, is cached, and
refuses bad calibration material."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.helpers import REPO, SHARED, iou, mobilenet_json
from vcamseg.config import Config
from vcamseg.pipeline.builder import segmenter_for
from vcamseg.segmentation.segmenter import Segmenter

VIDEO = SHARED / "data" / "videos" / "intel_asl_again.mp4"


def _frames(n: int) -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(VIDEO))
    frames = []
    while len(frames) < n:
        ok, frame = cap.read()
        if not ok:
            cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
            continue
        frames.append(frame)
    return frames


def _segmenter(cache: Path, precision: str) -> Segmenter:
    cfg = Config()
    cfg.model.cache_dir = cache
    cfg.model.precision = precision
    cfg.model.backend = "tflite"
    return segmenter_for(cfg.model, cfg.segmentation, model_json=mobilenet_json())


@pytest.fixture(scope="module")
def calibrated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Segmenter, Path]:
    cache = tmp_path_factory.mktemp("cache")
    segmenter = _segmenter(cache, "int8")
    for frame in _frames(80):
        segmenter.segment(frame)
    segmenter.settle()
    return segmenter, cache


def test_int8_switches_in_after_calibration_and_is_cached(calibrated: tuple[Segmenter, Path]) -> None:
    segmenter, cache = calibrated
    assert "int8" in segmenter.device
    cached = list((cache / "tflite").glob("*-int8.tflite"))
    assert len(cached) == 1 and cached[0].stat().st_size > 0
    # A new segmenter on the same cache starts on int8 at once.
    fresh = _segmenter(cache, "auto")
    fresh.segment(_frames(1)[0])
    assert "int8" in fresh.device and not fresh.calibrating


def test_int8_masks_agree_with_float(calibrated: tuple[Segmenter, Path]) -> None:
    segmenter, cache = calibrated
    reference = _segmenter(cache, "float")
    scores = [iou(segmenter.segment(f).mask, reference.segment(f).mask) for f in _frames(90)[60::6]]
    assert "float" in reference.device
    assert np.mean(scores) > 0.9


def test_flat_frames_are_not_calibration_material(tmp_path: Path) -> None:
    segmenter = _segmenter(tmp_path, "int8")
    black = np.zeros((240, 320, 3), np.uint8)
    for _ in range(90):
        segmenter.segment(black)
    segmenter.settle()
    assert "float" in segmenter.device and segmenter.calibrating  # still waiting for real pictures
    assert not list((tmp_path / "tflite").glob("*-int8.tflite"))


def test_float_precision_never_quantises(tmp_path: Path) -> None:
    segmenter = _segmenter(tmp_path, "float")
    for frame in _frames(80):
        segmenter.segment(frame)
    segmenter.settle()
    assert "float" in segmenter.device and not segmenter.calibrating


# Run in a child with TensorFlow made unimportable: any import of it raises ImportError.
_WITHOUT_TENSORFLOW = """
import sys
sys.modules["tensorflow"] = None
import json
from pathlib import Path
import cv2, numpy as np
from vcamseg.config import Config
from vcamseg.errors import ModelError
from vcamseg.pipeline.builder import segmenter_for
cache, model_json, image = (Path(arg) for arg in sys.argv[1:4])
cfg = Config()
cfg.model.cache_dir = cache
segmenter = segmenter_for(cfg.model, cfg.segmentation, model_json=model_json)
seg = segmenter.segment(cv2.imread(str(image)))
wrong = Config()
wrong.model.cache_dir = cache
wrong.model.output_stride = 8
try:
    segmenter_for(wrong.model, wrong.segmentation, model_json=model_json)
    stride_error = None
except ModelError as exc:
    stride_error = str(exc)
print(json.dumps({"device": segmenter.device, "person": int(np.count_nonzero(seg.mask)), "stride_error": stride_error}))
"""


def test_cached_cpu_path_runs_without_tensorflow(calibrated: tuple[Segmenter, Path], tmp_path: Path) -> None:
    """Once the TFLite and int8 files are cached, the default config on the CPU never imports
    TensorFlow (hundreds of MB, CUDA probing in the log): same masks, same checks."""
    _, cache = calibrated
    image = tmp_path / "frame.png"
    frame = _frames(40)[-1]
    cv2.imwrite(str(image), frame)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        [sys.executable, "-c", _WITHOUT_TENSORFLOW, str(cache), str(mobilenet_json()), str(image)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    child = json.loads(result.stdout.strip().splitlines()[-1])
    assert "int8" in child["device"]
    in_process = _segmenter(cache, "auto")
    assert child["person"] == int(np.count_nonzero(in_process.segment(frame).mask)) > 0
    # A wrong stride is still caught at load, on the cached conversion.
    assert child["stride_error"] and "output stride 16, but the config says 8" in child["stride_error"]
