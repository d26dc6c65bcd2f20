"""``vcamseg process``: run the same pipeline offline on a file: every frame, as fast as it goes.

INPUT is a video or image; OUTPUT a video (.mp4, .avi, .mkv), an image (the last frame) or
``null`` (measure only). Prints one summary line at the end: frames, wall fps, CPU ms per frame,
and the p50/p95 per-frame latency (read to written); with ``--json``, the whole stats snapshot
instead (the ``pipeline`` object of ``vcamseg status --json``), for scripts and benchmarks.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from tqdm import tqdm

from vcamseg.cli.common import add_config_args, load_cli_config
from vcamseg.config import Config
from vcamseg.config.effects import EFFECT_CONFIGS, EffectConfig, effect_config_class
from vcamseg.errors import ConfigError
from vcamseg.io.sources import source_kind
from vcamseg.pipeline.builder import build_pipeline
from vcamseg.pipeline.frames import Frame
from vcamseg.pipeline.pipeline import Pipeline
from vcamseg.pipeline.send import SendKind

# The effect fields that take a background (only `replace` has them): an effect takes one, so
# setting one clears the others.
SOURCE_FIELDS = ("image", "video", "color")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "process",
        help="apply the effects to a video or image file (offline, every frame)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("input", metavar="INPUT", help="a video or image file")
    p.add_argument("output", metavar="OUTPUT", help="a video or image file, or 'null'")
    p.add_argument(
        "--effect", metavar="NAME", help=f"use only this effect, at its defaults ({', '.join(EFFECT_CONFIGS)})"
    )
    p.add_argument(
        "--background", type=Path, metavar="PATH", help="background image/video for the effect that takes one"
    )
    p.add_argument("--frames", type=int, metavar="N", help="stop after N frames")
    p.add_argument(
        "--json",
        action="store_true",
        help="print the stats as JSON ({'output': OUTPUT, 'pipeline': the status --json snapshot})",
    )
    add_config_args(p)
    p.set_defaults(handler=run)


def _background_field(cls: type[EffectConfig], background: Path) -> str | None:
    field = "image" if source_kind(str(background)) == "image" else "video"
    return field if field in cls.model_fields else None


def _validated(cls: type[EffectConfig], data: dict[str, Any], what: str) -> EffectConfig:
    try:
        return cls.model_validate(data)
    except ValidationError as exc:
        message = str(exc.errors()[0]["msg"]).removeprefix("Value error, ")
        raise ConfigError(f"{what}: {message}", fix="add --background PATH or --set effects.0.KEY=VALUE") from None


def apply_effect_args(config: Config, effect: str | None, background: Path | None) -> Config:
    """--effect replaces the effects with that one (at its defaults); --background goes to the
    effect that takes one (with --effect: that effect)."""
    if background is not None and not background.is_file():
        raise ConfigError(f"--background {background}: no such file", fix="give an image or video file")
    if effect is not None:
        cls = effect_config_class(effect)
        if cls is None:
            raise ConfigError(f"--effect {effect!r}: no such effect", fix=f"choose one of {', '.join(EFFECT_CONFIGS)}")
        data: dict[str, Any] = {"type": effect}
        if background is not None:
            field = _background_field(cls, background)
            if field is None:
                raise ConfigError(
                    f"--background: effect {effect!r} takes no background",
                    fix="use it with an effect that does (e.g. --effect replace)",
                )
            data[field] = str(background)
        config.effects = [_validated(cls, data, f"--effect {effect}")]
        return config
    if background is not None:
        for i, item in enumerate(config.effects):
            field = _background_field(type(item), background)
            if field is not None:
                data = item.model_dump()
                for other in SOURCE_FIELDS:
                    if other in data:
                        data[other] = None
                data[field] = str(background)
                config.effects[i] = _validated(type(item), data, f"--background {background}")
                return config
        names = ", ".join(e.type for e in config.effects) or "none"
        raise ConfigError(
            f"--background: none of the effects ({names}) takes a background",
            fix="add --effect with an effect that does (e.g. replace)",
        )
    return config


def summary(pipeline: Pipeline, output: str) -> str:
    stats = pipeline.stats
    cpu = stats.cpu_ms_per_frame()
    p50, p95 = stats.latency_ms(50), stats.latency_ms(95)

    def ms(value: float | None) -> str:
        return "-" if value is None else f"{value:.1f}"

    return (
        f"processed {stats.frames_out} frames -> {output}: {stats.wall_fps():.1f} fps (wall), "
        f"CPU {ms(cpu)} ms/frame, latency p50 {ms(p50)} ms, p95 {ms(p95)} ms"
    )


def run(args: argparse.Namespace) -> int:
    config = load_cli_config(args)
    config.source.device = args.input
    config.source.loop = False
    config.output.device = args.output
    config = apply_effect_args(config, args.effect, args.background)
    if args.frames is not None and args.frames < 1:
        raise ConfigError("--frames must be at least 1")
    bar: tqdm | None = None

    def on_sent(kind: SendKind, frame: Frame | None) -> None:
        if bar is not None:
            bar.update(1)

    # Stopped with time to finish the output file (Ctrl-C: what was written so far stays playable).
    pipeline = build_pipeline(config, paced=False, max_frames=args.frames, on_frame_sent=on_sent, stop_timeout_s=5.0)
    bar = tqdm(total=pipeline.expected_frames, unit="frame", disable=not sys.stderr.isatty(), dynamic_ncols=True)
    with bar:
        try:
            with pipeline:
                pipeline.wait()
        except KeyboardInterrupt:
            pass
    if pipeline.error is not None:
        raise pipeline.error
    if args.json:
        print(json.dumps({"output": args.output, "pipeline": pipeline.stats.snapshot()}))
    else:
        print(summary(pipeline, args.output))
    return 0
