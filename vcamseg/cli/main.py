"""Entry point: parse, set up logging, run the command, turn known errors into one clear message.

A command's module is imported only when that command runs: `vcamseg status` and `vcamseg set`,
mere socket clients, load neither OpenCV nor TensorFlow nor the effects. `COMMANDS` lists every
command with its module and its one-line help, for ``vcamseg --help`` (a test keeps the help
equal to what the module registers).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence

from vcamseg import __version__
from vcamseg.errors import VcamsegError
from vcamseg.logs import setup_logging

# command -> (module in vcamseg.cli that registers it, its help in `vcamseg --help`), in that order.
COMMANDS: dict[str, tuple[str, str]] = {
    "segment": ("segment", "write person masks, part maps and people maps for images"),
    "models": ("models", "list and fetch BodyPix models"),
    "bench": ("bench", "measure inference speed and mask accuracy"),
    "run": ("run", "run the virtual camera (foreground, until SIGTERM/SIGINT)"),
    "status": ("control", "state of the running daemon"),
    "set": ("control", "change the running daemon's configuration"),
    "process": ("process", "apply the effects to a video or image file (offline, every frame)"),
    "snapshot": ("snapshot", "write one composited frame to an image file"),
    "ui": ("ui", "a settings page with live preview, in your browser"),
    "devices": ("devices", "list cameras (with modes) and virtual cameras (with readers)"),
    "doctor": ("doctor", "check the setup and say what is wrong (with the fix)"),
    "config": ("config", "check, show or describe the configuration"),
    "service": ("service", "install the systemd user service"),
}
_TOP_OPTIONS_WITH_VALUE = ("--log-level",)


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser, with the full arguments of the command ``argv`` names (all of them when
    ``argv`` is None); the other commands are listed with their help only."""
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
    chosen = None if argv is None else COMMANDS.get(command_in(argv) or "", ("", ""))[0]
    for name, (module, help_text) in COMMANDS.items():
        if name in sub.choices:
            continue  # registered with another command of its module
        if argv is None or module == chosen:
            importlib.import_module(f"vcamseg.cli.{module}").register(sub)
        else:
            sub.add_parser(name, help=help_text)
    return parser


def command_in(argv: Sequence[str]) -> str | None:
    """The command ``argv`` names: its first argument that is neither an option nor an option's value."""
    args = iter(argv)
    for arg in args:
        if arg in _TOP_OPTIONS_WITH_VALUE:
            next(args, None)
        elif not arg.startswith("-"):
            return arg
    return None


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(arguments)
    args = parser.parse_args(arguments)
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
