"""``vcamseg doctor``: check the whole setup and say what is wrong, each finding with the exact fix.

It checks the Python install (supported version, dependencies, drift from the tested lock file), the
config file, the v4l2loopback module and the virtual camera (version, exclusive_caps, card label,
permissions, another producer), the camera's modes, the model files and the cache, the inference
device, the systemd user unit and the running daemon. Safe to run at any time: no capture starts,
TensorFlow is not loaded (unless --gpu-probe), nothing is written but a probe file in the cache.

Exit status: 0 when no check found a problem (warnings allowed), 1 when one did. Paste the output
(or --json) into a bug report.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from vcamseg.cli.common import add_config_args
from vcamseg.doctor import DoctorOptions, run_doctor
from vcamseg.doctor.daemon import TIMEOUT_S


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "doctor",
        help="check the setup and say what is wrong (with the fix)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--json", action="store_true", help="print JSON (for scripts and bug reports)")
    add_config_args(p)  # --config FILE, --set KEY=VALUE: check the setup a changed config would meet
    p.add_argument("--socket", type=Path, metavar="PATH", help="the daemon's control socket (default: configured)")
    p.add_argument(
        "--timeout",
        type=float,
        default=TIMEOUT_S,
        metavar="SECONDS",
        help=f"how long the running daemon may take to answer (default {TIMEOUT_S:g})",
    )
    p.add_argument(
        "--gpu-probe",
        action="store_true",
        help="also load TensorFlow (in a subprocess, seconds) to list the GPUs it sees",
    )
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    options = DoctorOptions(
        config_file=args.config,
        overrides=tuple(args.overrides),
        socket=args.socket,
        socket_timeout_s=args.timeout,
        gpu_probe=args.gpu_probe,
    )
    report = run_doctor(options)
    print(report.render_json() if args.json else report.render_text())
    return report.exit_code
