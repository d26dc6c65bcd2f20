"""What every command shares: --config / --set, logging, config loading."""

from __future__ import annotations

import argparse
import logging
import os
import sys
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


class _Formatter(logging.Formatter):
    """journald-friendly: no colours unless on a terminal; systemd adds its own timestamps."""

    def __init__(self, tty: bool) -> None:
        fmt = "%(asctime)s %(levelname)-7s %(name)s: %(message)s" if tty else "%(levelname)s %(name)s: %(message)s"
        super().__init__(fmt, datefmt="%H:%M:%S")
        self.tty = tty

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        if self.tty and record.levelno >= logging.WARNING:
            colour = "\033[31m" if record.levelno >= logging.ERROR else "\033[33m"
            return f"{colour}{text}\033[0m"
        return text


def setup_logging(level: str = "INFO") -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Formatter(sys.stderr.isatty() and "JOURNAL_STREAM" not in os.environ))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("tensorflow", "absl", "h5py", "urllib3"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
