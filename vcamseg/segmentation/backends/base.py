"""The backend contract (`Backend`) and the choice between TensorFlow and TFLite (`create_backend`).

Backends do not inherit from `Backend`: it documents what the segmenter relies on, as
pyvirtualcam's ``Backend`` does, and a type checker holds every implementation (and a test's
fake) to it.
"""

from __future__ import annotations

import functools
import logging
import time
from pathlib import Path
from typing import Literal, Protocol

import numpy as np

from vcamseg.config.model import ModelConfig
from vcamseg.segmentation.graph import BodyPixGraph

log = logging.getLogger(__name__)

Precision = Literal["float", "int8"]


class Backend(Protocol):
    """Runs one BodyPix graph on one device.

    Duties of an implementation:

    * it is ready when constructed: the constructor loads (or converts) the model and raises
      `ModelError`, naming the fix, when it cannot; a kernel the machine lacks may still fail in
      the first `run`, which the segmenter runs once at the frames' size before any frame needs it;
    * ``run`` is called from one thread at a time (the segmentation thread), with inputs of any
      size ``k * stride + 1``; it may keep per-size state (TFLite re-allocates its tensors when
      the size changes) and reuse output buffers only until its next call;
    * it holds nothing that needs closing: dropping the last reference frees it (a live model
      change simply replaces the segmenter).
    """

    name: str
    """``"tensorflow"`` or ``"tflite"``: what ``model.backend`` calls it."""

    device: str
    """Where the outputs really come from, for the log and ``vcamseg status``: e.g.
    ``"CPU (TFLite XNNPACK float, 2 threads)"``, ``"GPU:0 (TensorFlow)"``."""

    precision: Precision
    """``"float"``, or ``"int8"`` for a quantised model (TFLite only). The segmenter starts an int8
    calibration on a float TFLite backend when int8 inference is wanted."""

    def run(self, image: np.ndarray) -> tuple[np.ndarray, ...]:
        """The eight BodyPix outputs (graph.OUTPUTS order, NHWC float32, batch of 1) for
        ``image`` [1, H, W, 3] float32, already normalised for the architecture. Raises what the
        runtime raises (TensorFlow's OpError, LiteRT's RuntimeError): the caller turns a failure
        at start into a ModelError (graph.model_failure)."""
        ...


# Device nodes of the GPU drivers TensorFlow can use (NVIDIA's; ROCm's; WSL's GPU bridge). With
# none of them there is no GPU to ask TensorFlow about.
GPU_DEVICE_NODES = ("/dev/nvidiactl", "/dev/nvidia0", "/dev/kfd", "/dev/dxg")


def gpu_driver_present() -> bool:
    """Whether this machine has a GPU driver TensorFlow could use (no import: a look at /dev)."""
    return any(Path(node).exists() for node in GPU_DEVICE_NODES)


@functools.cache
def gpu_names() -> list[str]:
    """The GPUs TensorFlow sees. Without a GPU driver it is [] without importing TensorFlow: its
    import costs hundreds of MB and logs failed CUDA calls on every machine without a GPU."""
    if not gpu_driver_present():
        return []
    import tensorflow as tf

    return [d.name for d in tf.config.list_physical_devices("GPU")]


def create_backend(graph: BodyPixGraph, cfg: ModelConfig, probe_shape: tuple[int, int], cache_dir: Path) -> Backend:
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
