"""``vcamseg run``: the daemon in the foreground. Webcam in, segmentation and effects, virtual camera
out, in real time; idle (webcam released, inference paused) while no application reads the
virtual camera. Runs until SIGTERM or SIGINT (Ctrl-C), then stops within a second: the camera and
the device are released and any output file is finished.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading

from vcamseg.cli.common import add_config_args, load_cli_config
from vcamseg.config import Config
from vcamseg.pipeline import build_pipeline

log = logging.getLogger(__name__)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="run the virtual camera (foreground, until SIGTERM/SIGINT)",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_source_output_args(p)
    add_config_args(p)
    p.set_defaults(handler=run)


def add_source_output_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--source", metavar="SRC",
                   help="camera (/dev/video0 or an index), video or image file, or 'test' (default: source.device)")
    p.add_argument("--output", metavar="OUT",
                   help="loopback device (/dev/video10), label:NAME, a video or image file, or 'null' "
                        "(default: output.device)")


def apply_source_output(config: Config, args: argparse.Namespace) -> Config:
    # Assigned, not passed through --set: YAML would read "null" as None and "0" as a number.
    if getattr(args, "source", None):
        config.source.device = args.source
    if getattr(args, "output", None):
        config.output.device = args.output
    return config


def run(args: argparse.Namespace) -> int:
    config = apply_source_output(load_cli_config(args), args)
    stop = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        log.info("%s: stopping", signal.Signals(signum).name)
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        pipeline = build_pipeline(config, paced=True)
        pipeline.start()
        while not stop.wait(0.1):
            if pipeline.wait(0):
                break
        pipeline.stop(timeout=0.9)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    log.info("stopped: %s", pipeline.stats.log_line())
    if pipeline.error is not None:
        raise pipeline.error
    exit_now(0)
    return 0


def exit_now(code: int) -> None:
    """Exit without the interpreter's teardown. Everything is released and finished by now, and
    unloading TensorFlow alone takes ~1 s, which would break "stops within a second of SIGTERM"."""
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
