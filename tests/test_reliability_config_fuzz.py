"""Bad-config fuzzing against a live daemon: hypothesis mutates a valid config into invalid ones
(wrong types, unknown keys at any depth, out-of-range numbers, model combinations that do not
exist, broken YAML, a top level that is not a mapping, bad effect parameters, background files
that are missing or are not pictures). Each one must be a ConfigError naming the file and the
line, and each is written to the config file of a running daemon, which must keep running its
last good configuration through all of them and still apply a valid edit afterwards."""

from __future__ import annotations

import copy
import os
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import annotated_types
import pytest
import yaml
from hypothesis import HealthCheck, Phase, assume, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from tests.daemon_process import FAST, DaemonProcess, log_lines
from vcamseg.config import Config
from vcamseg.config.effects import effect_config_class
from vcamseg.errors import ConfigError, one_line
from vcamseg.service.config_file import ConfigFile

pytestmark = pytest.mark.slow

EXAMPLES = 200

GOOD: dict[str, Any] = Config().model_dump(mode="json")
GOOD["effects"] = [
    {"type": "replace", "image": "background.jpg", "fit": "cover"},
    {"type": "blur_parts", "parts": ["left_face", "right_face"], "blur": 20.0},
    {"type": "pixelate", "cell_size": 12, "opacity": 0.5},
]
GOOD["segmentation"]["threshold"] = 0.6
GOOD["service"]["reload_debounce_ms"] = 50  # each write is reloaded quickly: the storm takes a minute


# --- where the mutations go ------------------------------------------------------------------------

Path_ = tuple[str | int, ...]


def _walk(node: Any, prefix: Path_ = ()) -> Iterator[tuple[Path_, Any]]:
    yield prefix, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _walk(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, (*prefix, index))


MAPPINGS = [path for path, node in _walk(GOOD) if isinstance(node, dict)]
LEAVES = [path for path, node in _walk(GOOD) if path and not isinstance(node, dict | list)]


def _model_at(path: Path_) -> type[BaseModel] | None:
    """The config class that validates the mapping at ``path`` (effects by their type)."""
    model: type[BaseModel] | None = Config
    node: Any = GOOD
    for part in path:
        node = node[part]
        if isinstance(part, int):
            model = effect_config_class(node.get("type"))
        elif model is not None and part != "effects":
            annotation = model.model_fields[str(part)].annotation
            model = annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None
    return model


def _bounds() -> list[tuple[Path_, float | None, float | None, bool]]:
    """(leaf path, lowest allowed, highest allowed, whole numbers only) of every bounded number."""
    found = []
    for path in LEAVES:
        model = _model_at(path[:-1])
        field = model.model_fields.get(str(path[-1])) if model is not None else None
        if field is None:
            continue
        low = high = None
        for rule in field.metadata:
            if isinstance(rule, annotated_types.Ge | annotated_types.Gt):
                low = float(getattr(rule, "ge", getattr(rule, "gt", 0)))
            if isinstance(rule, annotated_types.Le | annotated_types.Lt):
                high = float(getattr(rule, "le", getattr(rule, "lt", 0)))
        if low is not None or high is not None:
            found.append((path, low, high, field.annotation is int))
    return found


BOUNDED = _bounds()


def _set(data: dict[str, Any], path: Path_, value: Any) -> None:
    node: Any = data
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value


def _text(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False)


# --- the mutations, one strategy per kind of mistake -----------------------------------------------

SCALARS = st.one_of(
    st.booleans(), st.integers(-(10**6), 10**6), st.floats(-1e6, 1e6, allow_nan=False), st.text(min_size=1, max_size=12)
)
OTHER_TYPES = st.one_of(
    SCALARS,
    st.lists(st.integers(-5, 300), min_size=1, max_size=4),
    st.dictionaries(st.sampled_from(["a", "b", "value"]), st.integers(), min_size=1, max_size=2),
)
KEY_NAMES = st.from_regex(r"[a-z][a-z_]{1,14}", fullmatch=True)


@st.composite
def wrong_types(draw: st.DrawFn) -> str:
    data = copy.deepcopy(GOOD)
    _set(data, draw(st.sampled_from(LEAVES)), draw(OTHER_TYPES))
    return _text(data)


@st.composite
def unknown_keys(draw: st.DrawFn) -> str:
    data = copy.deepcopy(GOOD)
    path = draw(st.sampled_from(MAPPINGS))
    node: Any = data
    for part in path:
        node = node[part]
    node[draw(KEY_NAMES)] = draw(SCALARS)
    return _text(data)


