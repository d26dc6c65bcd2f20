"""v4l2loopback devices in sysfs: finding them by card label, the loaded module's version, and THE
modprobe line that creates the device vcamseg expects.

`MODPROBE_OPTIONS` is the one copy of the module options: the error hints here, `vcamseg devices`,
the modprobe.d snippet (`vcamseg.service.install`, tracked as systemd/modprobe.d/, kept equal to the
rendering by tests/test_service_install.py) and the README (checked by the same test) derive from it.
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass
from pathlib import Path

from vcamseg.errors import OutputError

SYSFS_VIDEO4LINUX = "/sys/devices/virtual/video4linux"
SYSFS_MODULE_VERSION = "/sys/module/v4l2loopback/version"

MODULE = "v4l2loopback"
VIDEO_NR = 10  # /dev/video10: high enough to stay clear of real cameras
CARD_LABEL = "vcamseg"  # how the default `output.device: label:vcamseg` finds the device
DEFAULT_DEVICE = f"/dev/video{VIDEO_NR}"


def modprobe_options(label: str = CARD_LABEL) -> str:
    """The module options: one device at /dev/video10 with the card label. exclusive_caps=1: the
    device shows as a capture device only once a writer is there, which Chrome/Zoom/Teams need."""
    return f"devices=1 video_nr={VIDEO_NR} card_label={label} exclusive_caps=1"


MODPROBE_OPTIONS = modprobe_options()
MODPROBE_HINT = f"sudo modprobe {MODULE} {MODPROBE_OPTIONS}"


def modprobe_command(label: str = CARD_LABEL) -> str:
    """The command that loads the module with a device of this card label."""
    return f"sudo modprobe {MODULE} {modprobe_options(label)}"


@dataclass(frozen=True)
class LoopbackDevice:
    path: str  # /dev/videoN
    label: str  # the card_label given to modprobe
    sysfs: Path

    @property
    def state(self) -> str:
        """'capture' while a producer holds the output (or keep_format is set), else 'output'."""
        try:
            return (self.sysfs / "state").read_text().strip()
        except OSError:
            return "unknown"


def loopback_devices(sysfs_root: str = SYSFS_VIDEO4LINUX) -> list[LoopbackDevice]:
    """Every v4l2loopback node, by number. Loopback nodes are the virtual video4linux devices."""
    found: list[LoopbackDevice] = []
    for node in sorted(glob.glob(os.path.join(sysfs_root, "video*")), key=_node_number):
        sysfs = Path(node)
        try:
            label = (sysfs / "name").read_text().strip()
        except OSError:
            continue
        found.append(LoopbackDevice(f"/dev/{sysfs.name}", label, sysfs))
    return found


def _node_number(path: str) -> int:
    digits = "".join(c for c in os.path.basename(path) if c.isdigit())
    return int(digits) if digits else -1


def resolve_output_device(spec: str, sysfs_root: str = SYSFS_VIDEO4LINUX) -> str:
    """``/dev/videoN`` or ``label:NAME`` -> the device path; a clear error when there is none."""
    devices = loopback_devices(sysfs_root)
    if spec.startswith("label:"):
        label = spec.removeprefix("label:")
        for dev in devices:
            if dev.label == label:
                return dev.path
        known = ", ".join(f"{d.path} ({d.label!r})" for d in devices) or "none"
        raise OutputError(
            f"no v4l2loopback device with card label {label!r} (loopback devices: {known})",
            fix=f"load the module with that label: {modprobe_command(label)} "
            "(or set output.device to one of the devices above)",
        )
    if not os.path.exists(spec):
        raise OutputError(
            f"virtual camera {spec} does not exist",
            fix=f"load v4l2loopback: {MODPROBE_HINT} (then use {DEFAULT_DEVICE} or label:{CARD_LABEL})",
        )
    return spec


def loopback_module_version(sysfs_file: str = SYSFS_MODULE_VERSION) -> tuple[int, ...] | None:
    """The loaded v4l2loopback module's version from sysfs, or None: modules before 0.13 do not
    publish it (nor does modinfo or VIDIOC_QUERYCAP, which reports the kernel's version)."""
    try:
        text = Path(sysfs_file).read_text().strip()
        return tuple(int(part) for part in text.split(".")[:3])
    except (OSError, ValueError):
        return None
