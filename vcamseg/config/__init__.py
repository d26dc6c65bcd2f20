"""Configuration: pydantic models (one per section), YAML loading and ``--set`` overrides.

Modules: `root` (`Config`) and one per section; `yaml` (reading and parsing with line numbers),
`overrides` (``--set``), `errors` (pydantic errors in the file's words), `load` (`load_config`,
`validate`: the three composed), `edit` (``set --save``), `live` and `example`."""

from vcamseg.config.load import load_config, validate
from vcamseg.config.overrides import apply_override
from vcamseg.config.root import Config
from vcamseg.config.yaml import parse_yaml

__all__ = ["Config", "apply_override", "load_config", "parse_yaml", "validate"]
