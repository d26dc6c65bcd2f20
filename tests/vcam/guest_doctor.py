#!/usr/bin/env python3
"""Runs INSIDE the v4l2vm (see tests/vcam/test_doctor.py): `vcamseg doctor` against the real
v4l2loopback module, one scenario after another, each report stored in ``OUT/results.json``:

baseline (exclusive_caps=1, nobody writing; also through the CLI: exit status 0), vivid (a real V4L2
capture driver: modes by ioctls), other_writer (pyvirtualcam from another process holds the device),
daemon (our own `vcamseg run` writes to it), user_* (a user outside / newly inside / inside the video
group), ro_cache_* (a read-only cache folder), exclusive_caps_0 and no_label (the module reloaded with
other arguments), no_module (unloaded; through the CLI: exit status 1). On v4l2loopback 0.12:
baseline and stuck (a writer came and went: the device is left with neither capability, #442).

The host-side pytest asserts on the JSON; this script asserts nothing. Emulation is ~100x slower than
native, so every wait here is generous (seconds to minutes), never a sub-second deadline.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

DEV = "/dev/video10"
STATE = Path("/sys/devices/virtual/video4linux/video10/state")
DEFAULT_ARGS = "devices=1 video_nr=10 card_label=vcamseg exclusive_caps=1"
WRITER = """
import numpy as np, pyvirtualcam
with pyvirtualcam.Camera(640, 480, 30, device="/dev/video10") as cam:
    frame = np.zeros((480, 640, 3), np.uint8)
    while True:
        cam.send(frame)
        cam.sleep_until_next_frame()
