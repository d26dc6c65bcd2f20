"""``vcamseg snapshot``: one composited frame, as an image file.

With a daemon running (and no --source or --set given), the frame it sent last, asked over its
control socket: the camera is busy with the daemon anyway. Otherwise (or with --offline) the
configured source is opened here; cameras first drop ``source.warmup_frames`` frames so the
exposure has settled.
"""

from __future__ import annotations

import argparse
import base64
from pathlib import Path

import cv2
import numpy as np

from vcamseg.cli.common import add_config_args, load_cli_config
from vcamseg.errors import ConfigError, OutputError
from vcamseg.io.sinks import sink_kind
from vcamseg.pipeline.builder import build_pipeline
from vcamseg.service.client import NoDaemon, request, socket_path_for


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "snapshot",
        help="write one composited frame to an image file",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--output", type=Path, required=True, metavar="FILE.png", help="the image to write")
    p.add_argument("--source", metavar="SRC", help="camera, video or image file, or 'test' (default: source.device)")
    p.add_argument("--offline", action="store_true", help="never ask a running daemon: open the source here")
    add_config_args(p)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if sink_kind(str(args.output)) != "image":
        raise ConfigError(f"--output {args.output}: not an image file", fix="use a .png or .jpg path")
    if not (args.offline or args.source or args.overrides):
        try:
            reply = request(socket_path_for(args.config), {"cmd": "snapshot"})
        except NoDaemon:
            pass
        else:
            image = cv2.imdecode(np.frombuffer(base64.b64decode(reply["png_base64"]), np.uint8), cv2.IMREAD_COLOR)
            if not cv2.imwrite(str(args.output), image):
                raise OutputError(f"cannot write {args.output}", fix="check the folder exists and is writable")
            print(f"wrote {args.output} ({reply['width']}x{reply['height']}, from the running daemon)")
            return 0
    config = load_cli_config(args)
    if args.source:
        config.source.device = args.source
    config.output.device = str(args.output)
    config.output.preview = False
    with build_pipeline(config, paced=False, max_frames=1, stop_timeout_s=5.0) as pipeline:
        pipeline.wait()
    if pipeline.error is not None:
        raise pipeline.error
    print(f"wrote {args.output} ({pipeline.width}x{pipeline.height})")
    return 0
