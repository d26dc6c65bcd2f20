"""A BodyPix graph model as a TensorFlow function: frames in, the eight BodyPix outputs out
(built on first use: a cached TFLite conversion runs without TensorFlow)."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vcamseg.errors import ModelError
from vcamseg.models.tfjs import TfjsGraphModel, read_model_json, read_weights, to_graph_def
from vcamseg.segmentation.dilation import rewrite_dilations

log = logging.getLogger(__name__)

# The model's outputs in the order every backend returns them.
OUTPUTS = (
    "segments",
    "part_heatmaps",
    "heatmaps",
    "short_offsets",
    "long_offsets",
    "part_offsets",
    "displacement_fwd",
    "displacement_bwd",
)
OUTPUT_INDEX = {name: i for i, name in enumerate(OUTPUTS)}
_OUTPUT_SUFFIX = {
    "float_segments": "segments",
    "float_part_heatmaps": "part_heatmaps",
    "float_heatmaps": "heatmaps",
    "float_short_offsets": "short_offsets",
    "float_long_offsets": "long_offsets",
    "float_part_offsets": "part_offsets",
    "displacement_fwd_2/BiasAdd": "displacement_fwd",
    "displacement_bwd_2/BiasAdd": "displacement_bwd",
}
# ResNet50 expects RGB minus the ImageNet mean (tfjs-models body-pix resnet.ts); MobileNet x/127.5-1.
IMAGENET_MEAN_RGB = (123.15, 115.90, 103.06)


@dataclass(eq=False)  # compared by identity: it holds a TensorFlow function once built
class BodyPixGraph:
    """A BodyPix graph: ``function(image[1,H,W,3] float32) -> tuple of OUTPUTS``.

    TensorFlow is imported, and the graph built, only when ``function`` or `for_conversion` is
    first used: on the CPU a cached TFLite conversion runs without it (TensorFlow's import costs
    hundreds of MB and, on machines without a GPU, fills the log with CUDA probing).

    ``function`` runs on every TensorFlow device (dilated convolutions through SpaceToBatchND, see
    dilation.py); `for_conversion` is the graph as published, with its dilated kernels, which the
    TFLite converter maps onto TFLite's native dilated convolutions: that model runs faster than a
    conversion of the rewritten graph (float 0.50 stride 8 at 481x265 on 2 cores: 22.7 vs 29.2 ms
    float, 21.3 vs 24.1 ms int8; README, "Dilated convolutions").
    """

    path: Path
    architecture: str  # "MobileNetV1" | "ResNet50"
    output_stride: int
    digest: str  # sha256 over model.json and shards: cache key for conversions
    model: TfjsGraphModel = field(repr=False)
    _built: _Built | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def function(self) -> Any:
        """The TensorFlow concrete function (built, and its stride checked, on first use)."""
        return self._build().function

    @property
    def built(self) -> bool:
        """Whether TensorFlow has been needed (and imported) for this graph."""
        return self._built is not None

    def for_conversion(self) -> Any:
        """The concrete function to hand to the TFLite converter."""
        built = self._build()
        if built.published is None:
            return built.function
        if built.for_conversion is None:
            built.for_conversion = _concrete_function(self.path, built.published, self.model)
        return built.for_conversion

    def check_stride(self, actual: int) -> None:
        """Raise ModelError when the graph's measured output stride is not the configured one."""
        if actual != self.output_stride:
            raise ModelError(
                f"{self.path} has output stride {actual}, but the config says {self.output_stride}",
                fix=f"set model.output_stride: {actual} or use the model-stride{self.output_stride}.json file",
            )

    def _build(self) -> _Built:
        with self._lock:  # the int8 calibration thread and the segmenting thread may both ask
            if self._built is None:
                self._built = _build(self)
            return self._built


@dataclass(eq=False)
class _Built:
    function: Any  # tf.types.experimental.ConcreteFunction
    published: Any  # the GraphDef before the dilation rewrite (None: nothing was rewritten)
    for_conversion: Any = None


def load_graph(model_json: Path, architecture: str, output_stride: int, *, digest: str) -> BodyPixGraph:
    """Read the tfjs model.json (its outputs and input checked; TensorFlow not needed yet).
    ``digest`` is the files' `model_digest` (`ModelFiles.digest`: the loading step computed it
    while verifying them), the key of the graph's cached conversions. The stride is checked when
    the graph is first built, or by the caller on a cached conversion (`check_stride`)."""
    model = read_model_json(model_json)
    _output_map(model)
    _single_input(model)
    return BodyPixGraph(model_json, architecture, output_stride, digest, model)


