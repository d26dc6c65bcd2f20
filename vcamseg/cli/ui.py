"""``vcamseg ui``: a local settings page for the running daemon, with a live preview.

It prints the page's address (with a token that changes at every start: only whoever has the
address can use the page) and opens it in your browser, then serves until Ctrl-C or SIGTERM. The
page shows the daemon's output (or the camera before the effects, or the mask), its status, and
every config option: a change applies live as ``vcamseg set`` applies it (an invalid value is
shown next to its field, and nothing changes); Save writes the changes into the config file
keeping its comments, as ``vcamseg set --save`` does.

It listens on 127.0.0.1 only, unless ``--host`` says otherwise (then anyone who can reach that
address and has the token can change your camera's settings).
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
import webbrowser

from vcamseg.cli.control import add_socket_args, socket_of
from vcamseg.errors import VcamsegError
from vcamseg.service.client import request
from vcamseg.ui.access import is_loopback
from vcamseg.ui.server import UiServer

log = logging.getLogger(__name__)


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "ui",
        help="a settings page with live preview, in your browser",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--no-browser", action="store_true", help="only print the address; do not open a browser")
    parser.add_argument("--port", type=int, default=0, help="the port (default 0: any free one, printed)")
    parser.add_argument(
        "--host", default="127.0.0.1", metavar="ADDR", help="the address to listen on (default 127.0.0.1: this machine)"
    )
    add_socket_args(parser)
    parser.set_defaults(handler=_ui)


def _ui(args: argparse.Namespace) -> int:
    if not 0 <= args.port <= 65535:
        raise VcamsegError(f"--port {args.port}: expected 0 to 65535", fix="0 picks a free port")
    if not is_loopback(args.host):
        log.warning("listening on %s: other machines that reach it can use the page (with its token)", args.host)
    socket = socket_of(args)
    server = UiServer(socket, args.host, args.port)
    server.start()
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        print(f"vcamseg ui: {server.url}", flush=True)
        try:
            request(socket, {"cmd": "status"}, timeout_s=5)
        except VcamsegError as exc:
            log.warning("%s; the page waits for it", exc.message)
        if not args.no_browser:
            webbrowser.open(server.url)
        stop.wait()
    finally:
        server.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print("vcamseg ui: stopped", file=sys.stderr)
    return 0
