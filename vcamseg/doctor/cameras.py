"""The cameras: the one ``source.device`` names (there, open to this user, a real capture device) and
the modes each camera offers, by ioctls only (VIDIOC_ENUM_FMT / FRAMESIZES / FRAMEINTERVALS): no
capture is started, so no LED comes on. Whether the configured fourcc, size and rate are offered,
and if not, what the camera would give instead (the peers' "silently 640x480" complaint)."""

from __future__ import annotations

import glob
import os
from pathlib import Path

from vcamseg.config import Config
from vcamseg.config.io import SourceConfig
from vcamseg.doctor.host import Host, permission_fix
from vcamseg.doctor.report import Finding, ok, problem, warning
from vcamseg.io.v4l2 import CameraMode

AREA = "camera"


def _number(path: str) -> int:
    digits = "".join(c for c in Path(path).name if c.isdigit())
    return int(digits) if digits else -1


def camera_nodes(host: Host) -> list[str]:
    """Every capture node that is not a v4l2loopback device, by number."""
    found = []
    for node in sorted(glob.glob(str(host.dev / "video*")), key=_number):
        try:
            info = host.device_info(node)
        except OSError:
            continue
        if info.capture and not info.is_loopback:
            found.append(node)
    return found


def check_cameras(config: Config, host: Host) -> list[Finding]:
    src = config.source
    spec = src.device
    if spec == "test":
        return [ok(AREA, "source", "source.device is 'test': a synthetic pattern, no camera is used")]
    if not (spec.startswith("/dev/") or spec.isdigit()):
        path = Path(spec).expanduser()
        if path.is_file():
            return [ok(AREA, "source", f"source.device is the file {path}")]
        return [
            problem(
                AREA,
                "source",
                f"source.device {spec} is neither a camera nor an existing file",
                fix="set source.device to a camera (/dev/video0, see `vcamseg devices`), a video or image "
                "file, or 'test'",
            )
        ]
    node = host.node(f"video{spec}") if spec.isdigit() else host.node(Path(spec).name)
    cameras = camera_nodes(host)
    others = [c for c in cameras if c != node]
    findings = [configured_camera(node, config, host, cameras)]
    for other in others:  # what else there is, with the configured mode, for a quick switch
        findings.append(mode_finding(other, config, host, configured=False))
    return findings


def configured_camera(node: str, config: Config, host: Host, cameras: list[str]) -> Finding:
    listing = ", ".join(cameras) or "none"
    if not os.path.exists(node):
        fix = (
            f"set source.device to one of: {listing}" if cameras else "plug the camera in (`vcamseg devices` lists it)"
        )
        return problem(
            AREA,
            "source",
            f"camera {node} does not exist (cameras found: {listing}); the daemon shows "
            "a 'camera not connected' picture until it appears",
            fix=fix,
        )
    if not host.access(node, os.R_OK | os.W_OK):
        message, fix = permission_fix(node, host.stat(node), host)
        return problem(AREA, "source", f"you cannot open the camera: {message}", fix=fix)
    try:
        info = host.device_info(node)
    except OSError as exc:
        return problem(
            AREA,
            "source",
            f"{node} is not a V4L2 device ({exc.strerror or exc})",
            fix=f"set source.device to one of: {listing}",
        )
    if info.is_loopback:
        return problem(
            AREA,
            "source",
            f"source.device {node} is a v4l2loopback device ({info.card!r}), not a camera: "
            "vcamseg would read its own output",
            fix=f"set source.device to a camera: {listing}",
        )
    if not info.capture:
        return problem(
            AREA,
            "source",
            f"{node} ({info.card}) has no video capture (a UVC metadata node?)",
            fix=f"set source.device to one of: {listing}",
        )
    return mode_finding(node, config, host, configured=True, card=info.card)


