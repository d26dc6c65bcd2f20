"""The virtual camera device that ``output.device`` points at: found (by card label or path), open
to this user, announced the way Chrome needs (``exclusive_caps=1``), and not taken by another
producer. Sysfs, stat() and one VIDIOC_QUERYCAP (the same open `vcamseg devices` makes); no writes."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from vcamseg.config import Config
from vcamseg.doctor.host import Host, permission_fix
from vcamseg.doctor.module import RELOAD, check_module
from vcamseg.doctor.report import Finding, ok, problem, warning
from vcamseg.io.loopback import MODPROBE_HINT, LoopbackDevice, loopback_devices

AREA = "loopback"
TWO_DEVICES = (
    "sudo modprobe -r v4l2loopback && sudo modprobe v4l2loopback devices=2 video_nr=10,11 "
    "card_label=vcamseg,other exclusive_caps=1,1"
)


def is_virtual_camera(spec: str) -> bool:
    """As the sink does: ``label:NAME`` and ``/dev/...`` are virtual cameras; ``null`` and paths are files."""
    return spec.startswith(("label:", "/dev/"))


def check_loopback(config: Config, host: Host, daemon: dict[str, Any] | None = None) -> list[Finding]:
    """``daemon``: the running daemon's status (`vcamseg status --json`), to tell its writes from another's."""
    spec = config.output.device
    if not is_virtual_camera(spec):
        what = "discarded" if spec == "null" else "written to a file"
        return [ok(AREA, "output", f"output.device is {spec!r}: frames are {what}, no virtual camera is used")]
    findings, loaded = check_module(host)
    if not loaded:
        return findings
    devices = loopback_devices(str(host.video4linux))
    if not devices:
        return [
            *findings,
            problem(AREA, "devices", "v4l2loopback is loaded but has no devices (devices=0?)", fix=RELOAD),
        ]
    target, finding = find_target(spec, devices, host)
    findings.append(finding)
    if target is not None:
        findings += check_device(target, config, host, daemon)
    return findings


def find_target(spec: str, devices: list[LoopbackDevice], host: Host) -> tuple[LoopbackDevice | None, Finding]:
    listing = ", ".join(f"{host.node(_name(d))} ({d.label!r})" for d in devices)
    if spec.startswith("label:"):
        label = spec.removeprefix("label:")
        matches = [d for d in devices if d.label == label]
        if not matches:
            return None, problem(
                AREA,
                "label",
                f"no v4l2loopback device has the card label {label!r} that output.device asks for "
                f"(loopback devices: {listing})",
                fix=f"reload the module with that label: sudo modprobe -r v4l2loopback && "
                f"{MODPROBE_HINT.replace('card_label=vcamseg', f'card_label={label}')}; or set output.device "
                f"to one of the devices above",
                labels={host.node(_name(d)): d.label for d in devices},
            )
        chosen = matches[0]
        if len(matches) > 1:
            others = ", ".join(host.node(_name(d)) for d in matches[1:])
            return chosen, warning(
                AREA,
                "label",
                f"several devices have the label {label!r}: vcamseg uses {host.node(_name(chosen))}, not {others}",
                fix=f"set output.device: {host.node(_name(chosen))}, or give each device its own card_label",
                device=host.node(_name(chosen)),
            )
        return chosen, ok(
            AREA, "label", f"output.device {spec} is {host.node(_name(chosen))}", device=host.node(_name(chosen))
        )
    for dev in devices:
        if spec in (dev.path, host.node(_name(dev))):
            return dev, ok(
                AREA, "label", f"output.device {spec} is a v4l2loopback device (label {dev.label!r})", device=spec
            )
    exists = os.path.exists(host.node(Path(spec).name)) if spec.startswith("/dev/") else False
    what = "is not a v4l2loopback device (a real camera?)" if exists else "does not exist"
    return None, problem(
        AREA,
        "label",
        f"output.device {spec} {what}; loopback devices: {listing}",
        fix="set output.device to one of them, or to label:vcamseg",
    )


def check_device(dev: LoopbackDevice, config: Config, host: Host, daemon: dict[str, Any] | None) -> list[Finding]:
    node = host.node(_name(dev))
    try:
        st = host.stat(node)
    except OSError as exc:
        return [
            problem(
                AREA,
                "permissions",
                f"{node} is listed in sysfs but its device node is missing ({exc.strerror})",
                fix=RELOAD,
            )
        ]
    if not host.access(node, os.R_OK | os.W_OK):
        message, fix = permission_fix(node, st, host)
        return [problem(AREA, "permissions", f"you cannot open the virtual camera: {message}", fix=fix)]
    findings = [ok(AREA, "permissions", f"{node} is readable and writable for you ({host.user})")]
    state = _sysfs(dev.sysfs / "state")
    caps = _caps(node, host)
    findings.append(exclusive_caps_finding(node, caps, state, host, dev))
    findings.append(producer_finding(node, caps, state, config, host, daemon, dev))
    return findings


def _name(dev: LoopbackDevice) -> str:
    return dev.sysfs.name


def _sysfs(path: Path) -> str | None:
    """A sysfs attribute, or None when it cannot be read: 0.12 has no `state`, and 0.13's answers
    EAGAIN when the device is neither ready for output nor for capture."""
    try:
        return path.read_text().strip()
    except OSError:
        return None


def _caps(node: str, host: Host) -> tuple[bool, bool] | None:
    try:
        info = host.device_info(node)
    except OSError:
        return None
    return info.capture, info.output


def _param(host: Host, name: str, dev: LoopbackDevice) -> str | None:
    """A module parameter's value for ``dev`` (the arrays are per device, in creation order)."""
    values = _sysfs(host.loopback_module / "parameters" / name)
    numbers = _sysfs(host.loopback_module / "parameters" / "video_nr")
    if values is None:
        return None
    items = values.split(",")
    number = _name(dev).removeprefix("video")
    index = numbers.split(",").index(number) if numbers and number in numbers.split(",") else None
    return items[index] if index is not None and index < len(items) else None


