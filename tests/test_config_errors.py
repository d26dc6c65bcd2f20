"""Every class of bad config input gives one clear error naming the file, the line and the key (never
a traceback), fuzzed inputs only ever raise ConfigError, and the committed example config is the
one the models render."""

from __future__ import annotations

import argparse
import copy
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vcamseg.cli.main import build_parser
from vcamseg.config import Config, load_config
from vcamseg.config.example import render_example
from vcamseg.config.overrides import parse_override
from vcamseg.errors import ConfigError

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "config" / "vcamseg.yaml"


def _error(tmp_path: Path, text: str) -> str:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    return str(err.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # YAML syntax: the line of the problem
        ("model:\n  threads: 2\n segmentation: {\n", ":3: YAML syntax error"),
        ("model:\n\tthreads: 2\n", ":2: YAML syntax error: found character '\\t'"),
        # unknown keys at every depth, with a suggestion
        ("modle:\n  threads: 2\n", ":1: modle: unknown key 'modle' (did you mean 'model'?)"),
        (
            "output:\n  idle:\n    gracce_s: 1\n",
            ":3: output.idle.gracce_s: unknown key 'gracce_s' (did you mean 'grace_s'?)",
        ),
        ("effects:\n  - type: blur\n    backgroud_blur: 3\n", ":3: effects.0.backgroud_blur: unknown key"),
        ("effects:\n  - type: sparkles\n", ":2: effects.0.type: unknown type 'sparkles'"),
        ("effects:\n  - background_blur: 3\n", ":2: effects.0: every effect needs a 'type'"),
        # wrong types, in the words of the file
        ("model:\n  threads: many\n", ":2: model.threads: expected a whole number (given: 'many')"),
        ("model:\n  threads: yes\n", ":2: model.threads: expected a whole number (given: true)"),
        ("model: 5\n", ":1: model: expected a section"),
        ("effects: blur\n", ":1: effects: expected a list"),
        ("source:\n  device: [1, 2]\n", ":2: source.device: expected text (given: a list)"),
        # out of range
        (
            "segmentation:\n  threshold: 1.5\n",
            ":2: segmentation.threshold: expected less than or equal to 1 (given: 1.5)",
        ),
        ("pipeline:\n  segment_every_n_frames: 0\n", ":2: pipeline.segment_every_n_frames: expected greater than"),
        ("effects:\n  - type: replace\n    color: [0, 300, 0]\n", ":3: effects.0.color: colour [0, 300, 0]"),
        # combinations that do not exist
        (
            "model:\n  architecture: ResNet50\n  output_stride: 8\n",
            ":1: model: output_stride 8 is not available for ResNet50: choose 16 or 32",
        ),
        ("model:\n  multiplier: 0.6\n", ":1: model: multiplier 0.6 is not available for MobileNetV1"),
        # files that are not there
        ("effects:\n  - type: replace\n    image: no-such-background.jpg\n", ":3: effects.0.image: background image"),
        # the shape of the whole file
        (
            "- model\n- effects\n",
            ":1: the top level must be a mapping of sections (model:, segmentation:, effects:, ...), not a list",
        ),
        ("just some words\n", ":1: the top level must be a mapping of sections"),
        ("a: &loop [*loop]\n", ":1: a YAML alias refers to the anchor it is inside of"),
    ],
)
def test_each_class_of_bad_input_names_file_line_and_key(tmp_path: Path, text: str, expected: str) -> None:
    message = _error(tmp_path, text)
    assert f"{tmp_path / 'config.yaml'}{expected}" in message, message
    assert "Traceback" not in message and "pydantic" not in message.lower()


def test_a_missing_background_says_where_it_was_looked_for(tmp_path: Path) -> None:
    message = _error(tmp_path, "effects:\n  - type: replace\n    image: no-such-background.jpg\n")
    assert str(tmp_path / "no-such-background.jpg") in message and "does not exist" in message


def test_several_errors_are_listed_in_file_order(tmp_path: Path) -> None:
    message = _error(tmp_path, "segmentation:\n  threshold: 2\nmodel:\n  threads: -1\n  quant_bytes: 3\n")
    lines = [line.strip() for line in message.splitlines() if "config.yaml:" in line]
    assert [line.split(":")[1] for line in lines] == ["2", "4", "5"]


@pytest.mark.parametrize("text", ["", "# only a comment\n", "mask:\n", "model:\n  # threads: 2\n"])
def test_empty_files_and_sections_are_the_defaults(tmp_path: Path, text: str) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    assert load_config(path) == Config()


def test_an_effects_key_with_every_item_commented_out_means_no_effects() -> None:
    assert load_config(text="effects:\n  # - type: blur\n").effects == []


