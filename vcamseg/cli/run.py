"""``vcamseg run``: the daemon in the foreground (what the systemd user service runs). Webcam in,
segmentation and effects, virtual camera out, in real time; idle (webcam released, inference
paused) while no application reads the virtual camera.

The config file (--config, default ~/.config/vcamseg/config.yaml, picked up when created later)
is reloaded when it changes and on SIGHUP, without reopening the virtual camera; an invalid edit
is logged and the running configuration stays. `vcamseg status` and `vcamseg set KEY=VALUE` talk
to the daemon over its control socket. Runs until SIGTERM or SIGINT (Ctrl-C), then stops within a
second: the camera and the device are released and any output file is finished.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

from vcamseg import paths
from vcamseg.cli.common import add_config_args

log = logging.getLogger(__name__)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "run",
        help="run the virtual camera (foreground, until SIGTERM/SIGINT)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_source_output_args(p)
    add_config_args(p)
    # SUPPRESS: given here, it wins over service.log_level; not given, the top-level one counts.
    p.add_argument(
        "--log-level",
        default=argparse.SUPPRESS,
        type=str.upper,
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="log verbosity (default: service.log_level)",
    )
    p.set_defaults(handler=run)


def add_source_output_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--source",
        metavar="SRC",
        help="camera (/dev/video0 or an index), video or image file, or 'test' (default: source.device)",
    )
    p.add_argument(
        "--output",
        metavar="OUT",
        help="loopback device (/dev/video10), label:NAME, a video or image file, or 'null' (default: output.device)",
    )


def run(args: argparse.Namespace) -> int:
    from vcamseg.service.config_file import ConfigFile
    from vcamseg.service.daemon import Daemon

    explicit = args.config is not None
    path = args.config if explicit else paths.config_file()
    if not explicit:
        # Watched from the start, so a config written later is picked up (the folder must exist;
        # where it cannot be made, the watcher looks for it again now and then).
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            log.debug("cannot create %s: %s", path.parent, exc)
    config_file = ConfigFile(path, args.overrides, source=args.source, output=args.output, required=explicit)
    code = Daemon(config_file, log_level=args.log_level).run()
    exit_now(code)
    return code


def exit_now(code: int) -> None:
    """Exit without the interpreter's teardown. Everything is released and finished by now, and
    unloading TensorFlow alone takes ~1 s, which would break "stops within a second of SIGTERM"."""
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
