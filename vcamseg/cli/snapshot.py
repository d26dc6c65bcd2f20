"""``vcamseg snapshot``: one composited frame from the configured source, as an image file.

Cameras first drop ``source.warmup_frames`` frames so the exposure has settled.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from vcamseg.cli.common import add_config_args, load_cli_config
from vcamseg.errors import ConfigError
from vcamseg.io.sinks import sink_kind
from vcamseg.pipeline import build_pipeline


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("snapshot", help="write one composited frame to an image file",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--output", type=Path, required=True, metavar="FILE.png", help="the image to write")
    p.add_argument("--source", metavar="SRC", help="camera, video or image file, or 'test' (default: source.device)")
    add_config_args(p)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    config = load_cli_config(args)
    if args.source:
        config.source.device = args.source
    if sink_kind(str(args.output)) != "image":
        raise ConfigError(f"--output {args.output}: not an image file", fix="use a .png or .jpg path")
    config.output.device = str(args.output)
    config.output.preview = False
    pipeline = build_pipeline(config, paced=False, max_frames=1)
    try:
        pipeline.start()
        pipeline.wait()
    finally:
        pipeline.stop(timeout=5.0)
    if pipeline.error is not None:
        raise pipeline.error
    print(f"wrote {args.output} ({pipeline.width}x{pipeline.height})")
    return 0
