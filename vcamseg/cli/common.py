"""What every command shares: --config / --set and config loading (logging: `vcamseg.logs`)."""

from __future__ import annotations

import argparse
from pathlib import Path

from vcamseg import paths
from vcamseg.config import Config, load_config


def add_config_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", type=Path, metavar="FILE", help=f"YAML config (default: {paths.config_file()} when it exists)"
    )
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config key, e.g. --set model.multiplier=0.75 (repeatable)",
    )


def config_path(args: argparse.Namespace) -> Path | None:
    if getattr(args, "config", None) is not None:
        return args.config
    default = paths.config_file()
    return default if default.is_file() else None


def load_cli_config(args: argparse.Namespace) -> Config:
    return load_config(config_path(args), getattr(args, "overrides", []))
