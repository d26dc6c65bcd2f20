"""TensorFlow backend: the graph function itself. On a machine with a GPU, TensorFlow places it
there; we report the device the outputs really come from."""

from __future__ import annotations

import logging

import numpy as np

from vcamseg.segmentation.graph import BodyPixGraph

log = logging.getLogger(__name__)


def _set_threads(threads: int) -> None:
    import tensorflow as tf

    if threads <= 0:
        return
    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:  # already initialised: the first setting stays
        log.debug("TensorFlow threads already set; keeping them")


class TensorFlowBackend:
    """`Backend` on TensorFlow: the graph function, on the GPU when TensorFlow sees one."""

    name = "tensorflow"
    precision = "float"

    def __init__(self, graph: BodyPixGraph, threads: int = 0) -> None:
        import tensorflow as tf

        _set_threads(threads)
        self._tf = tf
        self._function = graph.function
        probe = self._function(tf.zeros([1, graph.output_stride + 1, graph.output_stride + 1, 3]))
        self.device = _describe_device(probe[0].device)

    def run(self, image: np.ndarray) -> tuple[np.ndarray, ...]:
        outputs = self._function(self._tf.constant(image))
        return tuple(o.numpy() for o in outputs)


def _describe_device(device: str) -> str:
    # "/job:localhost/replica:0/task:0/device:GPU:0" -> "GPU:0 (TensorFlow)"
    short = device.rsplit("device:", 1)[-1] if device else "CPU:0"
    return f"{short} (TensorFlow)"