def test_config_check_exits_2_with_one_clear_error_and_no_traceback(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("effects:\n  - type: replace\n    colour: green\n")
    result = subprocess.run(
        [sys.executable, "-m", "vcamseg", "config", "check", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert result.returncode == 2
    assert f"{path}:3: effects.0.colour: unknown key 'colour' (did you mean 'color'?)" in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_set_values_that_yaml_would_read_as_a_comment_stay_text() -> None:
    assert parse_override("effects.0.color=#00ff00") == (["effects", 0, "color"], "#00ff00")
    assert parse_override("model.dir=null") == (["model", "dir"], None)


def test_setting_another_effect_type_drops_the_old_effects_parameters() -> None:
    cfg = load_config(
        text="effects:\n  - {type: blur, background_blur: 5}\n",
        overrides=["effects.0.type=replace", "effects.0.color=green"],
    )
    assert cfg.effects[0].type == "replace"


def test_every_command_that_takes_a_config_takes_set() -> None:
    def commands(parser: argparse.ArgumentParser, name: str = "vcamseg") -> list[tuple[str, argparse.ArgumentParser]]:
        found = [(name, parser)]
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for sub_name, sub in action.choices.items():
                    found += commands(sub, f"{name} {sub_name}")
        return found

    takes_config = []
    for name, parser in commands(build_parser()):
        options = {opt for action in parser._actions for opt in action.option_strings}
        is_config_file = "--config" in options and "--socket" not in options  # status/set: only to find the socket
        if is_config_file or name == "vcamseg config check":
            takes_config.append(name)
            assert "--set" in options, f"{name} takes a config but no --set"
    assert {"vcamseg run", "vcamseg process", "vcamseg snapshot", "vcamseg config show"} <= set(takes_config)


# --- the committed example ------------------------------------------------------------------------


def test_the_committed_example_is_the_rendered_one_and_is_the_defaults() -> None:
    assert EXAMPLE.read_text() == render_example(), "regenerate: vcamseg config example > config/vcamseg.yaml"
    assert load_config(EXAMPLE) == Config()


def test_the_example_documents_every_key() -> None:
    text = EXAMPLE.read_text()

    def keys(model: object) -> list[str]:
        out = []
        for name in type(model).model_fields:  # type: ignore[attr-defined]
            value = getattr(model, name)
            out.append(name)
            if hasattr(type(value), "model_fields"):
                out += keys(value)
        return out

    for key in keys(Config()):
        assert f"{key}:" in text, key
    assert "[BodyPix: segmentationThreshold]" in text and "[BodyPix: outputStride]" in text


# --- fuzzing: whatever the file holds, the loader answers with ConfigError or a Config ------------

BASE = Config().model_dump(mode="json")
BASE["effects"] = [{"type": "blur"}, {"type": "replace", "color": "green"}, {"type": "parts"}, {"type": "mirror"}]


def _paths(node: object, prefix: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    out = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out += _paths(value, (*prefix, i))
    return out


PATHS = [p for p in _paths(BASE) if p]
VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**9), 10**9),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.lists(st.integers(-300, 300), max_size=4),
    st.dictionaries(st.text(max_size=6), st.integers(), max_size=2),
)


@st.composite
def mutated_configs(draw: st.DrawFn) -> str:
    """A valid config with 1-4 mutations: a value of another type or out of range, an unknown key
    (at any depth, effects included), a deleted key."""
    data = copy.deepcopy(BASE)
    for _ in range(draw(st.integers(1, 4))):
        path = draw(st.sampled_from(PATHS))
        node: object = data
        try:
            for part in path[:-1]:
                node = node[part]  # type: ignore[index]
            operation = draw(st.sampled_from(["value", "key", "delete"]))
            if operation == "value":
                node[path[-1]] = draw(VALUES)  # type: ignore[index]
            elif operation == "key" and isinstance(node, dict):
                node[draw(st.text(min_size=1, max_size=8))] = draw(VALUES)
            elif operation == "delete":
                del node[path[-1]]  # type: ignore[attr-defined]
        except (KeyError, IndexError, TypeError):
            pass  # an earlier mutation changed the shape under this path
    return yaml.safe_dump(data)


def _loads_or_config_error(text: str) -> None:
    try:
        load_config(text=text)
    except ConfigError as exc:
        assert str(exc).strip()


FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))


@FUZZ
@given(mutated_configs())
def test_mutated_configs_never_crash_the_loader(text: str) -> None:
    _loads_or_config_error(text)


@FUZZ
@given(st.text(max_size=300))
def test_garbage_text_never_crashes_the_loader(text: str) -> None:
    _loads_or_config_error(text)


@FUZZ
@given(st.data())
def test_the_example_with_a_random_splice_never_crashes_the_loader(data: st.DataObject) -> None:
    text = render_example()
    at = data.draw(st.integers(0, len(text)))
    cut = data.draw(st.integers(0, 40))
    _loads_or_config_error(text[:at] + data.draw(st.text(max_size=12)) + text[at + cut :])


def test_the_readmes_live_table_is_the_policy() -> None:
    """What applies live is declared once (config/live.py); the README shows it as rendered."""
    from vcamseg.config.live import render_table

    assert render_table() in (REPO / "README.md").read_text(), "paste vcamseg.config.live.render_table() into README"
