"""Shared fixtures: real weights and data from ../shared (never copied into the repo).

Without ../shared (or $VCAMSEG_SHARED) only the tests marked ``pure`` run: pure logic on synthetic
inputs, needing neither the data nor TensorFlow (`python -m pytest -m pure`; with
``VCAMSEG_NO_TF=1`` importing TensorFlow fails, which proves it). CI sets
``VCAMSEG_REQUIRE_SHARED=1``: there a missing ../shared is an error, never a silent skip."""

from __future__ import annotations

import csv
import logging
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.mirror import Server, mirrors
from tests.paths import DATA, MODELS, SHARED

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

HAVE_SHARED = MODELS.is_dir() and DATA.is_dir()
if os.environ.get("VCAMSEG_NO_TF"):
    sys.modules["tensorflow"] = None  # type: ignore[assignment]  # any import of it raises ImportError


def pytest_configure(config: pytest.Config) -> None:
    if not HAVE_SHARED and os.environ.get("VCAMSEG_REQUIRE_SHARED"):
        raise pytest.UsageError(f"tests need the shared models and data at {SHARED} (set VCAMSEG_SHARED)")
    # Never touch the user's real config or cache from a test (module-scoped fixtures and
    # subprocesses too, hence the environment and not monkeypatch); models come from ../shared.
    base = Path(tempfile.mkdtemp(prefix="vcamseg-tests-"))
    for var, sub in (("XDG_CONFIG_HOME", "config"), ("XDG_CACHE_HOME", "cache"), ("XDG_RUNTIME_DIR", "runtime")):
        (base / sub).mkdir()
        os.environ[var] = str(base / sub)
    if HAVE_SHARED:
        os.environ["VCAMSEG_MODEL_DIR"] = str(MODELS)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if HAVE_SHARED:
        return
    skip = pytest.mark.skip(
        reason=f"needs the shared models and data at {SHARED} (set VCAMSEG_SHARED); "
        "`-m pure` selects the tests that do not"
    )
    for item in items:
        if "pure" not in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def shared() -> Path:
    return SHARED


@pytest.fixture(scope="session")
def models_dir() -> Path:
    return MODELS


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA


@pytest.fixture(scope="session")
def data_index() -> list[dict[str, str]]:
    with (DATA / "index.csv").open(newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture
def serve() -> Iterator[Callable[..., Server]]:
    """serve(folder, fail_first=0, redirect_to=None) -> an HTTP mirror of the model storage on 127.0.0.1."""
    yield from mirrors()


@pytest.fixture
def _restore_logging() -> Iterator[None]:
    """main() configures the root logger; put it back for the tests that follow."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
