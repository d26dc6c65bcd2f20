"""BodyPix models with synthetic weights, built from an official topology's manifest.

The ResNet50 shards (~90 MB) and the MobileNetV1 0.75/1.00 float ones are not available on every
machine (this project has only their topologies, the model.json files without weights). A
model.json + shard with small random weights of the manifest's names, shapes and dtypes runs the
real graph: enough to test the ResNet50 path (preprocessing, outputs, strides, weight dtypes) and
to time any variant, since the cost of a convolution does not depend on its weights' values.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

_STORED = {"uint8": "u1", "uint16": "<u2", "float16": "<f2"}


def synthesise_resnet50(topology_dir: Path, quant: str, dest: Path, stride: int = 16) -> Path:
    """Write ``dest/model-stride{stride}.json`` + one shard with small random weights matching
    ``topology_dir/<quant>/model-stride16.json`` (stride 32 is derived from it); return the json."""
    doc = json.loads((topology_dir / quant / "model-stride16.json").read_text())
    if stride == 32:
        _to_stride_32(doc["modelTopology"]["node"])
    return _write_synthetic(doc, dest, f"model-stride{stride}.json")


def synthesise_from(model_json: Path, dest: Path) -> Path:
    """Write ``dest/<model_json's name>`` + one shard with small random weights matching any
    official model.json (a MobileNetV1 topology-only file); return the new json."""
    return _write_synthetic(json.loads(model_json.read_text()), dest, model_json.name)


def _write_synthetic(doc: dict, dest: Path, name: str) -> Path:
    """``doc`` (a parsed model.json) with its weights replaced by small random ones in one shard."""
    weights = [w for group in doc["weightsManifest"] for w in group["weights"]]
    rng = np.random.default_rng(0)
    blob = bytearray()
    for w in weights:
        n = int(np.prod(w["shape"]))
        q = w.get("quantization")
        if w["dtype"] == "int32":
            # Pad amounts: 3 around conv1's 7x7, 1 around the 3x3 convs and the max-pool.
            pad = 3 if w["name"] == "resnet_v1_50/Pad/paddings" else 1
            values = np.array([[0, 0], [pad, pad], [pad, pad], [0, 0]], np.float64)
            if q:  # quantised files store even these as uint8 codes: keep the official scale/min
                codes = np.rint((values - q["min"]) / q["scale"])
                blob += codes.astype(_STORED[q["dtype"]]).tobytes()
            else:
                blob += values.astype("<i4").tobytes()
        elif q:
            info = np.iinfo(np.dtype(_STORED[q["dtype"]]))
            # Centre the codes so q*scale+min is small and zero-mean.
            q["scale"], q["min"] = 0.02 / info.max, -0.01
            blob += rng.integers(0, info.max + 1, n).astype(_STORED[q["dtype"]]).tobytes()
        else:
            blob += (rng.standard_normal(n) * 0.01).astype("<f4").tobytes()
    dest.mkdir(parents=True, exist_ok=True)
    doc["weightsManifest"] = [{"paths": ["group1-shard1of1.bin"], "weights": weights}]
    (dest / "group1-shard1of1.bin").write_bytes(bytes(blob))
    path = dest / name
    path.write_text(json.dumps(doc))
    return path


def _to_stride_32(nodes: list[dict]) -> None:
    """resnet_v1_50 at output stride 32: block3's last unit strides 2, block4 is not dilated."""
    for node in nodes:
        name, attr = node["name"], node.get("attr", {})
        last_unit = name.startswith("resnet_v1_50/block3/unit_6/bottleneck_v1/")
        if last_unit and ("shortcut/MaxPool" in name or "conv2/" in name) and "strides" in attr:
            attr["strides"]["list"]["i"] = ["1", "2", "2", "1"]
        if name.startswith("resnet_v1_50/block4/") and "dilations" in attr:
            attr["dilations"]["list"]["i"] = ["1", "1", "1", "1"]