def exclusive_caps_finding(
    node: str, caps: tuple[bool, bool] | None, state: str | None, host: Host, dev: LoopbackDevice
) -> Finding:
    if caps is None:
        value = _param(host, "exclusive_caps", dev)
        if value in ("Y", "1"):
            return ok(AREA, "exclusive_caps", f"{node}: exclusive_caps=1 (module parameter)", exclusive_caps=True)
        if value in ("N", "0"):
            return _exclusive_caps_off(node)
        return warning(
            AREA,
            "exclusive_caps",
            f"cannot query {node} (VIDIOC_QUERYCAP failed) nor read the exclusive_caps module parameter",
            fix="see `v4l2-ctl -D -d " + node + "`",
        )
    capture, output = caps
    if capture and output:
        return _exclusive_caps_off(node)
    if not capture and not output:
        return problem(
            AREA,
            "exclusive_caps",
            f"{node} announces neither capture nor output: a writer closed it and this "
            "v4l2loopback (< 0.13) does not accept a new one with exclusive_caps=1 (v4l2loopback issue #442); no "
            "application lists it and vcamseg cannot open it",
            fix=RELOAD,
            exclusive_caps=True,
            stuck=True,
        )
    if capture:
        return ok(
            AREA,
            "exclusive_caps",
            f"{node}: exclusive_caps=1, and a producer writes to it, so Chrome, Meet, "
            "Zoom and Teams list it as a camera",
            exclusive_caps=True,
        )
    return ok(
        AREA,
        "exclusive_caps",
        f"{node}: exclusive_caps=1 (applications list it once a producer writes to "
        "it: the daemon keeps it open, idle or not)",
        exclusive_caps=True,
    )


def _exclusive_caps_off(node: str) -> Finding:
    return problem(
        AREA,
        "exclusive_caps",
        f"{node} announces capture and output at once (exclusive_caps=0): Chrome and Meet do not list it as a camera",
        fix=f"{RELOAD} (and in /etc/modprobe.d, the same options: `vcamseg service install` prints the snippet)",
        exclusive_caps=False,
    )


def is_vcamseg_daemon(argv: list[str]) -> bool:
    """``vcamseg run ...`` or ``python -m vcamseg run ...``."""
    names = [Path(arg).name for arg in argv]
    return "run" in names and ("vcamseg" in names or any(n.startswith("vcamseg") for n in names[:3]))


def producer_finding(
    node: str,
    caps: tuple[bool, bool] | None,
    state: str | None,
    config: Config,
    host: Host,
    daemon: dict[str, Any] | None,
    dev: LoopbackDevice,
) -> Finding:
    writing = state == "capture" if state is not None else caps == (True, False)
    fmt = _sysfs(dev.sysfs / "format") or None
    daemon_pid = daemon.get("pid") if daemon else None
    try:
        holders = host.holders(node)
    except OSError:
        holders = []
    ours = daemon_pid is not None and any(h.pid == daemon_pid for h in holders)
    others = [h for h in holders if h.pid != daemon_pid]
    daemons = [h for h in others if is_vcamseg_daemon(host.cmdline(h.pid))]
    open_by = [f"{'vcamseg run' if h in daemons else h.command} (pid {h.pid})" for h in others]
    details = {"writing": writing, "format": fmt, "open_by": open_by, "daemon_pid": daemon_pid if ours else None}
    shown = f"{node}{f' ({fmt})' if fmt else ''}"
    if writing and ours:
        also = f"; also open by {', '.join(open_by)} (readers)" if open_by else ""
        return ok(AREA, "producer", f"vcamseg (pid {daemon_pid}) writes to {shown}{also}", **details)
    if writing and daemons and daemon_pid is None:
        pids = ", ".join(str(h.pid) for h in daemons)
        return warning(
            AREA,
            "producer",
            f"a vcamseg daemon (pid {pids}) has {shown} open, but it did not answer on "
            "the control socket (busy loading, or it uses another service.control_socket_path)",
            fix=f"vcamseg status --socket <its socket>, or see its log: journalctl --user -u vcamseg; a "
            f"second daemon for the same device: stop it (kill {daemons[0].pid})",
            **details,
        )
    if writing:
        who = ", ".join(open_by) if open_by else "a process you cannot see (another user's?)"
        kill = f"stop it (kill {others[0].pid})" if others else f"find it with `sudo fuser -v {node}` and stop it"
        return problem(
            AREA,
            "producer",
            f"another program writes to {shown}: open by {who}; vcamseg cannot publish there "
            "(VIDIOC_S_FMT fails with 'Invalid argument' when the format differs)",
            fix=f"{kill}, or give vcamseg a device of its own: {TWO_DEVICES}",
            **details,
        )
    if fmt:
        width = config.output.width or config.source.width
        height = config.output.height or config.source.height
        if f":{width}x{height}@" not in fmt:
            return warning(
                AREA,
                "producer",
                f"nobody writes to {node}, but its format is fixed at {fmt} (keep_format, or a "
                f"previous producer); vcamseg will send {width}x{height}, which VIDIOC_S_FMT refuses "
                "('Invalid argument')",
                fix=RELOAD,
                **details,
            )
    readers = f" (open by {', '.join(open_by)})" if open_by else ""
    return ok(AREA, "producer", f"no other program writes to {node}{readers}", **details)
