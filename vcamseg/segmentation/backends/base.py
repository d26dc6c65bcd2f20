"""The backend contract and the choice between TensorFlow and TFLite.

Backends do not inherit from `Backend` (it documents the contract, as pyvirtualcam's does): they
run ``image[1,H,W,3] float32 -> tuple of the eight BodyPix outputs`` (graph.OUTPUTS order, NHWC
float32) and say which device really runs them.
"""

from __future__ import annotations

import logging
import time
from typing import Protocol

import numpy as np

from vcamseg.config.model import ModelConfig
from vcamseg.segmentation.graph import BodyPixGraph

log = logging.getLogger(__name__)


class Backend(Protocol):
    name: str  # "tensorflow" | "tflite"
    device: str  # e.g. "CPU (TFLite XNNPACK, 2 threads)", "GPU:0 (NVIDIA H100)"

    def run(self, image: np.ndarray) -> tuple[np.ndarray, ...]: ...


def gpu_names() -> list[str]:
    import tensorflow as tf

    return [d.name for d in tf.config.list_physical_devices("GPU")]


def create_backend(graph: BodyPixGraph, cfg: ModelConfig, probe_shape: tuple[int, int], cache_dir) -> Backend:
    """``auto``: TensorFlow when a GPU is visible; on the CPU, TFLite when int8 inference is wanted,
    else time both at the input size the frames will have and keep the faster (TFLite/XNNPACK
    usually wins by 1.3-2.6x)."""
    from vcamseg.segmentation.backends.tensorflow import TensorFlowBackend
    from vcamseg.segmentation.backends.tflite import TFLiteBackend

    choice = cfg.backend
    if choice == "tensorflow":
        return TensorFlowBackend(graph, cfg.threads)
    if choice == "tflite":
        return TFLiteBackend(graph, cfg.threads, cache_dir)
    gpus = gpu_names()
    if gpus:
        backend = TensorFlowBackend(graph, cfg.threads)
        log.info("GPU found (%s): inference on %s", ", ".join(gpus), backend.device)
        return backend
    if cfg.precision in ("auto", "int8"):
        # int8 runs on TFLite only, 3-4x faster than the TensorFlow graph: nothing to time.
        log.info("backend auto: tflite (int8 inference on the CPU runs there)")
        return TFLiteBackend(graph, cfg.threads, cache_dir)
    candidates: list[Backend] = [TFLiteBackend(graph, cfg.threads, cache_dir), TensorFlowBackend(graph, cfg.threads)]
    timings = {b.name: time_backend(b, probe_shape) for b in candidates}
    best = min(candidates, key=lambda b: timings[b.name])
    log.info(
        "backend auto: %s at %dx%d (median ms: %s)",
        best.name,
        probe_shape[1],
        probe_shape[0],
        ", ".join(f"{k} {v:.1f}" for k, v in timings.items()),
    )
    return best


def time_backend(backend: Backend, shape: tuple[int, int], warmup: int = 2, runs: int = 7) -> float:
    """Median milliseconds of one inference at ``shape`` (h, w)."""
    image = np.random.default_rng(0).uniform(-1, 1, (1, shape[0], shape[1], 3)).astype(np.float32)
    for _ in range(warmup):
        backend.run(image)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        backend.run(image)
        times.append(time.perf_counter() - start)
    return float(np.median(times) * 1000.0)
