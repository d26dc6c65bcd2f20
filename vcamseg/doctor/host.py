"""The machine as the checks see it: file-system roots (/sys, /dev, /lib/modules, /var/lib), who the
user is, and the few probes that need real hardware or other programs (V4L2 ioctls, /proc, systemctl).
Everything is a field, so that tests give fake trees and fake probes for cases that the VM cannot
produce (several devices, a label mismatch, module versions, a user outside the video group)."""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import stat
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from vcamseg.io import v4l2
from vcamseg.io.loopback import Holder, holders

SYSTEMCTL_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class CommandResult:
    returncode: int
    stdout: str
    stderr: str


def run_command(argv: list[str], timeout_s: float = SYSTEMCTL_TIMEOUT_S) -> CommandResult | None:
    """Run a read-only helper (systemctl); None when it is not installed. A timeout is rc 124."""
    if shutil.which(argv[0]) is None:
        return None
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired:
        return CommandResult(124, "", f"{argv[0]} did not answer within {timeout_s:g} s")
    except OSError as exc:
        return CommandResult(126, "", str(exc))
    return CommandResult(done.returncode, done.stdout, done.stderr)


def _user_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def _session_groups() -> frozenset[int]:
    return frozenset({os.getegid(), *os.getgroups()})


@dataclass(frozen=True)
class Host:
    sys: Path = Path("/sys")
    dev: Path = Path("/dev")
    lib_modules: Path = Path("/lib/modules")
    var_lib: Path = Path("/var/lib")
    proc: Path = Path("/proc")
    kernel_release: str = field(default_factory=lambda: os.uname().release)
    uid: int = field(default_factory=os.geteuid)
    user: str = field(default_factory=lambda: _user_name(os.geteuid()))
    # The groups this login session has (a group added with usermod counts only after a new login).
    groups: frozenset[int] = field(default_factory=_session_groups)
    # Whether this process may open a node: os.access (it sees ACLs such as logind's uaccess).
    access: Callable[[str, int], bool] = os.access
    stat: Callable[[str], os.stat_result] = os.stat
    device_info: Callable[[str], v4l2.DeviceInfo] = v4l2.device_info
    camera_modes: Callable[[str], list[v4l2.CameraMode]] = v4l2.camera_modes
    holders: Callable[[str], list[Holder]] = holders
    command: Callable[[list[str]], CommandResult | None] = run_command

    @property
    def video4linux(self) -> Path:
        return self.sys / "devices" / "virtual" / "video4linux"

    @property
    def loopback_module(self) -> Path:
        return self.sys / "module" / "v4l2loopback"

    def cmdline(self, pid: int) -> list[str]:
        """A process's arguments (empty when it is gone or not ours to read)."""
        try:
            raw = (self.proc / str(pid) / "cmdline").read_bytes()
        except OSError:
            return []
        return [part.decode(errors="replace") for part in raw.split(b"\0") if part]

    def node(self, name: str) -> str:
        """The device node ``name`` (``video10``) under this host's /dev."""
        return str(self.dev / name)


def group_name(gid: int) -> str:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


def group_members(gid: int) -> list[str]:
    """Users listed for ``gid`` in the group database (not those for whom it is the primary group)."""
    try:
        return list(grp.getgrgid(gid).gr_mem)
    except KeyError:
        return []


def mode_allows(st: os.stat_result, uid: int, groups: frozenset[int], want: int) -> bool:
    """Whether the permission bits give ``uid`` (in ``groups``) ``want`` (os.R_OK | os.W_OK)."""
    if uid == 0:
        return True
    if st.st_uid == uid:
        shift = 6
    elif st.st_gid in groups:
        shift = 3
    else:
        shift = 0
    bits = (st.st_mode >> shift) & 0o7
    return all(not (want & flag) or bits & bit for flag, bit in ((os.R_OK, 0o4), (os.W_OK, 0o2)))


def permission_fix(path: str, st: os.stat_result, host: Host) -> tuple[str, str]:
    """Why ``host.user`` cannot open ``path`` for reading and writing, and the exact fix."""
    group = group_name(st.st_gid)
    mode = stat.filemode(st.st_mode)
    if st.st_gid == 0 and not st.st_mode & 0o060:
        return (
            f"{path} is {mode} root:{group}: only root may open it (no udev rule gave it to the video group)",
            f"sudo chgrp video {path} && sudo chmod 660 {path} (udev normally does this: is systemd-udevd running?)"
            f"; then make sure you are in the video group: sudo usermod -aG video {host.user}",
        )
    if st.st_mode & 0o060 != 0o060:
        return (f"{path} is {mode} root:{group}: its group may not read and write it", f"sudo chmod g+rw {path}")
    if host.user in group_members(st.st_gid):
        return (
            f"{path} belongs to group {group} ({mode}); you ({host.user}) were added to {group}, but this login "
            "session does not have the group yet",
            "log out and back in (or reboot); `newgrp video` gives it to one shell",
        )
    return (
        f"{path} belongs to group {group} ({mode}) and you ({host.user}) are not in that group",
        f"sudo usermod -aG {group} {host.user}, then log out and back in",
    )
