"""TFLite backend: the graph converted once to TFLite (cached on disk, keyed by the model's
checksum and the TensorFlow version) and run by LiteRT's interpreter with XNNPACK on the CPU."""

from __future__ import annotations

import contextlib
import functools
import importlib.metadata
import logging
import os
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from vcamseg.atomic import replace_file
from vcamseg.errors import ModelError
from vcamseg.segmentation.graph import STRIDE_PROBE_SIZE, BodyPixGraph, stride_for_grid

if TYPE_CHECKING:
    from vcamseg.segmentation.backends.base import Precision

log = logging.getLogger(__name__)


def open_interpreter(model: Path | bytes, threads: int) -> Any:
    """A LiteRT interpreter (XNNPACK on the CPU) for a .tflite file or its bytes."""
    try:  # LiteRT: the maintained home of the TFLite interpreter
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:  # pragma: no cover - older installs
        import tensorflow as tf

        Interpreter = tf.lite.Interpreter
    source = {"model_content": model} if isinstance(model, bytes) else {"model_path": str(model)}
    return Interpreter(**source, num_threads=threads)


def cache_path(graph: BodyPixGraph, cache_dir: Path, precision: Precision = "float") -> Path:
    """Where the conversion of ``graph`` lives: keyed by the model files' sha256 and the converter."""
    suffix = "" if precision == "float" else f"-{precision}"
    return cache_dir / "tflite" / f"{graph.digest[:32]}-tf{converter_version()}{suffix}.tflite"


def cached(graph: BodyPixGraph, cache_dir: Path, precision: Precision = "float") -> Path | None:
    """The cached conversion of ``graph`` at ``precision``, if there is one."""
    path = cache_path(graph, cache_dir, precision)
    return path if path.is_file() and path.stat().st_size > 0 else None


@functools.cache
def converter_version() -> str:
    """TensorFlow's version (the converter's), read from its installed metadata: looking a
    conversion up in the cache must not import TensorFlow."""
    for dist in ("tensorflow", "tensorflow-cpu", "tf-nightly"):
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            return importlib.metadata.version(dist)
    import tensorflow as tf  # an install without metadata: ask the module itself

    return tf.__version__


def measured_stride(model: Path) -> int:
    """The output stride of a TFLite conversion, run on LiteRT (no TensorFlow)."""
    interp = open_interpreter(model, threads=1)
    index = interp.get_input_details()[0]["index"]
    interp.resize_tensor_input(index, [1, STRIDE_PROBE_SIZE, STRIDE_PROBE_SIZE, 3], strict=False)
    interp.allocate_tensors()
    interp.set_tensor(index, np.zeros((1, STRIDE_PROBE_SIZE, STRIDE_PROBE_SIZE, 3), np.float32))
    interp.invoke()
    return stride_for_grid(int(interp.get_tensor(interp.get_output_details()[0]["index"]).shape[1]))


def convert(graph: BodyPixGraph, cache_dir: Path) -> Path | bytes:
    """The .tflite file for ``graph``, converting and caching it when needed; the converted model
    itself (bytes) when the cache cannot be written (full, read-only): it runs from memory."""
    target = cache_path(graph, cache_dir)
    if cached(graph, cache_dir) is not None:
        return target  # without importing TensorFlow
    import tensorflow as tf

    log.info("converting %s to TFLite (once; cached in %s)", graph.path.name, target.parent)
    converter = tf.lite.TFLiteConverter.from_concrete_functions([graph.for_conversion()])
    try:
        content = converter.convert()
    except Exception as exc:  # the converter raises many types
        raise ModelError(
            f"TFLite conversion of {graph.path} failed: {exc}", fix="use model.backend: tensorflow"
        ) from None
    try:
        replace_file(target, content)
    except OSError as exc:
        log.warning(
            "could not cache the TFLite conversion in %s (%s); running it from memory, and converting "
            "again at the next start",
            target.parent,
            exc.strerror or exc,
        )
        return content
    return target


def convert_int8(graph: BodyPixGraph, calibration: list[np.ndarray], function: Any = None) -> bytes:
    """Full-integer (int8) TFLite of ``graph`` (or of ``function``, one form of it: benchmarks
    compare them), its activation ranges calibrated on ``calibration`` (model inputs [1, h, w, 3]
    from real frames); float input and outputs, so it is a drop-in. XNNPACK's int8 kernels run
    MobileNet ~2x faster than float on x86 (VNNI) and ARM."""
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_concrete_functions([function or graph.for_conversion()])
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = lambda: ([image] for image in calibration)
    try:
        with warnings.catch_warnings():  # "Statistics for quantized inputs were expected": inputs stay float
            warnings.simplefilter("ignore", UserWarning)
            return converter.convert()
    except Exception as exc:  # the converter raises many types
        raise ModelError(f"int8 conversion of {graph.path} failed: {exc}", fix="set model.precision: float") from None


def write_cache(target: Path, content: bytes) -> bool:
    """Cache a conversion; False (logged) when the cache cannot be written."""
    try:
        replace_file(target, content)
    except OSError as exc:
        log.warning("could not cache %s in %s (%s)", target.name, target.parent, exc.strerror or exc)
        return False
    return True


class TFLiteBackend:
    """`Backend` on LiteRT (XNNPACK, CPU): the graph's TFLite conversion, or ``model`` when given
    (an int8 conversion, with ``precision="int8"``)."""

    name = "tflite"

    def __init__(
        self,
        graph: BodyPixGraph,
        threads: int,
        cache_dir: Path,
        model: Path | bytes | None = None,
        precision: Precision = "float",
    ) -> None:
        if model is None:
            model = convert(graph, cache_dir)
        self.precision = precision
        self.threads = threads if threads > 0 else (os.cpu_count() or 1)
        self._interp = open_interpreter(model, self.threads)
        self._input = self._interp.get_input_details()[0]["index"]
        self._outputs = [d["index"] for d in self._interp.get_output_details()]
        self._shape: tuple[int, ...] | None = None
        self.device = f"CPU (TFLite XNNPACK {precision}, {self.threads} threads)"

    def run(self, image: np.ndarray) -> tuple[np.ndarray, ...]:
        if image.shape != self._shape:
            self._interp.resize_tensor_input(self._input, list(image.shape), strict=False)
            self._interp.allocate_tensors()
            self._shape = image.shape
        self._interp.set_tensor(self._input, image)
        self._interp.invoke()
        return tuple(self._interp.get_tensor(i) for i in self._outputs)
