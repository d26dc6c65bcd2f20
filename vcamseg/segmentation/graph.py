"""A BodyPix graph model as a TensorFlow function: frames in, the eight BodyPix outputs out."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vcamseg.errors import ModelError
from vcamseg.models.store import model_digest
from vcamseg.models.tfjs import TfjsGraphModel, read_model_json, read_weights, to_graph_def

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


@dataclass
class BodyPixGraph:
    """The loaded graph: ``function(image[1,H,W,3] float32) -> tuple of OUTPUTS``."""

    path: Path
    architecture: str  # "MobileNetV1" | "ResNet50"
    output_stride: int
    function: Any  # tf.types.experimental.ConcreteFunction
    digest: str  # sha256 over model.json and shards: cache key for conversions


def load_graph(model_json: Path, architecture: str, output_stride: int) -> BodyPixGraph:
    """Read the tfjs files and wrap them as a TensorFlow function with a dynamic input size."""
    import tensorflow as tf

    model = read_model_json(model_json)
    weights = read_weights(model)
    graph_def = to_graph_def(model, weights)
    names = _output_map(model)
    inputs = model.input_names
    if len(inputs) != 1:
        raise ModelError(
            f"{model_json}: expected one input placeholder, found {inputs}", fix="use a BodyPix 2.0 model-stride*.json"
        )

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

    function = bodypix.get_concrete_function()
    actual = _measured_stride(function)
    if actual != output_stride:
        raise ModelError(
            f"{model_json} has output stride {actual}, but the config says {output_stride}",
            fix=f"set model.output_stride: {actual} or use the model-stride{output_stride}.json file",
        )
    return BodyPixGraph(model_json, architecture, output_stride, function, model_digest(model_json))


def _measured_stride(function: Any) -> int:
    """The graph's real output stride: a 65-pixel input gives a (64/stride + 1)-cell grid."""
    import tensorflow as tf

    cells = int(function(tf.zeros([1, 65, 65, 3]))[0].shape[1])
    return 64 // max(1, cells - 1)


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
