"""``vcamseg segment``: masks, part maps and people maps for still images.

Loads the model once and writes, per input, ``DIR/<stem>-mask.png`` (0 background, 255 person),
``DIR/<stem>-parts.png`` (BodyPix part id 0-23, 255 background) and, with
``segmentation.multi_person`` on, ``DIR/<stem>-people.png`` (0 background, 1..N person).
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import cv2
import numpy as np

from vcamseg.cli.common import add_config_args, load_cli_config
from vcamseg.effects.refine import MaskRefiner
from vcamseg.errors import OutputError
from vcamseg.io.media import read_image
from vcamseg.pipeline.builder import segmenter_for

log = logging.getLogger(__name__)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "segment",
        help="write person masks, part maps and people maps for images",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_config_args(p)
    p.add_argument("--output-dir", type=Path, required=True, metavar="DIR", help="where the PNGs go")
    p.add_argument("images", nargs="+", type=Path, metavar="IMAGE")
    p.set_defaults(handler=run)


def write_png(path: Path, image: np.ndarray) -> None:
    ok, buf = cv2.imencode(".png", image)
    try:
        if not ok:
            raise OSError("PNG encoding failed")
        path.write_bytes(buf.tobytes())
    except OSError as exc:
        raise OutputError(
            f"cannot write {path}: {exc.strerror or exc}", fix="check the output folder is writable and has space"
        ) from None


def run(args: argparse.Namespace) -> int:
    cfg = load_cli_config(args)
    # Check every input before loading the model: a typo should not cost a model load.
    images = [(path, read_image(path)) for path in args.images]
    try:
        args.output_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create {args.output_dir}: {exc.strerror}", fix="pick a writable folder") from None
    segmenter = segmenter_for(cfg.model, cfg.segmentation)
    refiner = MaskRefiner(cfg.mask)
    for path, image in images:
        seg = refiner.refine(image, segmenter.segment(image))
        # The written mask is the refined matte cut at its midpoint: what effects composite with.
        person = seg.alpha >= 128
        stem = path.stem
        write_png(args.output_dir / f"{stem}-mask.png", person.astype(np.uint8) * 255)
        write_png(args.output_dir / f"{stem}-parts.png", seg.part_ids_within(person))
        line = f"{path}: person {100.0 * person.mean():.1f}% of the image"
        if cfg.segmentation.multi_person:
            people = seg.people_within(person)
            write_png(args.output_dir / f"{stem}-people.png", people)
            line += f", {int(people.max(initial=0))} people"
        print(line)
    log.info("wrote %d image set(s) to %s (inference on %s)", len(images), args.output_dir, segmenter.device)
    return 0
