"""Where the tests find the checkout and the shared models and data: the one definition.

Imports nothing heavy: ``conftest`` reads it before deciding which tests can run."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("VCAMSEG_SHARED", REPO.parent / "shared")).resolve()
MODELS = SHARED / "models"
DATA = SHARED / "data"