def _build(graph: BodyPixGraph) -> _Built:
    """The TensorFlow function of ``graph``, its stride measured (imports TensorFlow)."""
    import tensorflow as tf

    weights = read_weights(graph.model)
    graph_def = to_graph_def(graph.model, weights)
    published = type(graph_def)()
    published.CopyFrom(graph_def)
    try:
        dilated = rewrite_dilations(graph_def)
    except ValueError as exc:
        raise ModelError(
            f"{graph.path}: {exc}, which a BodyPix graph does not have",
            fix="use an official BodyPix 2.0 model-stride*.json",
        ) from None
    if dilated:
        log.debug("%s: %d dilated convolution(s) run through SpaceToBatchND", graph.path.name, dilated)
    function = _concrete_function(graph.path, graph_def, graph.model)
    try:
        actual = _measured_stride(function)
    except tf.errors.OpError as exc:
        variant = f"{graph.architecture} stride {graph.output_stride} ({graph.path})"
        raise model_failure(variant, "tensorflow", exc) from None
    graph.check_stride(actual)
    return _Built(function, published if dilated else None)


def _single_input(model: TfjsGraphModel) -> str:
    inputs = model.input_names
    if len(inputs) != 1:
        raise ModelError(
            f"{model.path}: expected one input placeholder, found {inputs}", fix="use a BodyPix 2.0 model-stride*.json"
        )
    return inputs[0]


def _concrete_function(model_json: Path, graph_def: Any, model: TfjsGraphModel | None = None) -> Any:
    """``graph_def`` as a concrete function image[1, H, W, 3] -> the eight OUTPUTS."""
    import tensorflow as tf

    model = model or read_model_json(model_json)
    names = _output_map(model)
    inputs = [_single_input(model)]

    def _import() -> None:
        tf.compat.v1.import_graph_def(graph_def, name="")

    try:
        wrapped = tf.compat.v1.wrap_function(_import, [])
        graph = wrapped.graph
        pruned = wrapped.prune(
            feeds=[graph.get_tensor_by_name(f"{inputs[0]}:0")],
            fetches=[graph.get_tensor_by_name(f"{names[o]}:0") for o in OUTPUTS],
        )
    except (ValueError, KeyError, tf.errors.OpError) as exc:
        raise ModelError(
            f"{model_json}: TensorFlow cannot build the graph ({exc})",
            fix="the model file is damaged or not a BodyPix 2.0 graph; fetch it again",
        ) from None

    @tf.function(input_signature=[tf.TensorSpec([1, None, None, 3], tf.float32, name="image")], autograph=False)
    def bodypix(image: tf.Tensor) -> tuple[tf.Tensor, ...]:
        return tuple(pruned(image))

    return bodypix.get_concrete_function()


def model_failure(variant: str, backend: str, exc: BaseException) -> ModelError:
    """A model that fails inside its first run: the variant, the backend and what to try instead,
    never a traceback (the kernel's message is kept, first line only)."""
    reason = (getattr(exc, "message", None) or str(exc)).strip().splitlines()[0] if str(exc).strip() else repr(exc)
    other = "model.backend: tflite" if backend == "tensorflow" else "model.backend: tensorflow"
    return ModelError(
        f"the model {variant} does not run on the {backend} backend of this machine: {reason}",
        fix=f"try {other}, or another model.output_stride (16 uses fewer dilated convolutions); "
        "if it persists, please report it with `vcamseg models list` output",
    )


STRIDE_PROBE_SIZE = 65  # a 65-pixel input gives a (64/stride + 1)-cell grid


def stride_for_grid(cells: int) -> int:
    """The output stride that maps a `STRIDE_PROBE_SIZE` input onto ``cells`` output cells."""
    return 64 // max(1, cells - 1)


def _measured_stride(function: Any) -> int:
    """The graph's real output stride, run on TensorFlow."""
    import tensorflow as tf

    probe = tf.zeros([1, STRIDE_PROBE_SIZE, STRIDE_PROBE_SIZE, 3])
    return stride_for_grid(int(function(probe)[0].shape[1]))


def _output_map(model: TfjsGraphModel) -> dict[str, str]:
    found: dict[str, str] = {}
    for name in model.output_names:
        for suffix, key in _OUTPUT_SUFFIX.items():
            if name == suffix or name.endswith("/" + suffix):
                found[key] = name
    missing = [o for o in OUTPUTS if o not in found]
    if missing:
        raise ModelError(
            f"{model.path}: not a BodyPix 2.0 graph (outputs {', '.join(missing)} missing)",
            fix="use an official BodyPix 2.0 model-stride*.json",
        )
    return found
