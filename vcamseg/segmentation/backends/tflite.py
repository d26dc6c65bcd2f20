"""TFLite backend: the graph converted once to TFLite (cached on disk, keyed by the model's
checksum and the TensorFlow version) and run by LiteRT's interpreter with XNNPACK on the CPU."""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

import numpy as np

from vcamseg.errors import ModelError
from vcamseg.segmentation.graph import BodyPixGraph

log = logging.getLogger(__name__)


def _interpreter_class() -> type:
    try:  # LiteRT: the maintained home of the TFLite interpreter
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:  # pragma: no cover - older installs
        import tensorflow as tf

        Interpreter = tf.lite.Interpreter
    return Interpreter


def convert(graph: BodyPixGraph, cache_dir: Path) -> Path:
    """The .tflite file for ``graph``, converting and caching it when needed."""
    import tensorflow as tf

    target = cache_dir / "tflite" / f"{graph.digest[:32]}-tf{tf.__version__}.tflite"
    if target.is_file() and target.stat().st_size > 0:
        return target
    log.info("converting %s to TFLite (once; cached in %s)", graph.path.name, target.parent)
    converter = tf.lite.TFLiteConverter.from_concrete_functions([graph.function])
    try:
        content = converter.convert()
    except Exception as exc:  # the converter raises many types
        raise ModelError(
            f"TFLite conversion of {graph.path} failed: {exc}", fix="use model.backend: tensorflow"
        ) from None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=target.parent, delete=False, suffix=".part") as fh:
            fh.write(content)
            tmp = Path(fh.name)
        os.replace(tmp, target)
    except OSError as exc:
        log.warning(
            "could not cache the TFLite conversion in %s (%s); converting again next start", target.parent, exc.strerror
        )
        fallback = Path(tempfile.mkdtemp(prefix="vcamseg-")) / target.name
        fallback.write_bytes(content)
        return fallback
    return target


class TFLiteBackend:
    name = "tflite"

    def __init__(self, graph: BodyPixGraph, threads: int, cache_dir: Path) -> None:
        path = convert(graph, cache_dir)
        self.threads = threads if threads > 0 else (os.cpu_count() or 1)
        self._interp = _interpreter_class()(model_path=str(path), num_threads=self.threads)
        self._input = self._interp.get_input_details()[0]["index"]
        self._outputs = [d["index"] for d in self._interp.get_output_details()]
        self._shape: tuple[int, ...] | None = None
        self.device = f"CPU (TFLite XNNPACK, {self.threads} threads)"

    def run(self, image: np.ndarray) -> tuple[np.ndarray, ...]:
        if image.shape != self._shape:
            self._interp.resize_tensor_input(self._input, list(image.shape), strict=False)
            self._interp.allocate_tensors()
            self._shape = image.shape
        self._interp.set_tensor(self._input, image)
        self._interp.invoke()
        return tuple(self._interp.get_tensor(i) for i in self._outputs)
