"""``vcamseg models list`` and ``vcamseg models fetch``: which BodyPix variants (and MediaPipe
selfie models) are where, and getting them into the cache ahead of time (e.g. before going offline)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from vcamseg.cli.common import add_config_args, load_cli_config
from vcamseg.config.model import ModelConfig
from vcamseg.errors import VcamsegError
from vcamseg.models.catalogue import Variant, all_variants, parse_variant_key, variant_for
from vcamseg.models.files import SELFIE_RELPATHS, SelfieKind, selfie_kinds_for
from vcamseg.models.selfie import fetch_selfie, official_url, selfie_status
from vcamseg.models.store import FetchedFile, fetch_variant, models_cache_dir, variant_status, verify_local


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "models",
        help="list and fetch BodyPix models",
        description="BodyPix 2.0 variants: where each one is (local model folder, cache) and fetching them.",
    )
    actions = parser.add_subparsers(dest="models_action", metavar="ACTION", required=True)

    listing = actions.add_parser(
        "list",
        help="every variant, where it is found and its size",
        description="List all 24 BodyPix variants; * marks the configured one.",
    )
    add_config_args(listing)
    listing.set_defaults(handler=list_models)

    fetch = actions.add_parser(
        "fetch",
        help="download variants into the cache",
        description="Download BodyPix variants into the cache (default: the configured one) and verify them. "
        "A variant already in the local model folder (model.dir / VCAMSEG_MODEL_DIR) is only verified.",
    )
    add_config_args(fetch)
    which = fetch.add_mutually_exclusive_group()
    which.add_argument(
        "keys",
        nargs="*",
        default=[],
        metavar="KEY",
        help="keys as shown by `vcamseg models list`, e.g. mobilenet-075-quant2-s16, selfie-landscape",
    )
    which.add_argument("--all", action="store_true", help="fetch all 24 variants and both selfie models (about 200 MB)")
    fetch.add_argument(
        "--base-url",
        metavar="URL",
        help="download from this mirror of the official layout (https, or http on this machine; "
        "default: $VCAMSEG_MODEL_BASE_URL, else Google's storage)",
    )
    fetch.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="show progress bars (default: when stderr is a terminal)",
    )
    fetch.set_defaults(handler=fetch_models)


def list_models(args: argparse.Namespace) -> int:
    cfg = load_cli_config(args).model
    print(format_table(cfg))
    return 0


def format_table(cfg: ModelConfig) -> str:
    """The `models list` table: one row per variant, the configured one marked with ``*``."""
    configured = variant_for(cfg)
    header = ("", "KEY", "ARCHITECTURE", "STRIDE", "MULTIPLIER", "QUANT BYTES", "WHERE", "SIZE")
    rows = [header]
    for variant in all_variants():
        status = variant_status(variant, cfg)
        where = str(cfg.effective_dir) if status.where == "local" else status.where
        size = f"{status.total_bytes / 1e6:.1f} MB" if status.total_bytes is not None else "-"
        rows.append(
            (
                "*" if variant == configured else "",
                variant.key,
                variant.architecture,
                str(variant.output_stride),
                f"{variant.multiplier:.2f}",
                str(variant.quant_bytes),
                where,
                size,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    numeric = {3, 4, 5, 7}  # right-aligned columns
    lines = [
        "  ".join(
            cell.rjust(width) if i in numeric else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in rows
    ]
    local = cfg.effective_dir
    lines += ["", "MediaPipe selfie models, blended into BodyPix's person scores (model.selfie):"]
    configured_kinds = selfie_kinds_for(cfg.selfie)
    for kind in SELFIE_RELPATHS:
        where, path = selfie_status(kind, cfg)
        size = f"{path.stat().st_size / 1e6:.2f} MB" if path is not None else "-"
        mark = "*" if kind in configured_kinds else " "
        lines.append(
            f"{mark} {_selfie_key(kind):<17} {where if where != 'local' else str(local)}  {size}  "
            f"{SELFIE_RELPATHS[kind]} from {official_url(kind)}"
        )
    lines += [
        "",
        "* = the configured model (model.architecture / output_stride / multiplier / quant_bytes; model.selfie)",
        f"local model folder: {local if local is not None else 'not set (model.dir / VCAMSEG_MODEL_DIR)'}",
        f"cache: {models_cache_dir(cfg)}",
    ]
    return "\n".join(lines)


def fetch_models(args: argparse.Namespace) -> int:
    cfg = load_cli_config(args).model
    wanted = _selected(cfg, args.keys, fetch_all=args.all)
    failed = 0
    for item in wanted:
        key = item.key if isinstance(item, Variant) else _selfie_key(item)
        try:
            if isinstance(item, Variant):
                _fetch_one(item, cfg, progress=args.progress, base_url=args.base_url)
            else:
                _fetch_selfie(item, cfg, progress=args.progress, base_url=args.base_url)
        except VcamsegError as exc:
            # Keep going: with several models, one unreachable file should not stop the rest.
            print(f"vcamseg: error: {key}: {exc}", file=sys.stderr)
            failed += 1
    if failed and len(wanted) > 1:
        print(f"vcamseg: {failed} of {len(wanted)} models could not be fetched", file=sys.stderr)
    return 2 if failed else 0


def _selfie_key(kind: SelfieKind) -> str:
    return f"selfie-{kind}"


def _selected(cfg: ModelConfig, keys: Sequence[str], *, fetch_all: bool) -> list[Variant | SelfieKind]:
    """What to fetch: the keys given, everything, or what the configuration runs."""
    if fetch_all:
        return [*all_variants(), *SELFIE_RELPATHS]
    if keys:
        selfie = {_selfie_key(kind): kind for kind in SELFIE_RELPATHS}
        return list(dict.fromkeys(selfie.get(k.strip().lower()) or parse_variant_key(k) for k in keys))
    return [variant_for(cfg), *selfie_kinds_for(cfg.selfie)]


def _fetch_selfie(kind: SelfieKind, cfg: ModelConfig, *, progress: bool | None, base_url: str | None) -> None:
    fetched = fetch_selfie(kind, cfg, download=True, progress=progress, base_url=base_url)
    state = "downloaded" if fetched.downloaded else "in the local model folder or the cache, verified"
    print(f"{_selfie_key(kind)}: {state}\n  {fetched.path}  {_size(fetched)}")


def _fetch_one(variant: Variant, cfg: ModelConfig, *, progress: bool | None, base_url: str | None) -> None:
    local = cfg.effective_dir
    if local is not None and (local / variant.relpath).exists():
        model_json = verify_local(variant, local)
        print(f"{variant.key}: in the local model folder, verified; nothing to download: {model_json}")
        return
    files = fetch_variant(variant, cfg, progress=progress, base_url=base_url)
    downloaded = sum(f.downloaded for f in files)
    state = f"downloaded {downloaded} of {len(files)} file(s)" if downloaded else "already in the cache, verified"
    print(f"{variant.key}: {state}")
    for fetched in files:
        print(f"  {fetched.path}  {_size(fetched)}  {'downloaded' if fetched.downloaded else 'cached'}")


def _size(fetched: FetchedFile) -> str:
    return f"{fetched.size / 1e6:.2f} MB" if fetched.size >= 100_000 else f"{fetched.size / 1e3:.1f} kB"
