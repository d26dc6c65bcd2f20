"""The ResNet50 path with synthetic weights built from the official topology's manifest (the real
ResNet50 shards are not available here): ImageNet-mean preprocessing, resnet_v1_50 outputs,
strides 16 and 32, every weight dtype."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from benchmarks.lib.synthetic import synthesise_resnet50
from tests.helpers import SHARED
from vcamseg.config import Config
from vcamseg.models.files import model_digest
from vcamseg.models.tfjs import read_model_json
from vcamseg.segmentation.graph import load_graph
from vcamseg.segmentation.loader import LoadedModel, cache_dir_for
from vcamseg.segmentation.segmenter import Segmenter

TOPOLOGY = SHARED / "models" / "bodypix-topology-only" / "resnet50"


def synthesise(quant: str, dest: Path, stride: int = 16) -> Path:
    return synthesise_resnet50(TOPOLOGY, quant, dest, stride)


class SpyBackend:
    """Records what the model is fed; runs the real TensorFlow graph."""

    name = "spy"
    device = "CPU (test)"
    precision = "float"

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
    graph = load_graph(path, "ResNet50", stride, digest=model_digest(path))
    spy = SpyBackend(graph)
    cfg = Config.model_validate(
        {
            "model": {"architecture": "ResNet50", "output_stride": stride},
            "segmentation": {"internal_resolution": "full", "multi_person": True},
        }
    )
    segmenter = Segmenter(LoadedModel(cfg.model, graph, {}, cache_dir_for(cfg.model)), cfg.segmentation, backend=spy)
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