def mode_finding(node: str, config: Config, host: Host, *, configured: bool, card: str = "") -> Finding:
    src = config.source
    check = "modes" if configured else f"other camera {node}"
    name = f"{node}{f' ({card})' if card else ''}"
    try:
        modes = host.camera_modes(node)
    except OSError as exc:
        return warning(
            AREA,
            check,
            f"{name}: cannot list its modes ({exc.strerror or exc})",
            fix=f"check it with `v4l2-ctl -d {node} --list-formats-ext`",
        )
    details = {"modes": [f"{m.fourcc} {m.width}x{m.height}@{'/'.join(f'{r:g}' for r in m.fps)}" for m in modes]}
    want = f"{src.width}x{src.height} at {src.fps:g} fps"
    fourccs = list(dict.fromkeys(m.fourcc for m in modes))
    if not configured:
        best = best_mode(modes, src.fourcc if src.fourcc != "auto" else None, src.width, src.height)
        offer = f"offers {_describe(best)}" if best is not None else "offers no mode"
        return ok(AREA, check, f"also connected: {name}, {offer} (formats {_some(fourccs)})", **details)
    if not modes:
        return warning(
            AREA,
            check,
            f"{name} lists no modes; the driver picks one when vcamseg opens it",
            fix=f"check it with `v4l2-ctl -d {node} --list-formats-ext`",
            **details,
        )
    if src.fourcc == "auto":
        best = best_mode(modes, None, src.width, src.height)
        return _rate_finding(name, check, best, src.width, src.height, src.fps, "its current format", details)
    offered = [m for m in modes if m.fourcc == src.fourcc]
    if not offered:
        fallback = best_mode(modes, None, src.width, src.height)
        fix = f"set source.fourcc: {fallback.fourcc}{_size_fix(fallback, src)}" if fallback else ""
        return warning(
            AREA,
            check,
            f"{name} offers no {src.fourcc} (it has {_some(fourccs)}); asked for "
            f"{src.fourcc} {want}, it would give {_describe(fallback)}",
            fix=fix,
            **details,
        )
    return _rate_finding(
        name,
        check,
        best_mode(offered, src.fourcc, src.width, src.height),
        src.width,
        src.height,
        src.fps,
        src.fourcc,
        details,
    )


def _some(names: list[str], shown: int = 6) -> str:
    """A format list short enough for one line (test drivers such as vivid offer 60)."""
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


def _rate_finding(
    name: str, check: str, mode: CameraMode | None, width: int, height: int, fps: float, fourcc: str, details: dict
) -> Finding:
    if mode is None:
        return warning(AREA, check, f"{name}: no usable {fourcc} mode", **details)
    top = max(mode.fps, default=0.0)
    if (mode.width, mode.height) != (width, height):
        return warning(
            AREA,
            check,
            f"{name} has no {fourcc} {width}x{height}; the driver would pick "
            f"{_describe(mode)} (frames are scaled to the output size)",
            fix=f"set source.width: {mode.width} and source.height: {mode.height}",
            **details,
        )
    if mode.fps and top + 0.5 < fps:
        return warning(
            AREA,
            check,
            f"{name} gives {fourcc} {width}x{height} at {top:g} fps at most, not {fps:g}",
            fix=f"set source.fps: {top:g}, or a smaller size at {fps:g} fps",
            **details,
        )
    return ok(AREA, check, f"{name} offers {mode.fourcc} {width}x{height} at {fps:g} fps", **details)


def best_mode(modes: list[CameraMode], fourcc: str | None, width: int, height: int) -> CameraMode | None:
    """What the driver would settle on for a request: the exact size if offered, else the nearest
    size (V4L2 drivers round to the closest frame size), preferring faster modes on ties."""
    candidates = [m for m in modes if fourcc is None or m.fourcc == fourcc]
    if not candidates:
        return None
    return min(candidates, key=lambda m: (abs(m.width - width) + abs(m.height - height), -max(m.fps, default=0.0)))


def _describe(mode: CameraMode | None) -> str:
    if mode is None:
        return "nothing usable"
    rate = f" at {max(mode.fps):g} fps" if mode.fps else ""
    return f"{mode.fourcc} {mode.width}x{mode.height}{rate}"


def _size_fix(mode: CameraMode, src: SourceConfig) -> str:
    """The other keys to change with source.fourcc so that the config asks for what the camera gives."""
    parts = []
    if (mode.width, mode.height) != (src.width, src.height):
        parts += [f"source.width: {mode.width}", f"source.height: {mode.height}"]
    if mode.fps and max(mode.fps) + 0.5 < src.fps:
        parts.append(f"source.fps: {max(mode.fps):g}")
    return "".join(f", {p}" for p in parts)
