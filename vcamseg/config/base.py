"""Shared base for every config section: strict, typed, documented."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Section(BaseModel):
    """A config section. Unknown keys are errors (typos fail loudly), values are re-validated
    on assignment (``vcamseg set`` and live reload go through the same checks)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=False)
