"""Inference speed: median ms per BodyPix variant and frame size, TensorFlow vs TFLite, and the
full segmentation of a frame (preprocess, model, decode, mask at full size) for a config."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from vcamseg.config import Config
from vcamseg.models.catalogue import Variant, all_variants
from vcamseg.models.store import variant_status
from vcamseg.pipeline.builder import segmenter_for
from vcamseg.segmentation.backends.base import time_backend
from vcamseg.segmentation.backends.tensorflow import TensorFlowBackend
from vcamseg.segmentation.backends.tflite import TFLiteBackend, convert_int8
from vcamseg.segmentation.segmenter import Segmenter

FRAME_SIZES = ((480, 640), (720, 1280))


@dataclass
class InferenceRow:
    variant: str
    frame: tuple[int, int]
    model_input: tuple[int, int]
    tensorflow_ms: float
    tflite_ms: float
    int8_ms: float


def local_variants(cfg: Config) -> list[Variant]:
    return [v for v in all_variants() if variant_status(v, cfg.model).where != "missing"]


def inference_rows(
    cfg: Config,
    variants: Iterable[Variant],
    video: Path,
    runs: int = 15,
    sizes: Iterable[tuple[int, int]] = FRAME_SIZES,
) -> list[InferenceRow]:
    """Median model ms per variant and frame size: TensorFlow, TFLite float and TFLite int8 (the
    int8 model calibrated on real frames of ``video``, as the daemon calibrates on its stream)."""
    out = []
    for variant in variants:
        model_cfg = variant.apply_to(cfg.model)
        out += graph_rows(variant.key, segmenter_for(model_cfg, cfg.segmentation), video, runs, sizes)
    return out


def graph_rows(
    key: str, segmenter: Segmenter, video: Path, runs: int = 15, sizes: Iterable[tuple[int, int]] = FRAME_SIZES
) -> list[InferenceRow]:
    """The rows of ``inference_rows`` for the model a segmenter holds (any graph, e.g. synthetic)."""
    graph, threads, cache_dir = segmenter.model.graph, segmenter.model.config.threads, segmenter.model.cache_dir
    tensorflow = TensorFlowBackend(graph, threads)
    tflite = TFLiteBackend(graph, threads, cache_dir)
    out = []
    for h, w in sizes:
        geom = segmenter.geometry(h, w)
        shape = (geom.input_h, geom.input_w)
        calibration = [segmenter.preprocess(video_frame(video, (h, w), i), geom).copy() for i in range(0, 48, 3)]
        int8 = TFLiteBackend(graph, threads, cache_dir, model=convert_int8(graph, calibration), precision="int8")
        tf_ms, tfl_ms, int8_ms = (time_backend(b, shape, warmup=3, runs=runs) for b in (tensorflow, tflite, int8))
        out.append(InferenceRow(key, (h, w), shape, tf_ms, tfl_ms, int8_ms))
    return out


def inference_table(rows: list[InferenceRow]) -> str:
    lines = [
        "| variant | frame | model input | TensorFlow ms | TFLite float ms | TFLite int8 ms "
        "| float vs TF | int8 vs TF |",
        "|---|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r.variant} | {r.frame[1]}x{r.frame[0]} | {r.model_input[1]}x{r.model_input[0]} | "
            f"{r.tensorflow_ms:.1f} | {r.tflite_ms:.1f} | {r.int8_ms:.1f} | "
            f"{r.tensorflow_ms / r.tflite_ms:.2f}x | {r.tensorflow_ms / r.int8_ms:.2f}x |"
        )
    return "\n".join(lines)


def video_frame(path: Path, size: tuple[int, int], index: int = 30) -> np.ndarray:
    cap = cv2.VideoCapture(str(path))
    cap.set(cv2.CAP_PROP_POS_FRAMES, index)
    ok, frame = cap.read()
    cap.release()
    if not ok:
        raise FileNotFoundError(f"cannot read a frame from {path}")
    return cv2.resize(frame, (size[1], size[0]), interpolation=cv2.INTER_LINEAR)


@dataclass
class PipelineTiming:
    total_ms: float
    preprocess_ms: float
    model_ms: float
    decode_ms: float
    upsample_ms: float
    device: str


def segmentation_ms(cfg: Config, frames: list[np.ndarray], runs: int = 50) -> PipelineTiming:
    """Median ms of a full segmentation of ``frames[0]``: preprocess, model, decode and the
    full-size mask (and, with multi_person, the people map). The other frames warm up the
    segmenter first (backend choice and, for int8, the calibration), as a running stream would."""
    segmenter = segmenter_for(cfg.model, cfg.segmentation)
    for warm in frames:
        _ = segmenter.segment(warm).mask
    segmenter.settle()
    frame = frames[0]
    for _ in range(3):
        _ = segmenter.segment(frame).mask
    totals, parts = [], []
    for _ in range(runs):
        start = time.perf_counter()
        seg = segmenter.segment(frame)
        mid = time.perf_counter()
        _ = seg.mask
        if cfg.segmentation.multi_person:
            _ = seg.people
        end = time.perf_counter()
        t = segmenter.timings
        totals.append((end - start) * 1000)
        parts.append((t.preprocess, t.model, t.decode, (end - mid) * 1000))
    med = np.median(parts, axis=0)
    return PipelineTiming(float(np.median(totals)), *map(float, med), segmenter.device)
