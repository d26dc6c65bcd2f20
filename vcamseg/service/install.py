"""The systemd user unit and the v4l2loopback snippets (systemd/ in the repository holds them as
rendered with the defaults), and `vcamseg service install`, which writes the unit for this
installation."""

from __future__ import annotations

import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

import vcamseg
from vcamseg import paths
from vcamseg.io.loopback import CARD_LABEL, DEFAULT_DEVICE, MODPROBE_OPTIONS, MODULE

UNIT_NAME = "vcamseg.service"
MODPROBE_NAME = "vcamseg-v4l2loopback.conf"
MODULES_LOAD_NAME = "vcamseg.conf"
DEFAULT_EXEC = "%h/.local/bin/vcamseg"  # pipx's place; `vcamseg service install` writes the real one
DEFAULT_WRITABLE = ("%h/.config/vcamseg", "%h/.cache/vcamseg")

# Rendered from the one copy of the module options (vcamseg.io.loopback.MODPROBE_OPTIONS: why
# exclusive_caps=1, and the card label `output.device: label:vcamseg` finds the device by).
MODPROBE_SNIPPET = (
    f'# {MODULE} for vcamseg: one virtual camera, {DEFAULT_DEVICE}, named "{CARD_LABEL}".\n'
    f"# sudo cp {MODPROBE_NAME} /etc/modprobe.d/  (then reboot, or: sudo modprobe {MODULE})\n"
    f"options {MODULE} {MODPROBE_OPTIONS}\n"
)
MODULES_LOAD_SNIPPET = """\
# Load v4l2loopback at boot, for vcamseg (options: /etc/modprobe.d/vcamseg-v4l2loopback.conf).
v4l2loopback
"""

UNIT_TEMPLATE = """\
# vcamseg: BodyPix virtual camera as a systemd user service.
#   vcamseg service install        writes this unit for your installation, then
#   systemctl --user daemon-reload && systemctl --user enable --now vcamseg
#   journalctl --user -u vcamseg -f      the log
#   systemctl --user reload vcamseg      reload the config (it is also reloaded when the file changes)
#   vcamseg status / vcamseg set KEY=VALUE   the running daemon, over its control socket
[Unit]
Description=vcamseg virtual camera (BodyPix person segmentation)

[Service]
Type=notify
NotifyAccess=main
ExecStart={exec_start}
ExecReload=/bin/kill -HUP $MAINPID
Restart=on-failure
RestartSec=5
# READY comes once the virtual camera is open (the model loads after, behind a "starting" card);
# a camera unplugged or not there yet is waited for, with a placeholder picture.
TimeoutStartSec=120
# vcamseg stops within a second of SIGTERM (camera and device released, files finished).
TimeoutStopSec=10
# The daemon pings while its send loop turns; a hung daemon is killed and restarted.
WatchdogSec=30

# Hardening. /dev stays visible (no PrivateDevices, no DevicePolicy: device access control needs
# a privileged service manager; the camera and the loopback device are reached through the
# user's own permissions). No MemoryDenyWriteExecute or SystemCallFilter: TensorFlow and
# XNNPACK may generate code at run time.
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=read-only
# Config (read, and written by `vcamseg set --save`) and the model cache ("-": may not exist yet).
ReadWritePaths={writable}
# $XDG_RUNTIME_DIR/vcamseg: the control socket.
RuntimeDirectory=vcamseg
RuntimeDirectoryMode=0700
PrivateTmp=yes
ProtectKernelTunables=yes
ProtectControlGroups=yes
ProtectHostname=yes
# No ProtectKernelModules, ProtectKernelLogs or ProtectClock: they drop capabilities from the
# bounding set, which a user manager may not do (systemd 252 fails the start: 218/CAPABILITIES;
# tests/vcam/test_systemd_service.py), and a user service has none of those capabilities anyway.
# The control socket is AF_UNIX; model downloads are outbound HTTPS; nothing listens on the network.
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6
RestrictNamespaces=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
SystemCallArchitectures=native
UMask=0077

[Install]
WantedBy=default.target
"""


def render_unit(exec_start: str = f"{DEFAULT_EXEC} run", writable: tuple[str, ...] = DEFAULT_WRITABLE) -> str:
    return UNIT_TEMPLATE.format(exec_start=exec_start, writable=" ".join(f"-{p}" for p in writable))


def installed_command() -> list[str]:
    """This installation's vcamseg: the script beside the running Python (a venv's bin), else
    the Python itself with -m vcamseg."""
    script = Path(sys.executable).parent / "vcamseg"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "vcamseg"]


def exec_line(command: list[str]) -> str:
    # systemd splits ExecStart like a shell would (quotes allowed); % starts a specifier.
    return " ".join(shlex.quote(part).replace("%", "%%") for part in [*command, "run"])


def unit_path() -> Path:
    return paths.systemd_user_dir() / UNIT_NAME


@dataclass(frozen=True)
class Installed:
    unit: Path
    example_config: Path | None  # written because there was no config yet


def install(*, dry_run: bool = False) -> tuple[str, Installed | None]:
    """Render the unit for this installation; unless ``dry_run``, write it (and the folders it
    may write to, and the commented example config when there is no config yet)."""
    writable = (paths.config_file().parent, paths.cache_dir())
    text = render_unit(exec_line(installed_command()), tuple(str(p) for p in writable))
    if dry_run:
        return text, None
    target = unit_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    for folder in writable:
        folder.mkdir(parents=True, exist_ok=True)
    example = None
    if not paths.config_file().exists():
        from vcamseg.config.example import render_example

        example = paths.config_file()
        example.write_text(render_example(), encoding="utf-8")
    return text, Installed(target, example)


def snippet_commands() -> list[str]:
    """How to install the v4l2loopback snippets (they need root)."""
    repo = Path(vcamseg.__file__).resolve().parents[1] / "systemd"
    modprobe, modules_load = repo / "modprobe.d" / MODPROBE_NAME, repo / "modules-load.d" / MODULES_LOAD_NAME
    if modprobe.is_file() and modules_load.is_file():  # a source checkout
        return [
            f"sudo cp {shlex.quote(str(modprobe))} /etc/modprobe.d/",
            f"sudo cp {shlex.quote(str(modules_load))} /etc/modules-load.d/",
        ]
    return [
        f"printf %s {shlex.quote(MODPROBE_SNIPPET)} | sudo tee /etc/modprobe.d/{MODPROBE_NAME}",
        f"printf %s {shlex.quote(MODULES_LOAD_SNIPPET)} | sudo tee /etc/modules-load.d/{MODULES_LOAD_NAME}",
    ]
