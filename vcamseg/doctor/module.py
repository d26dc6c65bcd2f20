"""The v4l2loopback kernel module: loaded or not (and if not: installed? built for this kernel?
blocked by Secure Boot?), and its version (before 0.13 a closed writer cannot come back: v4l2loopback
issue #442). Read from sysfs and /lib/modules only; nothing is loaded or run."""

from __future__ import annotations

from vcamseg.doctor.host import Host
from vcamseg.doctor.report import Finding, ok, problem, warning
from vcamseg.io.loopback import MODPROBE_HINT
from vcamseg.service.install import snippet_commands

AREA = "loopback"
# EFI global variable GUID: SecureBoot-<guid> holds 4 attribute bytes, then 1 (on) or 0 (off).
SECURE_BOOT_VAR = "SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c"
FIXED_IN = (0, 13)
RELOAD = f"sudo modprobe -r v4l2loopback && {MODPROBE_HINT}"
UPGRADE = (
    "install v4l2loopback >= 0.13: on Debian bookworm `sudo apt install -t bookworm-backports "
    "v4l2loopback-dkms` (enable bookworm-backports first); elsewhere your distribution's v4l2loopback-dkms "
    ">= 0.13 or the upstream source (github.com/v4l2loopback/v4l2loopback)"
)


def check_module(host: Host) -> tuple[list[Finding], bool]:
    """The module findings, and whether it is loaded (the device checks need it)."""
    if host.loopback_module.is_dir():
        return [ok(AREA, "module", "v4l2loopback is loaded"), version_finding(host)], True
    return [not_loaded(host)], False


def not_loaded(host: Host) -> Finding:
    release = host.kernel_release
    at_boot = " && ".join(snippet_commands())
    module = installed_module(host)
    if module is None:
        dkms = host.var_lib / "dkms" / "v4l2loopback"
        versions = sorted(p.name for p in dkms.iterdir() if p.is_dir()) if dkms.is_dir() else []
        if versions:
            return problem(
                AREA,
                "module",
                f"v4l2loopback is not loaded, and DKMS has its source ({', '.join(versions)}) but no "
                f"module built for the running kernel {release}",
                fix=f"sudo apt install linux-headers-{release} && sudo dkms autoinstall -k {release} && "
                f"{MODPROBE_HINT}",
                kernel=release,
                dkms_versions=versions,
            )
        return problem(
            AREA,
            "module",
            f"v4l2loopback is not installed for the running kernel {release} (no "
            f"v4l2loopback module under {host.lib_modules / release})",
            fix=f"sudo apt install v4l2loopback-dkms linux-headers-{release} && {MODPROBE_HINT}; "
            f"to load it at every boot: {at_boot}",
            kernel=release,
        )
    message = f"v4l2loopback is installed ({module}) but not loaded: there is no virtual camera"
    fix = f"{MODPROBE_HINT}; to load it at every boot: {at_boot}"
    if secure_boot(host):
        key = mok_key(host)
        message += (
            "; Secure Boot is on, so if modprobe answers 'Key was rejected by service' the kernel refuses "
            "the unsigned DKMS module"
        )
        fix += (
            f"; if the key is rejected: sudo mokutil --import {key}, reboot, and enrol the key in the MOK "
            "manager (blue screen), then modprobe again"
        )
    return problem(AREA, "module", message, fix=fix, kernel=release, module=module, secure_boot=secure_boot(host))


def installed_module(host: Host) -> str | None:
    """The module's path from modules.dep (which depmod, run by DKMS and packages, keeps), or None."""
    for listing in ("modules.dep", "modules.builtin"):
        try:
            text = (host.lib_modules / host.kernel_release / listing).read_text(errors="replace")
        except OSError:
            continue
        for line in text.splitlines():
            path = line.split(":", 1)[0].strip()
            if path.rsplit("/", 1)[-1].split(".ko", 1)[0] == "v4l2loopback":
                return path
    return None


def secure_boot(host: Host) -> bool | None:
    """True/False from the EFI variable; None on a machine without EFI variables (BIOS boot)."""
    try:
        raw = (host.sys / "firmware" / "efi" / "efivars" / SECURE_BOOT_VAR).read_bytes()
    except OSError:
        return None
    return len(raw) >= 5 and raw[4] == 1


def mok_key(host: Host) -> str:
    """The DKMS signing key to enrol: Ubuntu's shim-signed one, else the one Debian's DKMS makes."""
    ubuntu = host.var_lib / "shim-signed" / "mok" / "MOK.der"
    return str(ubuntu) if ubuntu.is_file() else str(host.var_lib / "dkms" / "mok.pub")


def parse_version(text: str) -> tuple[int, ...] | None:
    """``0.13.2``, ``0.12.7-2ubuntu1``, ``v0.13.2-11-gabcdef`` -> (0, 13, 2); None when it has no numbers."""
    head = text.strip().lstrip("v").split("-", 1)[0]
    parts = []
    for piece in head.split(".")[:3]:
        digits = "".join(c for c in piece if c.isdigit())
        if not digits or digits != piece:
            break
        parts.append(int(digits))
    return tuple(parts) if len(parts) >= 2 else None


def version_finding(host: Host) -> Finding:
    try:
        text = (host.loopback_module / "version").read_text().strip()
    except OSError:
        return warning(
            AREA,
            "version",
            "v4l2loopback does not publish its version, so it is older than 0.13 (Debian bookworm "
            "ships 0.12.7): once a writer closes the device, a new one cannot open it while exclusive_caps=1 "
            "(v4l2loopback issue #442), so a restarted daemon fails until the module is reloaded; and readers are "
            "detected by inotify instead of the client-usage event",
            fix=f"{UPGRADE}; meanwhile, after each restart of vcamseg: {RELOAD}",
            version=None,
        )
    version = parse_version(text)
    if version is None:
        return warning(
            AREA,
            "version",
            f"v4l2loopback reports the version {text!r}, which vcamseg cannot read",
            fix="check `modinfo v4l2loopback`; vcamseg needs >= 0.13 to reopen the device after a restart",
            version=text,
        )
    if version < FIXED_IN:
        return warning(
            AREA,
            "version",
            f"v4l2loopback {text} is older than 0.13: once a writer closes the device, a new one "
            "cannot open it while exclusive_caps=1 (v4l2loopback issue #442), so a restarted daemon fails until the "
            "module is reloaded; readers are detected by inotify instead of the client-usage event",
            fix=f"{UPGRADE}; meanwhile, after each restart of vcamseg: {RELOAD}",
            version=text,
        )
    note = ""
    if version >= (0, 14):
        note = "; since 0.14 one application at a time can read the camera (a second gets 'Device or resource busy')"
    return ok(
        AREA,
        "version",
        f"v4l2loopback {text}: a restarted daemon can reopen the device, readers are "
        f"detected by the client-usage event{note}",
        version=text,
    )
