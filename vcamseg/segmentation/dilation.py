"""Dilated convolutions rewritten so that every TensorFlow CPU kernel and every GPU runs them.

TensorFlow's own CPU kernel for ``DepthwiseConv2dNative`` refuses dilations ("Current kernel
implementation does not support dilations"); the oneDNN kernels that accept them are only used
by default on CPUs with AVX-512-class features. BodyPix's stride-8 graphs (and MobileNet 1.00 at
stride 16, ResNet50's block 4) dilate, so on most laptops the graph as published does not run.

``tf.nn.depthwise_conv2d`` itself never emits a dilated kernel: it wraps an undilated
convolution in SpaceToBatchND / BatchToSpaceND (``tf.nn.with_space_to_batch``). We do the same
on the GraphDef, with the paddings computed from the input's shape at run time (BodyPix takes
any input size):

    SpaceToBatchND(x, [r, r], paddings) -> conv(padding=VALID, dilations=1) -> BatchToSpaceND(crops)

``paddings`` = the SAME padding of the dilated kernel, plus what makes the padded size a multiple
of ``r`` (cropped again afterwards), as ``tf.required_space_to_batch_paddings`` computes it. The
result is the dilated convolution's, element for element (tests/test_dilation.py compares it
with TFLite's native dilated kernel).
"""

from __future__ import annotations

from typing import Any

import numpy as np

_CONVOLUTIONS = ("DepthwiseConv2dNative", "Conv2D")


def rewrite_dilations(graph_def: Any) -> int:
    """Replace every dilated ``DepthwiseConv2dNative`` / ``Conv2D`` of ``graph_def`` (NHWC
    ``dilations`` already normalised, stride 1) in place; returns how many were rewritten. The
    rewritten node keeps its name, so its consumers are untouched."""
    import tensorflow as tf

    weights = {n.name: n for n in graph_def.node if n.op == "Const"}
    rewritten = 0
    replaced: list[tuple[int, list[Any]]] = []
    for index, node in enumerate(graph_def.node):
        if node.op not in _CONVOLUTIONS or "dilations" not in node.attr:
            continue
        dilations = list(node.attr["dilations"].list.i)
        if len(dilations) != 4 or dilations[1:3] == [1, 1]:
            continue
        if dilations[0] != 1 or dilations[3] != 1:
            raise ValueError(f"{node.name}: dilations {dilations} along batch or channels")
        strides = list(node.attr["strides"].list.i) if "strides" in node.attr else [1, 1, 1, 1]
        if strides[1:3] != [1, 1]:
            raise ValueError(f"{node.name}: a dilated convolution with strides {strides}")
        kernel = _kernel_size(node, weights)
        replaced.append((index, _space_to_batch_nodes(tf, node, (dilations[1], dilations[2]), kernel)))
        rewritten += 1
    for index, nodes in reversed(replaced):
        del graph_def.node[index]
        for offset, new in enumerate(nodes):
            graph_def.node.insert(index + offset, new)
    return rewritten


def _kernel_size(node: Any, weights: dict[str, Any]) -> tuple[int, int]:
    filter_name = node.input[1].split(":")[0].lstrip("^")
    const = weights.get(filter_name)
    if const is None:
        raise ValueError(f"{node.name}: its filter {filter_name!r} is not a constant")
    shape = [d.size for d in const.attr["value"].tensor.tensor_shape.dim]
    return int(shape[0]), int(shape[1])


def _space_to_batch_nodes(tf: Any, node: Any, rate: tuple[int, int], kernel: tuple[int, int]) -> list[Any]:
    """The nodes that compute ``node`` without a dilated kernel; the last one has its name."""
    name = node.name
    x = node.input[0]
    same = node.attr["padding"].s == b"SAME"
    # The padding SAME gives the dilated kernel: (k - 1) * r in all, the smaller half first.
    total = [(k - 1) * r if same else 0 for k, r in zip(kernel, rate, strict=True)]
    start = [t // 2 for t in total]
    end = [t - s for t, s in zip(total, start, strict=True)]
    block = list(rate)

    def const(suffix: str, values: list[int]) -> Any:
        return _node(
            tf,
            "Const",
            f"{name}/s2b/{suffix}",
            [],
            dtype=tf.int32,
            value=tf.make_tensor_proto(np.asarray(values, np.int32)),
        )

    def op(kind: str, suffix: str, inputs: list[str], **attrs: Any) -> Any:
        return _node(tf, kind, f"{name}/s2b/{suffix}", inputs, **attrs)

    p = f"{name}/s2b/"
    nodes = [
        const("block", block),
        const("start", start),
        const("end", end),
        const("total", total),
        const("begin1", [1]),
        const("end3", [3]),
        const("one", [1]),
        const("zeros", [0, 0]),
        op("Shape", "shape", [x], T=tf.float32, out_type=tf.int32),
        op("StridedSlice", "hw", [p + "shape", p + "begin1", p + "end3", p + "one"], T=tf.int32, Index=tf.int32),
        op("AddV2", "padded", [p + "hw", p + "total"], T=tf.int32),
        op("FloorMod", "rest", [p + "padded", p + "block"], T=tf.int32),
        op("Sub", "short", [p + "block", p + "rest"], T=tf.int32),
        op("FloorMod", "extra", [p + "short", p + "block"], T=tf.int32),  # 0 when already a multiple
        op("AddV2", "end_all", [p + "end", p + "extra"], T=tf.int32),
        op("Pack", "paddings", [p + "start", p + "end_all"], T=tf.int32, N=2, axis=1),
        op("Pack", "crops", [p + "zeros", p + "extra"], T=tf.int32, N=2, axis=1),
        op(
            "SpaceToBatchND",
            "to_batch",
            [x, p + "block", p + "paddings"],
            T=tf.float32,
            Tblock_shape=tf.int32,
            Tpaddings=tf.int32,
        ),
    ]
    conv = tf.compat.v1.NodeDef()
    conv.CopyFrom(node)
    conv.name = p + "conv"
    conv.input[0] = p + "to_batch"
    conv.attr["padding"].s = b"VALID"
    conv.attr["dilations"].list.i[:] = [1, 1, 1, 1]
    nodes.append(conv)
    nodes.append(
        _node(
            tf,
            "BatchToSpaceND",
            name,
            [p + "conv", p + "block", p + "crops"],
            T=tf.float32,
            Tblock_shape=tf.int32,
            Tcrops=tf.int32,
        )
    )
    return nodes


def _node(tf: Any, op: str, name: str, inputs: list[str], **attrs: Any) -> Any:
    node = tf.compat.v1.NodeDef(op=op, name=name, input=inputs)
    for key, value in attrs.items():
        if isinstance(value, tf.dtypes.DType):
            node.attr[key].type = value.as_datatype_enum
        elif isinstance(value, bool):
            node.attr[key].b = value
        elif isinstance(value, int):
            node.attr[key].i = value
        else:  # a TensorProto
            node.attr[key].tensor.CopyFrom(value)
    return node
