"""Configuration: pydantic models (one per section), YAML loading and ``--set`` overrides."""

from vcamseg.config.loader import apply_override, load_config, parse_yaml, validate
from vcamseg.config.root import Config

__all__ = ["Config", "apply_override", "load_config", "parse_yaml", "validate"]
