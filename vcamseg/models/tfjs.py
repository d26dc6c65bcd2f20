"""Read a TensorFlow.js graph model (model.json + weight shards) into a TensorFlow GraphDef.

We own this instead of depending on tensorflowjs / tfjs-graph-converter: those packages pin
jax/flax/TF-DF versions that break current TensorFlow, and the format is small:

* ``modelTopology`` is a GraphDef in protobuf's JSON mapping, with the ``Const`` nodes' values
  left out;
* ``weightsManifest`` lists, group by group, the shard files and the weights stored in them back
  to back, each ``float32``/``int32`` raw or affine-quantised as ``uint8``/``uint16``
  (``value = q * scale + min``) or stored as ``float16``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vcamseg.errors import ModelError

# Bytes per stored element, and the numpy dtype to read it as.
_STORED_DTYPES: dict[str, np.dtype] = {
    "float32": np.dtype("<f4"),
    "int32": np.dtype("<i4"),
    "uint8": np.dtype("u1"),
    "uint16": np.dtype("<u2"),
    "float16": np.dtype("<f2"),
}
_OUTPUT_DTYPES = {"float32": np.float32, "int32": np.int32}

# Attributes that hold one value per NHWC dimension. Some BodyPix graphs (e.g. MobileNet 1.00
# stride 16) write depthwise ``dilations`` as [2, 2, 1, 1] (HW first), which TensorFlow rejects.
_NHWC_ATTRS = ("dilations", "strides", "ksize")

# The ops a model may use. A graph is data, but TensorFlow's op registry also holds ops that touch
# the world (ReadFile, WriteFile, Save, ...): a model folder from anywhere must not run those. The
# official BodyPix graphs use the first line; the rest are pure tensor ops that converted tfjs
# graphs commonly hold.
ALLOWED_OPS = frozenset(
    {
        "Const",
        "Placeholder",
        "Conv2D",
        "DepthwiseConv2dNative",
        "BiasAdd",
        "Relu",
        "Relu6",
        "Add",
        "Minimum",
        "Maximum",
        "Pad",
        "MaxPool",
        "Identity",
        "AddV2",
        "Sub",
        "Mul",
        "RealDiv",
        "Sigmoid",
        "Tanh",
        "Softmax",
        "AvgPool",
        "Reshape",
        "Squeeze",
        "ExpandDims",
        "ConcatV2",
        "Transpose",
        "ResizeBilinear",
        "Cast",
        "FusedBatchNorm",
        "FusedBatchNormV3",
        "_FusedConv2D",
        "FusedDepthwiseConv2dNative",
        "StridedSlice",
        "Shape",
        "Pack",
    }
)


@dataclass(frozen=True)
class WeightSpec:
    name: str
    shape: tuple[int, ...]
    dtype: str  # dtype of the tensor in the graph
    stored_dtype: str  # dtype of the bytes in the shard
    scale: float | None = None
    minimum: float | None = None

    @property
    def nbytes(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) * _STORED_DTYPES[self.stored_dtype].itemsize


@dataclass(frozen=True)
class WeightGroup:
    paths: tuple[str, ...]
    weights: tuple[WeightSpec, ...]


@dataclass(frozen=True)
class TfjsGraphModel:
    """A parsed model.json: the topology (as a dict) and its weight manifest."""

    path: Path
    topology: dict[str, Any]
    groups: tuple[WeightGroup, ...]

    @property
    def shard_paths(self) -> list[Path]:
        return [self.path.parent / p for g in self.groups for p in g.paths]

    @property
    def input_names(self) -> list[str]:
        return [n["name"] for n in self.topology.get("node", []) if n.get("op") == "Placeholder"]

    @property
    def output_names(self) -> list[str]:
        """Nodes that no other node consumes, in graph order."""
        nodes = self.topology.get("node", [])
        consumed = {i.lstrip("^").split(":")[0] for n in nodes for i in n.get("input", [])}
        return [n["name"] for n in nodes if n["name"] not in consumed and n.get("op") != "Const"]


def read_model_json(path: str | Path) -> TfjsGraphModel:
    """Parse and check a model.json; raise ModelError naming the file and the fix."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(
            f"model file {path} does not exist",
            fix="fetch it with `vcamseg models fetch` or point model.dir at a folder that has it",
        ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(
            f"model file {path} is not readable JSON ({exc})",
            fix="delete it and fetch it again with `vcamseg models fetch`",
        ) from None
    if not isinstance(doc, dict) or "modelTopology" not in doc or "weightsManifest" not in doc:
        raise ModelError(
            f"{path} is not a TensorFlow.js graph model (no modelTopology/weightsManifest)",
            fix="use a BodyPix model-stride*.json from the official storage",
        )
    fmt = doc.get("format", "graph-model")
    if fmt != "graph-model":
        raise ModelError(
            f"{path} has format {fmt!r}, expected 'graph-model'", fix="use a BodyPix graph model (model-stride*.json)"
        )
    groups = []
    for gi, group in enumerate(doc["weightsManifest"]):
        weights = []
        for w in group.get("weights", []):
            weights.append(_weight_spec(path, gi, w))
        groups.append(WeightGroup(tuple(group.get("paths", [])), tuple(weights)))
    topology = doc["modelTopology"]
    _check_ops(path, topology)
    return TfjsGraphModel(path, topology, tuple(groups))


