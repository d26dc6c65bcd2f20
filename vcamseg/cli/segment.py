"""``vcamseg segment``: masks, part maps and people maps for still images.

Loads the model once and writes, per input, ``DIR/<stem>-mask.png`` (0 background, 255 person),
``DIR/<stem>-parts.png`` (BodyPix part id 0-23, 255 background) and, with
``segmentation.multi_person`` on, ``DIR/<stem>-people.png`` (0 background, 1..N person).
An input that cannot be read is reported (file and reason) and skipped, the others are written,
and the exit status is 2 at the end. Images smaller than 16 pixels a side are upscaled for the
model; their PNGs have the input's size.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import cv2
import numpy as np

from vcamseg.cli.common import add_config_args, load_cli_config
from vcamseg.effects.refine import MaskRefiner
from vcamseg.errors import InputError, OutputError, one_line
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
    """Every readable input is written; each one that is not is reported on stderr (one line: the
    file and why) and the others go on. Exit status 2 at the end when any input failed."""
    cfg = load_cli_config(args)
    _check_distinct_stems(args.images)
    try:
        args.output_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create {args.output_dir}: {exc.strerror}", fix="pick a writable folder") from None
    segmenter = None  # loaded at the first readable input: a batch of typos costs no model load
    refiner = MaskRefiner(cfg.mask)
    failed: list[Path] = []
    for path in args.images:
        try:
            image = read_image(path)
            if segmenter is None:
                segmenter = segmenter_for(cfg.model, cfg.segmentation)
            seg = refiner.refine(image, segmenter.segment(image))
        except InputError as exc:
            print(f"vcamseg: skipped: {one_line(exc)}", file=sys.stderr)
            failed.append(path)
            continue
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
    written = len(args.images) - len(failed)
    device = segmenter.device if segmenter is not None else "no model loaded"
    log.info("wrote %d image set(s) to %s (inference on %s)", written, args.output_dir, device)
    if failed:
        print(
            f"vcamseg: error: {len(failed)} of {len(args.images)} input(s) could not be segmented "
            f"(listed above); the other {written} were written to {args.output_dir}",
            file=sys.stderr,
        )
        return 2
    return 0


def _check_distinct_stems(images: list[Path]) -> None:
    """Two inputs with one stem (a/x.jpg, b/x.png) would write the same PNGs: the second would
    silently replace the first's. Refused before anything is written."""
    first_with: dict[str, Path] = {}
    for path in images:
        other = first_with.setdefault(path.stem, path)
        if other != path:
            raise InputError(
                f"inputs {other} and {path} would both write {path.stem}-mask.png",
                fix="rename one, or segment them into different --output-dir folders",
            )
