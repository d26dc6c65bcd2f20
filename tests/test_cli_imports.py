"""The command line imports a command's module only when that command runs: `vcamseg status` and
`vcamseg set`, socket clients, must not pay for OpenCV, the effects or TensorFlow."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.helpers import REPO
from vcamseg.cli.main import COMMANDS, build_parser, command_in

pytestmark = pytest.mark.pure  # no ../shared, no TensorFlow

HEAVY = ("cv2", "tensorflow", "tflite_runtime", "ai_edge_litert")


def _imported(*args: str) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """Run ``python -X importtime -m vcamseg ARGS``; the top-level packages it imported."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "vcamseg", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )
    modules = {
        line.rsplit("|", 1)[1].strip().split(".")[0]
        for line in done.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }
    return done, modules


@pytest.mark.parametrize(
    "args",
    [("status", "--socket", "/nonexistent"), ("set", "effects.0.background_blur=25", "--socket", "/nonexistent")],
)
def test_the_socket_clients_import_neither_opencv_nor_tensorflow(args: tuple[str, ...]) -> None:
    done, modules = _imported(*args)
    assert done.returncode == 2 and "no vcamseg daemon is listening on /nonexistent" in done.stderr, done.stderr
    assert "vcamseg" in modules, "the probe sees the imports"
    assert not modules & set(HEAVY), sorted(modules & set(HEAVY))


def test_the_help_lists_every_command_as_its_module_registers_it() -> None:
    """`vcamseg --help` is built from COMMANDS without importing the modules: it must read the same
    as with every module registered."""
    assert build_parser([]).format_help() == build_parser().format_help()
    assert set(build_parser()._subparsers._group_actions[0].choices) == set(COMMANDS)  # type: ignore[union-attr]


def test_the_command_is_found_past_the_top_level_options() -> None:
    assert command_in(["--log-level", "DEBUG", "status", "--json"]) == "status"
    assert command_in(["--log-level=debug", "run"]) == "run"
    assert command_in(["--version"]) is None