@st.composite
def out_of_range(draw: st.DrawFn) -> str:
    data = copy.deepcopy(GOOD)
    path, low, high, whole = draw(st.sampled_from(BOUNDED))
    sides = [s for s, bound in (("below", low), ("above", high)) if bound is not None]
    side = draw(st.sampled_from(sides))
    step = draw(st.floats(0.001, 1e6) if not whole else st.integers(1, 10**6))
    value = (low - step) if side == "below" else (high + step)  # type: ignore[operator]
    _set(data, path, int(value) if whole else value)
    return _text(data)


IMPOSSIBLE_MODELS = [
    {"architecture": "ResNet50", "output_stride": 8},
    {"architecture": "MobileNetV1", "output_stride": 32},
    {"architecture": "MobileNetV1", "multiplier": 0.6},
    {"architecture": "MobileNetV1", "multiplier": 2.0},
    {"architecture": "ResNet50", "multiplier": 0.5},
    {"architecture": "ResNet50", "output_stride": 16, "multiplier": 0.75},
    {"quant_bytes": 3},
    {"architecture": "MobileNetV3"},
]


@st.composite
def impossible_models(draw: st.DrawFn) -> str:
    data = copy.deepcopy(GOOD)
    data["model"].update(draw(st.sampled_from(IMPOSSIBLE_MODELS)))
    return _text(data)


@st.composite
def broken_yaml(draw: st.DrawFn) -> str:
    lines = _text(GOOD).splitlines()
    at = draw(st.integers(1, len(lines) - 1))
    line = lines[at]
    damage = draw(st.sampled_from(["tab", "unclosed", "dedent", "quote", "colon", "garbage"]))
    if damage == "tab":
        lines[at] = "\t" + line.lstrip(" ")
    elif damage == "unclosed":
        lines[at] = line + " [1, 2"
    elif damage == "dedent" and line.startswith("  "):
        lines[at] = line[1:]
    elif damage == "quote":
        lines[at] = line.replace(": ", ': "', 1)
    elif damage == "colon":
        lines[at] = line + ": x: y"
    else:
        lines.insert(at, draw(st.sampled_from(["{", "]", "- : -", "&a *b", "key: [}", "%YAML 9.9"])))
    return "\n".join(lines) + "\n"


TOP_LEVELS = st.one_of(
    st.sampled_from(
        [
            "- model\n- effects\n",
            "42\n",
            "just some words\n",
            '"a quoted text"\n',
            "true\n",
            "[model, effects]\n",
            "- {type: blur}\n",
        ]
    ),
    st.lists(SCALARS, min_size=1, max_size=3).map(_text),
    SCALARS.map(_text),
)


def _replace_effect(**params: Any) -> dict[str, Any]:
    return {"type": "replace", **params}


BAD_EFFECTS = st.one_of(
    KEY_NAMES.filter(lambda name: effect_config_class(name) is None).map(lambda name: {"type": name}),
    st.just({"background_blur": 5}),  # no type
    st.just("blur"),  # not a mapping
    st.just(_replace_effect(image="background.jpg", color="green")),  # two backgrounds
    st.just(_replace_effect()),  # none
    st.lists(st.integers(-300, 300), min_size=3, max_size=3)
    .filter(lambda c: any(not 0 <= v <= 255 for v in c))
    .map(lambda c: _replace_effect(color=c)),
    st.sampled_from(["#12345", "#gggggg", "chartreuse", "rgb(1,2,3)"]).map(lambda c: _replace_effect(color=c)),
    st.integers(0, 30).filter(lambda n: n != 24).map(lambda n: {"type": "parts", "palette": [[1, 2, 3]] * n}),
    st.sampled_from(["neon", "", "RAINBOWS"]).map(lambda p: {"type": "parts", "palette": p}),
    st.lists(KEY_NAMES, min_size=1, max_size=3).map(lambda parts: {"type": "blur_parts", "parts": parts}),
    st.just({"type": "blur_parts", "parts": []}),
    st.sampled_from([0, 1, -4, 201, "big", 2.5]).map(lambda c: {"type": "pixelate", "cell_size": c}),
    st.sampled_from(["halo", "", 3]).map(lambda m: {"type": "mask", "mode": m}),
    st.sampled_from(["fill", "zoom", 1]).map(lambda f: _replace_effect(color="green", fit=f)),
)


@st.composite
def bad_effects(draw: st.DrawFn) -> str:
    data = copy.deepcopy(GOOD)
    data["effects"].insert(draw(st.integers(0, len(data["effects"]))), draw(BAD_EFFECTS))
    return _text(data)


