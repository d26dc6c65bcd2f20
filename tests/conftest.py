"""Shared fixtures: real weights and data from ../shared (never copied into the repo)."""

from __future__ import annotations

import csv
import logging
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.mirror import Server, mirrors

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("VCAMSEG_SHARED", REPO.parent / "shared")).resolve()
MODELS = SHARED / "models"
DATA = SHARED / "data"


def pytest_configure(config: pytest.Config) -> None:
    if not MODELS.is_dir() or not DATA.is_dir():
        raise pytest.UsageError(f"tests need the shared models and data at {SHARED} (set VCAMSEG_SHARED)")
    # Never touch the user's real config or cache from a test (module-scoped fixtures and
    # subprocesses too, hence the environment and not monkeypatch); models come from ../shared.
    base = Path(tempfile.mkdtemp(prefix="vcamseg-tests-"))
    for var, sub in (("XDG_CONFIG_HOME", "config"), ("XDG_CACHE_HOME", "cache"), ("XDG_RUNTIME_DIR", "runtime")):
        (base / sub).mkdir()
        os.environ[var] = str(base / sub)
    os.environ["VCAMSEG_MODEL_DIR"] = str(MODELS)


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
