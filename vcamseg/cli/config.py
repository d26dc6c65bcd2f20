"""``vcamseg config``: check a file, show the effective config, print the JSON Schema or the
commented example."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import yaml

from vcamseg.cli.common import add_config_args, load_cli_config
from vcamseg.config import Config, load_config
from vcamseg.errors import ConfigError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("config", help="check, show or describe the configuration", description=__doc__)
    cmds = p.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    check = cmds.add_parser("check", help="validate a config file (exit 0 when valid)")
    check.add_argument("file", type=Path)
    check.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    check.set_defaults(handler=_check)
    show = cmds.add_parser("show", help="the effective config: defaults, file and --set")
    add_config_args(show)
    show.set_defaults(handler=_show)
    schema = cmds.add_parser("schema", help="JSON Schema of the config (for editor completion)")
    schema.set_defaults(handler=_schema)
    example = cmds.add_parser("example", help="the complete commented example config")
    example.set_defaults(handler=_example)


def _check(args: argparse.Namespace) -> int:
    config = load_config(args.file, args.overrides)
    # Loading checks that background files exist; building the effects once decodes them.
    from vcamseg.pipeline.builder import build_compositor

    try:
        build_compositor(config).close()
    except ConfigError as exc:
        raise ConfigError(f"{args.file}: {exc.message}", fix=exc.fix) from None
    print(f"{args.file}: OK")
    return 0


def _show(args: argparse.Namespace) -> int:
    cfg = load_cli_config(args)
    print(yaml.safe_dump(cfg.model_dump(mode="json"), sort_keys=False, width=100), end="")
    return 0


def _schema(args: argparse.Namespace) -> int:
    print(json.dumps(Config.model_json_schema(), indent=2))
    return 0


def _example(args: argparse.Namespace) -> int:
    from vcamseg.config.example import render_example

    print(render_example(), end="")
    return 0
