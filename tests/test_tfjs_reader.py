"""The tfjs graph-model reader: real BodyPix files, quantised weights, attribute fixes, bad files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from tests.helpers import mobilenet_json
from vcamseg.errors import ModelError
from vcamseg.models.tfjs import read_model_json, read_weights, to_graph_def


def test_reads_float_model_and_its_outputs() -> None:
    model = read_model_json(mobilenet_json())
    weights = read_weights(model)
    assert len(weights) == 72
    assert model.input_names == ["sub_2"]
    assert "float_segments" in model.output_names and "float_part_heatmaps" in model.output_names
    assert all(w.dtype == np.float32 and np.isfinite(w).all() for w in weights.values())


@pytest.mark.parametrize("quant", ["quant1", "quant2"])
def test_quantised_weights_dequantise_to_the_float_ones(quant: str) -> None:
    """uint8/uint16 affine weights (q*scale+min) are the float weights within half a step."""
    reference = read_weights(read_model_json(mobilenet_json("float")))
    model = read_model_json(mobilenet_json(quant))
    specs = {w.name: w for g in model.groups for w in g.weights}
    weights = read_weights(model)
    assert weights.keys() == reference.keys()
    for name, value in weights.items():
        step = specs[name].scale
        assert specs[name].stored_dtype == ("uint8" if quant == "quant1" else "uint16")
        assert np.abs(value - reference[name]).max() <= 0.51 * step


def test_hw_first_dilations_are_normalised_to_nhwc() -> None:
    """MobileNet 1.00 stride 16 writes dilations [2, 2, 1, 1]; TensorFlow needs [1, 2, 2, 1]."""
    model = read_model_json(mobilenet_json("quant1", "100", 16))
    raw = [n["attr"]["dilations"]["list"]["i"] for n in model.topology["node"] if "dilations" in n.get("attr", {})]
    assert ["2", "2", "1", "1"] in raw
    graph_def = to_graph_def(model)
    dilations = [list(n.attr["dilations"].list.i) for n in graph_def.node if "dilations" in n.attr]
    assert [2, 2, 1, 1] not in dilations and [1, 2, 2, 1] in dilations


def _copy_variant(tmp_path: Path) -> Path:
    src = mobilenet_json().parent
    dst = tmp_path / "model"
    shutil.copytree(src, dst)
    return dst / "model-stride16.json"


def test_truncated_shard_is_a_clear_error(tmp_path: Path) -> None:
    path = _copy_variant(tmp_path)
    shard = path.parent / "group1-shard1of1.bin"
    shard.write_bytes(shard.read_bytes()[:1000])
    with pytest.raises(ModelError) as err:
        read_weights(read_model_json(path))
    assert str(shard) in str(err.value) and "truncated" in str(err.value) and err.value.fix


def test_missing_shard_and_missing_json(tmp_path: Path) -> None:
    path = _copy_variant(tmp_path)
    (path.parent / "group1-shard1of1.bin").unlink()
    with pytest.raises(ModelError, match="does not exist"):
        read_weights(read_model_json(path))
    with pytest.raises(ModelError, match="does not exist"):
        read_model_json(tmp_path / "nope.json")


def test_unknown_dtype_in_model_json(tmp_path: Path) -> None:
    path = _copy_variant(tmp_path)
    doc = json.loads(path.read_text())
    doc["weightsManifest"][0]["weights"][0]["dtype"] = "complex64"
    path.write_text(json.dumps(doc))
    with pytest.raises(ModelError) as err:
        read_model_json(path)
    assert "complex64" in str(err.value) and str(path) in str(err.value)


def test_not_json_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "model-stride16.json"
    path.write_text("{not json")
    with pytest.raises(ModelError, match="not readable JSON"):
        read_model_json(path)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ("WriteFile", r"uses op\(s\) WriteFile, which a BodyPix model does not"),
        ("ReadFile", r"uses op\(s\) ReadFile"),
        ("library", "defines functions"),
    ],
)
def test_a_graph_that_could_touch_files_is_refused(tmp_path: Path, change: str, expected: str) -> None:
    path = _copy_variant(tmp_path)
    doc = json.loads(path.read_text())
    if change == "library":
        doc["modelTopology"]["library"] = {"function": [{"signature": {"name": "f"}}]}
    else:
        doc["modelTopology"]["node"].append({"name": "x", "op": change, "input": ["sub_2"]})
    path.write_text(json.dumps(doc))
    with pytest.raises(ModelError, match=expected) as err:
        read_model_json(path)
    assert str(path) in str(err.value) and err.value.fix


def test_every_model_here_uses_only_allowed_ops(models_dir: Path) -> None:
    checked = [read_model_json(path) for path in sorted(models_dir.glob("bodypix/**/model-stride*.json"))]
    assert len(checked) >= 10