def _check_ops(path: Path, topology: Any) -> None:
    nodes = topology.get("node", []) if isinstance(topology, dict) else None
    if not isinstance(nodes, list) or not all(isinstance(n, dict) and isinstance(n.get("name"), str) for n in nodes):
        raise ModelError(
            f"{path}: modelTopology.node is not a list of named nodes",
            fix="the file is damaged; delete it and fetch it again with `vcamseg models fetch`",
        )
    library = topology.get("library") or {}
    if not isinstance(library, dict) or library.get("function"):
        raise ModelError(
            f"{path}: the graph defines functions, which a BodyPix model does not",
            fix="use an official BodyPix model-stride*.json",
        )
    unknown = sorted({str(n.get("op")) for n in nodes} - ALLOWED_OPS)
    if unknown:
        raise ModelError(
            f"{path}: the graph uses op(s) {', '.join(unknown)}, which a BodyPix model does not "
            "(only tensor arithmetic is allowed: a model must not read or write files)",
            fix="use an official BodyPix model-stride*.json",
        )


def _weight_spec(path: Path, group: int, w: dict[str, Any]) -> WeightSpec:
    name = w.get("name", "?")
    dtype = w.get("dtype")
    if dtype not in _OUTPUT_DTYPES:
        raise ModelError(
            f"{path}: weight {name!r} has unsupported dtype {dtype!r} (supported: float32, int32)",
            fix="the file is not a BodyPix 2.0 model or is damaged; fetch it again",
        )
    quant = w.get("quantization")
    if quant is None:
        return WeightSpec(name, tuple(int(s) for s in w["shape"]), dtype, dtype)
    qdtype = quant.get("dtype")
    if qdtype not in ("uint8", "uint16", "float16"):
        raise ModelError(
            f"{path}: weight {name!r} has unsupported quantisation dtype {qdtype!r} "
            "(supported: uint8, uint16, float16)",
            fix="the file is not a BodyPix 2.0 model or is damaged; fetch it again",
        )
    if qdtype == "float16":
        return WeightSpec(name, tuple(int(s) for s in w["shape"]), dtype, qdtype)
    return WeightSpec(
        name,
        tuple(int(s) for s in w["shape"]),
        dtype,
        qdtype,
        scale=float(quant["scale"]),
        minimum=float(quant["min"]),
    )


def read_weights(model: TfjsGraphModel) -> dict[str, np.ndarray]:
    """Read and dequantise every weight; sizes are checked against the manifest."""
    out: dict[str, np.ndarray] = {}
    for group in model.groups:
        data = b"".join(_read_shard(model.path.parent / p) for p in group.paths)
        expected = sum(w.nbytes for w in group.weights)
        if len(data) != expected:
            names = ", ".join(str(model.path.parent / p) for p in group.paths)
            raise ModelError(
                f"weight shard(s) {names} hold {len(data)} bytes but {model.path.name} "
                f"describes {expected} bytes: the file is truncated or from another model",
                fix="delete the shard and fetch it again with `vcamseg models fetch`",
            )
        offset = 0
        for w in group.weights:
            raw = np.frombuffer(
                data, dtype=_STORED_DTYPES[w.stored_dtype], count=int(np.prod(w.shape, dtype=np.int64)), offset=offset
            )
            offset += w.nbytes
            out[w.name] = _dequantise(raw, w).reshape(w.shape)
    return out


def _read_shard(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ModelError(
            f"weight shard {path} does not exist", fix="fetch the model again with `vcamseg models fetch`"
        ) from None
    except OSError as exc:
        raise ModelError(
            f"weight shard {path} is not readable ({exc.strerror})", fix="check its permissions or fetch it again"
        ) from None


def _dequantise(raw: np.ndarray, w: WeightSpec) -> np.ndarray:
    target = _OUTPUT_DTYPES[w.dtype]
    if w.scale is None:
        return raw.astype(target, copy=False)
    # tfjs: value = q * scale + min, computed in float32 as tfjs does.
    values = raw.astype(np.float32) * np.float32(w.scale) + np.float32(w.minimum)
    if target is np.int32:
        # Quantised integers (e.g. ResNet50's pad amounts) must round, not truncate: 255 * (3/255)
        # is 2.9999998 in float32.
        return np.rint(values).astype(np.int32)
    return values.astype(target, copy=False)


def to_graph_def(model: TfjsGraphModel, weights: dict[str, np.ndarray] | None = None) -> Any:
    """Build a ``tf.compat.v1.GraphDef`` with the weights filled into the Const nodes."""
    import tensorflow as tf
    from google.protobuf import json_format

    if weights is None:
        weights = read_weights(model)
    topology = {k: v for k, v in model.topology.items() if k in ("node", "versions", "library")}
    graph_def = json_format.ParseDict(topology, tf.compat.v1.GraphDef(), ignore_unknown_fields=True)
    for node in graph_def.node:
        _normalise_nhwc_attrs(node)
        if node.op == "Const" and node.name in weights:
            node.attr["value"].tensor.CopyFrom(tf.make_tensor_proto(weights[node.name]))
        elif node.op == "Const" and not node.attr["value"].tensor.tensor_content and node.name not in weights:
            # A Const with an inline value (scalars) keeps it; one without is a broken model.
            t = node.attr["value"].tensor
            if not (t.float_val or t.int_val or t.int64_val or t.string_val or t.bool_val or t.double_val):
                raise ModelError(
                    f"{model.path}: constant {node.name!r} has no value in the weight manifest",
                    fix="the model.json and its shards do not belong together; fetch the model again",
                )
    return graph_def


def _normalise_nhwc_attrs(node: Any) -> None:
    fmt = node.attr["data_format"].s.decode() if "data_format" in node.attr else "NHWC"
    if fmt != "NHWC":
        return
    for key in _NHWC_ATTRS:
        if key not in node.attr:
            continue
        values = list(node.attr[key].list.i)
        # [h, w, 1, 1] with h or w > 1 is HW-first; NHWC wants [1, h, w, 1].
        if len(values) == 4 and values[2:] == [1, 1] and (values[0] > 1 or values[1] > 1):
            node.attr[key].list.i[:] = [1, values[0], values[1], 1]
