"""The ResNet50 path with synthetic weights built from the official topology's manifest (the real
ResNet50 shards are not available here): ImageNet-mean preprocessing, resnet_v1_50 outputs,
strides 16 and 32, every weight dtype."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.helpers import SHARED
from vcamseg.config import Config
from vcamseg.models.tfjs import read_model_json
from vcamseg.segmentation.graph import load_graph
from vcamseg.segmentation.segmenter import Segmenter

TOPOLOGY = SHARED / "models" / "bodypix-topology-only" / "resnet50"
_STORED = {"uint8": "u1", "uint16": "<u2", "float16": "<f2"}


def synthesise(quant: str, dest: Path, stride: int = 16) -> Path:
    """model.json + shards with small random weights matching the manifest (names, shapes, dtypes)."""
    doc = json.loads((TOPOLOGY / quant / "model-stride16.json").read_text())
    if stride == 32:
        _to_stride_32(doc["modelTopology"]["node"])
    rng = np.random.default_rng(0)
    blob = bytearray()
    for w in doc["weightsManifest"][0]["weights"]:
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
    doc["weightsManifest"] = [{"paths": ["group1-shard1of1.bin"], "weights": doc["weightsManifest"][0]["weights"]}]
    (dest / "group1-shard1of1.bin").write_bytes(bytes(blob))
    path = dest / f"model-stride{stride}.json"
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


class SpyBackend:
    """Records what the model is fed; runs the real TensorFlow graph."""

    name = "spy"
    device = "CPU (test)"

    def __init__(self, graph: object) -> None:
        from vcamseg.segmentation.backends.tensorflow import TensorFlowBackend

        self.inner = TensorFlowBackend(graph)
        self.inputs: list[np.ndarray] = []

    def run(self, image: np.ndarray) -> tuple[np.ndarray, ...]:
        self.inputs.append(image.copy())
        return self.inner.run(image)


@pytest.mark.parametrize("quant", ["float", "quant1", "quant2"])
@pytest.mark.parametrize("stride", [16, 32])
def test_resnet50_runs_with_imagenet_preprocessing(tmp_path: Path, quant: str, stride: int) -> None:
    path = synthesise(quant, tmp_path / quant, stride)
    assert any(n.startswith("resnet_v1_50/") for n in read_model_json(path).output_names)
    graph = load_graph(path, "ResNet50", stride)
    spy = SpyBackend(graph)
    cfg = Config.model_validate(
        {
            "model": {"architecture": "ResNet50", "output_stride": stride},
            "segmentation": {"internal_resolution": "full", "multi_person": True},
        }
    )
    segmenter = Segmenter(cfg.model, cfg.segmentation, backend=spy, graph=graph)
    frame = np.full((97, 129, 3), (10, 100, 200), np.uint8)  # BGR
    seg = segmenter.segment(frame)
    fed = spy.inputs[-1][0]
    # RGB minus the ImageNet mean (123.15, 115.90, 103.06), not MobileNet's x/127.5-1.
    assert np.allclose(fed[48, 64], [200 - 123.15, 100 - 115.90, 10 - 103.06], atol=1e-3)
    geom = segmenter.geometry(97, 129)
    _, outputs = segmenter.infer(frame)
    assert outputs[0].shape[:2] == geom.grid_shape == ((97 - 1) // stride + 1, (129 - 1) // stride + 1)
    assert seg.mask.shape == (97, 129) and seg.part_ids.shape == (97, 129)
    assert seg.people is not None
