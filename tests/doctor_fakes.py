"""Fake machines for the doctor's unit tests: a sysfs / dev / lib/modules tree in a folder, laid out as
v4l2loopback 0.12 / 0.13 and the kernel lay it out (attribute names and values as in the module's
source), and fake ioctl, /proc and systemctl probes for what the VM cannot produce."""

from __future__ import annotations

import os
import stat as stat_module
from dataclasses import dataclass, field
from pathlib import Path

from vcamseg.doctor.host import CommandResult, Host, mode_allows
from vcamseg.io.loopback import Holder
from vcamseg.io.v4l2 import LOOPBACK_DRIVER, CameraMode, DeviceInfo

RELEASE = "6.1.0-57-amd64"
VIDEO_GID = 44  # Debian's video group
USER, UID, GID = "alice", 1000, 1000


@dataclass
class Loopback:
    """One v4l2loopback device: its sysfs attributes and what VIDIOC_QUERYCAP answers."""

    label: str = "vcamseg"
    state: str | None = "output"  # None: the attribute answers EAGAIN (neither ready for output nor capture)
    capture: bool = False
    output: bool = True
    format: str = ""  # "YU12:1280x720@30" once the format is fixed
    mode: int = 0o660
    gid: int = VIDEO_GID


@dataclass
class Camera:
    card: str = "HD Pro Webcam C920"
    modes: list[CameraMode] = field(default_factory=list)
    mode: int = 0o660
    gid: int = VIDEO_GID


C920_MODES = [
    CameraMode("YUYV", "YUYV 4:2:2", 640, 480, (30.0, 24.0, 15.0)),
    CameraMode("YUYV", "YUYV 4:2:2", 1280, 720, (10.0, 5.0)),
    CameraMode("YUYV", "YUYV 4:2:2", 1920, 1080, (5.0,)),
    CameraMode("MJPG", "Motion-JPEG", 640, 480, (30.0, 24.0, 15.0)),
    CameraMode("MJPG", "Motion-JPEG", 1280, 720, (30.0, 24.0, 15.0)),
    CameraMode("MJPG", "Motion-JPEG", 1920, 1080, (30.0, 24.0, 15.0)),
]
YUYV_ONLY_MODES = [m for m in C920_MODES if m.fourcc == "YUYV"]


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def fake_host(
    root: Path,
    *,
    loaded: bool = True,
    version: str | None = "0.13.2",
    installed: bool = True,
    loopbacks: dict[str, Loopback] | None = None,
    cameras: dict[str, Camera] | None = None,
    exclusive_caps_param: str | None = None,
    holders: dict[str, list[Holder]] | None = None,
    groups: frozenset[int] = frozenset({GID, VIDEO_GID}),
    secure_boot: bool | None = None,
    dkms_versions: tuple[str, ...] = (),
    systemctl: CommandResult | None = None,
    cmdlines: dict[int, list[str]] | None = None,
) -> Host:
    """A machine under ``root``. ``loopbacks`` default: one vcamseg device, /dev/video10, no writer."""
    sys_, dev, lib, var = root / "sys", root / "dev", root / "lib" / "modules", root / "var" / "lib"
    for pid, argv in (cmdlines or {}).items():
        _write(root / "proc" / str(pid) / "cmdline", "\0".join(argv) + "\0")
    dev.mkdir(parents=True, exist_ok=True)
    (sys_ / "devices" / "virtual" / "video4linux").mkdir(parents=True, exist_ok=True)
    loopbacks = {"video10": Loopback()} if loopbacks is None else loopbacks
    cameras = cameras or {}
    infos: dict[str, DeviceInfo] = {}
    perms: dict[str, tuple[int, int]] = {}
    if installed:
        _write(
            lib / RELEASE / "modules.dep",
            "kernel/drivers/media/mc/mc.ko:\n"
            "updates/dkms/v4l2loopback.ko: kernel/drivers/media/v4l2-core/videodev.ko\n",
        )
    else:
        _write(lib / RELEASE / "modules.dep", "kernel/drivers/media/mc/mc.ko:\n")
    for version_dir in dkms_versions:
        (var / "dkms" / "v4l2loopback" / version_dir / "source").mkdir(parents=True, exist_ok=True)
    if secure_boot is not None:
        efivar = sys_ / "firmware" / "efi" / "efivars" / "SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c"
        efivar.parent.mkdir(parents=True, exist_ok=True)
        efivar.write_bytes(b"\x06\x00\x00\x00" + (b"\x01" if secure_boot else b"\x00"))
    if loaded:
        module = sys_ / "module" / "v4l2loopback"
        (module / "parameters").mkdir(parents=True, exist_ok=True)
        if version is not None:  # 0.12.7 publishes none
            _write(module / "version", version + "\n")
        numbers = [name.removeprefix("video") for name in loopbacks]
        _write(module / "parameters" / "video_nr", ",".join(numbers + ["-1"] * (8 - len(numbers))) + "\n")
        if exclusive_caps_param is not None:
            _write(module / "parameters" / "exclusive_caps", exclusive_caps_param + "\n")
        for name, lb in loopbacks.items():
            node = sys_ / "devices" / "virtual" / "video4linux" / name
            _write(node / "name", lb.label + "\n")
            if lb.state is not None:
                _write(node / "state", lb.state + "\n")
            _write(node / "format", lb.format + ("\n" if lb.format else ""))
            (dev / name).touch()
            perms[str(dev / name)] = (lb.mode, lb.gid)
            infos[str(dev / name)] = DeviceInfo(
                str(dev / name), LOOPBACK_DRIVER, lb.label, f"platform:v4l2loopback-{name}", lb.capture, lb.output
            )
    for name, cam in cameras.items():
        (dev / name).touch()
        perms[str(dev / name)] = (cam.mode, cam.gid)
        infos[str(dev / name)] = DeviceInfo(str(dev / name), "uvcvideo", cam.card, "usb-0000:00:14.0-1", True, False)
    modes = {str(dev / name): cam.modes for name, cam in cameras.items()}

    def device_info(path: str) -> DeviceInfo:
        if path not in infos:
            raise FileNotFoundError(2, "No such file or directory", path)
        return infos[path]

    def camera_modes(path: str) -> list[CameraMode]:
        return modes[path]

    def stat(path: str) -> os.stat_result:
        """Device nodes as root:GROUP character devices with their mode (no chown needed)."""
        st = os.stat(path)
        if path not in perms:
            return st
        mode, gid = perms[path]
        return os.stat_result(
            (
                stat_module.S_IFCHR | mode,
                st.st_ino,
                st.st_dev,
                1,
                0,
                gid,
                0,
                int(st.st_atime),
                int(st.st_mtime),
                int(st.st_ctime),
            )
        )

    return Host(
        sys=sys_,
        dev=dev,
        lib_modules=lib,
        var_lib=var,
        proc=root / "proc",
        kernel_release=RELEASE,
        uid=UID,
        user=USER,
        groups=groups,
        stat=stat,
        access=lambda path, want: mode_allows(stat(path), UID, groups, want),
        device_info=device_info,
        camera_modes=camera_modes,
        holders=lambda path: (holders or {}).get(Path(path).name, []),
        command=lambda argv: systemctl,
    )
