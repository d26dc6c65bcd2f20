"""``vcamseg service install``: run vcamseg as a systemd user service.

Writes ~/.config/systemd/user/vcamseg.service with ExecStart pointing at this installation, creates
the folders the (hardened) service may write to, writes the commented example config when there
is none yet, and prints the next steps. ``--dry-run`` prints the unit instead.
"""

from __future__ import annotations

import argparse

from vcamseg.service.install import install, snippet_commands


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "service",
        help="install the systemd user service",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    cmds = p.add_subparsers(dest="service_command", metavar="ACTION", required=True)
    inst = cmds.add_parser("install", help="write the systemd user unit for this installation")
    inst.add_argument("--dry-run", action="store_true", help="print the unit, write nothing")
    inst.set_defaults(handler=_install)


def _install(args: argparse.Namespace) -> int:
    text, installed = install(dry_run=args.dry_run)
    if installed is None:
        print(text, end="")
        return 0
    print(f"wrote {installed.unit}")
    if installed.example_config is not None:
        print(f"wrote the commented example config to {installed.example_config} (edit it: changes apply live)")
    steps = [
        "# the virtual camera device (v4l2loopback), once, as root:",
        *snippet_commands(),
        "sudo modprobe v4l2loopback   # or reboot",
        "# start now and at every login:",
        "systemctl --user daemon-reload && systemctl --user enable --now vcamseg",
        "# follow it:",
        "journalctl --user -u vcamseg -f",
        "vcamseg status",
    ]
    print("next steps:\n" + "\n".join(f"  {line}" for line in steps))
    return 0
