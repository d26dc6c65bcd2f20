"""Config loading: defaults, --set overrides, and errors that name the file, line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from vcamseg.config import Config, load_config
from vcamseg.errors import ConfigError

pytestmark = pytest.mark.pure  # no ../shared, no TensorFlow


def test_empty_file_is_the_defaults(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("")
    assert load_config(path) == Config()


def test_set_overrides_dotted_keys() -> None:
    cfg = load_config(
        text="model:\n  multiplier: 0.5\n",
        overrides=["model.multiplier=0.75", "segmentation.threshold=0.6", "segmentation.multi_person=true"],
    )
    assert cfg.model.multiplier == 0.75 and cfg.segmentation.threshold == 0.6 and cfg.segmentation.multi_person


def test_architecture_aliases_and_resnet_defaults() -> None:
    cfg = load_config(text="model: {architecture: resnet50, output_stride: 32}\n")
    assert cfg.model.architecture == "ResNet50" and cfg.model.effective_multiplier == 1.0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "model:\n  architecture: MobileNetV1\n  output_stride: 32\n",
            ":1: model: output_stride 32 is not available for MobileNetV1",
        ),
        ("model:\n  architecture: ResNet50\n  output_stride: 8\n", "output_stride 8 is not available for ResNet50"),
        ("model:\n  multiplier: 0.6\n", "multiplier 0.6 is not available"),
        ("segmentation:\n  internal_resolution: huge\n", ":2: segmentation.internal_resolution"),
        ("segmentation:\n  internal_resolution: 1.5\n", "internal_resolution"),
        ("segmentation:\n  thresold: 0.5\n", "unknown key 'thresold' (did you mean 'threshold'?)"),
        ("model: [1, 2\n", "YAML syntax error"),
        ("- model\n", "top level must be a mapping"),
    ],
)
def test_errors_name_line_and_key(text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_config(text=text)
    assert expected in str(err.value)


def test_set_errors_name_the_override() -> None:
    with pytest.raises(ConfigError, match=r"--set model.quant_bytes=3: model.quant_bytes"):
        load_config(text="", overrides=["model.quant_bytes=3"])
    with pytest.raises(ConfigError, match="expected KEY=VALUE"):
        load_config(text="", overrides=["model.quant_bytes"])


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.yaml")
