"""Entry point: parse, set up logging, run the command, turn known errors into one clear message."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from vcamseg import __version__
from vcamseg.cli import bench, config, control, devices, doctor, models, process, run, segment, service, snapshot
from vcamseg.errors import VcamsegError
from vcamseg.logs import setup_logging

COMMANDS = [segment, models, bench, run, control, process, snapshot, devices, doctor, config, service]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vcamseg", description="BodyPix virtual camera: segment, composite, publish.")
    parser.add_argument("--version", action="version", version=f"vcamseg {__version__}")
    parser.add_argument(
        "--log-level",
        default=None,
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        type=str.upper,
        help="log verbosity on stderr (default INFO; the daemon: service.log_level)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in COMMANDS:
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logging(args.log_level or "INFO")
    try:
        return int(args.handler(args) or 0)
    except VcamsegError as exc:
        print(f"vcamseg: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `vcamseg config schema | head`: the reader left; say nothing more, like other tools.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception:  # a bug: keep the traceback, but in the log
        logging.getLogger("vcamseg").exception("unexpected error (please report it)")
        return 1


if __name__ == "__main__":
    sys.exit(main())
