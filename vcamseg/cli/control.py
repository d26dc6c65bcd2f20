"""``vcamseg status`` and ``vcamseg set``: talk to the running daemon over its control socket.

``status``: frame rate, drops, source / output / idle state, inference device, uptime, the config
file, the last reload's result and what waits for a restart (``--json``: everything, with the
effective config).
``set KEY=VALUE ...``: change the running configuration, checked exactly like the file (nothing
changes if one value is invalid); until the file changes next, or ``--save`` writes the keys into
it, keeping its comments and layout.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from vcamseg.pipeline.report import status_lines
from vcamseg.service.client import request, socket_path_for


def register(sub: argparse._SubParsersAction) -> None:
    status = sub.add_parser(
        "status",
        help="state of the running daemon",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    status.add_argument("--json", action="store_true", help="everything, as JSON (with the effective config)")
    add_socket_args(status)
    status.set_defaults(handler=_status)
    change = sub.add_parser(
        "set",
        help="change the running daemon's configuration",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    change.add_argument("changes", nargs="+", metavar="KEY=VALUE", help="e.g. effects.0.background_blur=25")
    change.add_argument("--save", action="store_true", help="also write them into the config file")
    add_socket_args(change)
    change.set_defaults(handler=_set)


def add_socket_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        help="the daemon's config file, to find its socket (service.control_socket_path)",
    )
    parser.add_argument("--socket", type=Path, metavar="PATH", help="the control socket (overrides --config)")


def socket_of(args: argparse.Namespace) -> Path:
    return args.socket if args.socket is not None else socket_path_for(args.config)


def _status(args: argparse.Namespace) -> int:
    status = request(socket_of(args), {"cmd": "status"})["status"]
    if args.json:
        print(json.dumps(status, indent=2))
        return 0
    print(format_status(status))
    return 0


def format_status(status: dict[str, Any]) -> str:
    """`vcamseg status`: the daemon's lines around the pipeline's (`vcamseg.pipeline.report`)."""
    head = f"vcamseg {status['version']}, pid {status['pid']}, up {status['uptime_s']:.0f} s"
    pipe = status["pipeline"]
    if pipe is None:
        return f"{head}\n  state:      starting (opening the source)"
    last = status["last_reload"]
    lines = [
        head,
        *status_lines(pipe, status["idle"]),
        f"  config:     {status['config_file']}{'' if status['config_file_exists'] else ' (not there: defaults)'}",
        f"  last reload: {last['at']} ({last['trigger']}) {'ok' if last['ok'] else 'FAILED'}: {last['message']}",
    ]
    if status["runtime_changes"]:
        lines.append(f"  unsaved:    {', '.join(status['runtime_changes'])} (until the file changes; set --save)")
    if status.get("config_pending"):
        lines.append(
            f"  pending:    {', '.join(status['config_pending'])} (written, not running yet: on restart, "
            "or once the model is ready)"
        )
    return "\n".join(lines)


def _set(args: argparse.Namespace) -> int:
    result = request(socket_of(args), {"cmd": "set", "changes": args.changes, "save": args.save})["result"]
    print(f"{'saved and applied' if args.save else 'applied'}: {result['message']}")
    return 0
