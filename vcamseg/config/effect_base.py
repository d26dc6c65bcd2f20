"""`EffectConfig`: the base of every effect's options (its own module so that the effect configs
can live in several modules: effects.py, people_effects.py)."""

from __future__ import annotations

from vcamseg.config.base import Section


class EffectConfig(Section):
    """Base of every effect's config; ``type`` is the effect's name in the YAML list."""

    type: str
