"""``vcamseg devices``: cameras with the modes they offer, and v4l2loopback devices (virtual
cameras) with their card label and whether an application reads them now."""

from __future__ import annotations

import argparse
import glob
import json
import os
from collections import defaultdict
from typing import Any

from vcamseg.io import v4l2
from vcamseg.io.loopback import MODPROBE_HINT, holders, loopback_devices, read_client_usage


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "devices",
        help="list cameras (with modes) and virtual cameras (with readers)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(handler=run)


def cameras() -> list[dict[str, Any]]:
    found = []
    for path in sorted(glob.glob("/dev/video*"), key=lambda p: int("".join(c for c in p if c.isdigit()) or -1)):
        try:
            info = v4l2.device_info(path)
        except OSError as exc:
            found.append({"path": path, "error": exc.strerror or str(exc)})
            continue
        if info.is_loopback or not info.capture:
            continue  # virtual cameras are listed below; UVC metadata nodes have no capture
        entry: dict[str, Any] = {"path": path, "card": info.card, "driver": info.driver, "bus": info.bus}
        try:
            entry["modes"] = [vars(m) | {"fps": list(m.fps)} for m in v4l2.camera_modes(path)]
        except OSError as exc:
            entry["modes"] = []
            entry["error"] = f"cannot list modes: {exc.strerror or exc}"
        found.append(entry)
    return found


def virtual_cameras() -> list[dict[str, Any]]:
    found = []
    for dev in loopback_devices():
        entry: dict[str, Any] = {"path": dev.path, "label": dev.label, "state": dev.state}
        usage = read_client_usage(dev.path) if os.path.exists(dev.path) else None
        entry["streaming"] = None if usage is None else bool(usage)
        try:
            entry["open_by"] = [f"{h.command} (pid {h.pid})" for h in holders(dev.path)]
        except OSError:
            entry["open_by"] = []
        found.append(entry)
    return found


def _format_modes(modes: list[dict[str, Any]]) -> list[str]:
    by_format: dict[str, list[str]] = defaultdict(list)
    for m in modes:
        rates = "/".join(f"{r:g}" for r in m["fps"]) or "?"
        by_format[f"{m['fourcc']} ({m['description']})"].append(f"{m['width']}x{m['height']}@{rates}")
    return [f"    {fmt}: {', '.join(sizes)}" for fmt, sizes in by_format.items()]


def run(args: argparse.Namespace) -> int:
    cams, vcams = cameras(), virtual_cameras()
    if args.json:
        print(json.dumps({"cameras": cams, "virtual_cameras": vcams}, indent=2))
        return 0
    print("Cameras:")
    if not cams:
        print("  none found (no /dev/video* capture device)")
    for cam in cams:
        if "error" in cam and "card" not in cam:
            print(f"  {cam['path']}: {cam['error']}")
            continue
        print(f"  {cam['path']}: {cam['card']} ({cam['driver']}, {cam['bus']})")
        print("\n".join(_format_modes(cam["modes"])) or "    (no modes reported)")
        if cam.get("error"):
            print(f"    {cam['error']}")
    print("Virtual cameras (v4l2loopback):")
    if not vcams:
        print(f"  none: load the module with\n    {MODPROBE_HINT}")
    for vc in vcams:
        if vc["streaming"] is None:
            use = "open by " + ", ".join(vc["open_by"]) if vc["open_by"] else "not open"
            use += " (v4l2loopback < 0.13: streaming state unknown)"
        else:
            use = "in use (an application is streaming)" if vc["streaming"] else "not in use"
            if vc["open_by"]:
                use += "; open by " + ", ".join(vc["open_by"])
        print(f"  {vc['path']}: label {vc['label']!r}, {vc['state']}, {use}")
    return 0