"""
AS_USER = (
    "import json; from vcamseg.doctor import DoctorOptions, run_doctor; "
    "print(json.dumps(run_doctor(DoctorOptions(overrides=('source.device=test',))).to_json()))"
)


def doctor(
    *overrides: str, config: Path | None = None, socket: Path | None = None, socket_timeout_s: float = 5.0
) -> dict:
    from vcamseg.doctor import DoctorOptions, run_doctor

    options = DoctorOptions(
        config_file=config,
        overrides=("source.device=test", *overrides),
        socket=socket,
        socket_timeout_s=socket_timeout_s,
    )
    return run_doctor(options).to_json()


def cli(*args: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "vcamseg", "doctor", "--json", "--set", "source.device=test", *args],
        capture_output=True,
        text=True,
        timeout=600,
    )
    try:
        report = json.loads(done.stdout)
    except ValueError:
        report = None
    return {"rc": done.returncode, "report": report, "stderr": done.stderr[-2000:]}


def wait_for(condition, timeout: float, step: float = 1.0) -> float | None:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if condition():
            return time.monotonic() - start
        time.sleep(step)
    return None


def state() -> str | None:
    try:
        return STATE.read_text().strip()
    except OSError:
        return None


def writing() -> bool:
    """A producer holds the device: sysfs `state` (0.13), else the capabilities (0.12 has no `state`:
    with exclusive_caps=1 it announces capture only while a writer is there)."""
    current = state()
    if current is not None:
        return current == "capture"
    from vcamseg.io.v4l2 import device_info

    try:
        info = device_info(DEV)
    except OSError:
        return False
    return info.capture and not info.output


def reload_module(args: str) -> dict:
    subprocess.run(["modprobe", "-r", "v4l2loopback"], capture_output=True, timeout=120)
    done = subprocess.run(["modprobe", "v4l2loopback", *args.split()], capture_output=True, text=True, timeout=120)
    return {"rc": done.returncode, "stderr": done.stderr, "node_s": wait_for(lambda: os.path.exists(DEV), 60)}


def scenario_vivid(results: dict) -> None:
    done = subprocess.run(
        ["modprobe", "vivid", "n_devs=1", "node_types=0x1", "vid_cap_nr=0"], capture_output=True, text=True, timeout=120
    )
    results["vivid_modprobe"] = {"rc": done.returncode, "stderr": done.stderr}
    if done.returncode == 0 and wait_for(lambda: os.path.exists("/dev/video0"), 60) is not None:
        results["vivid"] = doctor("source.device=/dev/video0")
    subprocess.run(["modprobe", "-r", "vivid"], capture_output=True, timeout=120)


def scenario_other_writer(results: dict) -> None:
    writer = subprocess.Popen([sys.executable, "-c", WRITER], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    results["other_writer_pid"] = writer.pid
    results["other_writer_ready_s"] = wait_for(writing, 180)
    results["other_writer"] = doctor()
    writer.send_signal(signal.SIGTERM)
    writer.wait(60)
    results["other_writer_released_s"] = wait_for(lambda: state() == "output", 60)


def scenario_stuck(results: dict) -> None:
    writer = subprocess.Popen([sys.executable, "-c", WRITER], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    results["stuck_writer_ready_s"] = wait_for(writing, 180)
    writer.send_signal(signal.SIGTERM)
    writer.wait(60)
    results["stuck_writer_gone_s"] = wait_for(lambda: not writing(), 60)
    results["stuck"] = doctor()


def scenario_daemon(results: dict, out: Path, config: Path, video: Path) -> None:
    log = out / "daemon.log"
    daemon = subprocess.Popen(
        [sys.executable, "-m", "vcamseg", "run", "--config", str(config), "--source", str(video), "--output", DEV],
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    results["daemon_pid"] = daemon.pid
    results["daemon_publishing_s"] = wait_for(
        lambda: "publishing to virtual camera" in log.read_text(errors="replace") and writing(), 600
    )
    # Under emulation the daemon, busy loading its model, may take many seconds to answer.
    results["daemon"] = doctor(config=config, socket_timeout_s=180)
    # Asked on a socket it does not listen on, the doctor still recognises a vcamseg daemon by its
    # command line: not "another program".
    results["daemon_unreachable"] = doctor(config=config, socket=Path("/tmp/nobody/control.sock"))
    daemon.send_signal(signal.SIGTERM)
    try:
        daemon.wait(120)
    except subprocess.TimeoutExpired:
        daemon.kill()
    results["daemon_log_tail"] = log.read_text(errors="replace")[-1500:]


def as_tester(init_groups: bool) -> dict:
    groups = ["--init-groups"] if init_groups else ["--clear-groups"]
    env = {**os.environ, "HOME": "/home/tester", "XDG_CACHE_HOME": "/tmp/tester-cache"}
    env.pop("XDG_CONFIG_HOME", None)
    done = subprocess.run(
        ["setpriv", "--reuid=tester", "--regid=tester", *groups, sys.executable, "-c", AS_USER],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    try:
        return json.loads(done.stdout)
    except ValueError:
        return {"error": done.stderr[-2000:], "rc": done.returncode}


def scenario_user(results: dict) -> None:
    subprocess.run(["useradd", "-m", "tester"], capture_output=True, timeout=60)
    # What udev does on a desktop (the VM has no udev: devtmpfs makes the node root-only).
    subprocess.run(["chgrp", "video", DEV], check=True, timeout=60)
    os.chmod(DEV, 0o660)
    results["user_not_in_group"] = as_tester(init_groups=False)
    subprocess.run(["usermod", "-aG", "video", "tester"], check=True, timeout=60)
    results["user_group_not_in_session"] = as_tester(init_groups=False)
    results["user_in_group"] = as_tester(init_groups=True)


def scenario_read_only_cache(results: dict) -> None:
    cache = Path("/tmp/rocache")
    cache.mkdir(exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "tmpfs", str(cache)], check=True, timeout=60)
    (cache / "vcamseg" / "models").mkdir(parents=True)
    subprocess.run(["mount", "-o", "remount,ro", str(cache)], check=True, timeout=60)
    saved = {k: os.environ.get(k) for k in ("XDG_CACHE_HOME", "VCAMSEG_MODEL_DIR")}
    os.environ["XDG_CACHE_HOME"] = str(cache)
    try:
        results["ro_cache_local_models"] = doctor()
        os.environ.pop("VCAMSEG_MODEL_DIR", None)
        results["ro_cache_no_models"] = doctor()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        subprocess.run(["umount", str(cache)], timeout=60)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--config", type=Path, required=True)
    ap.add_argument("--video", type=Path, required=True)
    ap.add_argument(
        "--scenarios",
        default="baseline,vivid,other_writer,daemon,user,ro_cache,exclusive_caps_0,no_label,no_module",
        help="comma-separated, run in this order (0.12: baseline,stuck)",
    )
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    results: dict = {}
    steps = [
        ("baseline", lambda: results.update(baseline=doctor(), baseline_cli=cli())),
        ("vivid", lambda: scenario_vivid(results)),
        ("stuck", lambda: scenario_stuck(results)),
        ("other_writer", lambda: scenario_other_writer(results)),
        ("daemon", lambda: scenario_daemon(results, args.out, args.config.resolve(), args.video.resolve())),
        ("user", lambda: scenario_user(results)),
        ("ro_cache", lambda: scenario_read_only_cache(results)),
        (
            "exclusive_caps_0",
            lambda: results.update(
                exclusive_caps_0_reload=reload_module(DEFAULT_ARGS.replace("exclusive_caps=1", "exclusive_caps=0")),
                exclusive_caps_0=doctor(),
            ),
        ),
        (
            "no_label",
            lambda: results.update(
                no_label_reload=reload_module("devices=1 video_nr=10 exclusive_caps=1"), no_label=doctor()
            ),
        ),
        (
            "no_module",
            lambda: results.update(
                no_module_unload=subprocess.run(
                    ["modprobe", "-r", "v4l2loopback"], capture_output=True, text=True, timeout=120
                ).returncode,
                no_module=doctor(),
                no_module_cli=cli(),
            ),
        ),
    ]
    timings = {}
    try:
        wanted = args.scenarios.split(",")
        for name, step in sorted((s for s in steps if s[0] in wanted), key=lambda s: wanted.index(s[0])):
            start = time.monotonic()
            try:
                step()
            except Exception as exc:  # record it and go on: one boot should give every scenario it can
                results[f"{name}_error"] = f"{type(exc).__name__}: {exc}"
            timings[name] = round(time.monotonic() - start, 1)
    finally:
        results["timings_s"] = timings
        (args.out / "results.json").write_text(json.dumps(results, indent=1))
    print(json.dumps({"timings_s": timings, "errors": {k: v for k, v in results.items() if k.endswith("_error")}}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