# Relative to the config file's folder (the daemon's): see the fixture for what exists there.
MISSING_FILES = st.one_of(
    st.sampled_from(
        [
            "no-such-background.jpg",
            "pictures/none.png",
            "/nonexistent/beach.jpg",
            "~/no-such.jpg",
            "~nosuchuser-vcamseg/beach.jpg",
            "dangling.jpg",
            "config.yaml",
            ".",
            "empty.jpg",
        ]
    ),
    KEY_NAMES.map(lambda name: f"{name}.png"),
)


@st.composite
def missing_backgrounds(draw: st.DrawFn) -> str:
    data = copy.deepcopy(GOOD)
    data["effects"][0] = _replace_effect(**{draw(st.sampled_from(["image", "video"])): draw(MISSING_FILES)})
    return _text(data)


INVALID_CONFIGS = st.one_of(
    wrong_types(),
    unknown_keys(),
    out_of_range(),
    impossible_models(),
    broken_yaml(),
    TOP_LEVELS,
    bad_effects(),
    missing_backgrounds(),
)


# --- the daemon ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> Iterator[DaemonProcess]:
    folder = tmp_path_factory.mktemp("fuzz")
    shutil.copy(data_dir / "images" / "cihp_multiperson" / "0000026.jpg", folder / "background.jpg")
    (folder / "empty.jpg").write_bytes(b"")
    os.symlink(folder / "moved-away.jpg", folder / "dangling.jpg")
    with DaemonProcess(folder, _text(GOOD)) as running:
        running.wait_streaming()
        yield running


def _source_of(daemon: DaemonProcess) -> ConfigFile:
    """Exactly how the daemon reads its file: the same command line on top."""
    overrides = [item for item in FAST if item != "--set"] + [f"service.control_socket_path={daemon.socket}"]
    return ConfigFile(daemon.config, overrides, source="test", output="null", required=True)


@pytest.fixture(scope="module")
def good_status(daemon: DaemonProcess) -> dict[str, Any]:
    return daemon.status()


TRIED: list[str] = []
LINE_OF_FILE = re.compile(r"(?m)^\s*(?P<file>/\S+?):(?P<line>\d+)[: ]")


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    phases=[Phase.generate],
    suppress_health_check=list(HealthCheck),
)
@given(text=INVALID_CONFIGS)
def test_invalid_configs_are_clear_errors_and_the_daemon_keeps_the_last_good_one(
    daemon: DaemonProcess, good_status: dict[str, Any], text: str
) -> None:
    source = _source_of(daemon)
    with pytest.raises(ConfigError) as caught:
        source.load(text)
        assume(False)  # a mutation that is still valid (e.g. an int where a float goes): not a case
    message = str(caught.value)
    places = LINE_OF_FILE.findall(message)
    assert places and all(file == str(daemon.config) for file, _ in places), message
    assert all(1 <= int(line) <= text.count("\n") + 1 for _, line in places), message

    # The daemon gets it through its file, like an editor saving it; its error is the same one.
    expected = one_line(caught.value)
    before = sum(expected in line for line in log_lines(daemon, "config not applied"))
    daemon.config.write_text(text)
    daemon.wait_for(
        lambda: sum(expected in line for line in log_lines(daemon, "config not applied")) > before,
        10,
        f"the daemon to refuse:\n{text}",
    )
    TRIED.append(text)
    if len(TRIED) % 25 == 0:
        _assert_running_the_good_config(daemon, good_status)


def _assert_running_the_good_config(daemon: DaemonProcess, good_status: dict[str, Any]) -> None:
    status = daemon.status()
    assert status["config"] == good_status["config"]
    sent = status["pipeline"]["frames"]["out"]
    daemon.wait_for(lambda: daemon.frames_out() > sent + 5, 5, "frames going on")


def test_after_the_storm_the_daemon_runs_the_last_good_config_and_takes_a_valid_edit(
    daemon: DaemonProcess, good_status: dict[str, Any]
) -> None:
    assert len(TRIED) >= EXAMPLES
    assert daemon.proc.poll() is None
    _assert_running_the_good_config(daemon, good_status)
    log = daemon.text_log()
    assert "Traceback" not in log and "internal error" not in log and "reload failed" not in log
    started = time.monotonic()
    edited = copy.deepcopy(GOOD)
    edited["effects"][2]["cell_size"] = 30
    daemon.config.write_text(_text(edited))
    daemon.wait_for(lambda: daemon.status()["config"]["effects"][2]["cell_size"] == 30, 10, "the valid edit")
    print(f"{len(TRIED)} invalid configs refused; a valid edit applied {time.monotonic() - started:.2f} s after")
    assert daemon.status()["last_reload"]["ok"]
