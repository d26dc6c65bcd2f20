#!/usr/bin/env python3
"""Runs INSIDE the v4l2vm, as root (see tests/vcam/test_systemd_service.py): vcamseg as a systemd
user service under a real user manager, as a user would run it.

The VM's PID 1 is the v4l2vm's init script, not systemd, so this sets up what a login session
would have: cgroup2 with a delegated ``user@1000.service`` subtree, ``/run/user/1000``, a
systemd-journald, and ``systemd --user`` for the user ``tester`` (group video) in that subtree.
Then, as ``tester``: ``vcamseg service install``, ``systemctl --user enable --now vcamseg``, and
what the unit promises: READY, the camera read by ffmpeg, a config-file edit and ``systemctl
--user reload`` applied, an invalid edit kept out, a hung daemon (SIGSTOP) killed and restarted by
the watchdog, a crash (SIGSEGV) restarted, the log in ``journalctl --user -u vcamseg`` with its
priorities, the hardening in force, a clean stop.

Writes ``OUT/results.json`` (measurements and excerpts) and the journal; asserts nothing itself.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
import traceback
from pathlib import Path

import numpy as np

from tests.vcam.guest_checks import read_ffmpeg

UID = 1000
USER = "tester"
HOME = Path("/home") / USER
RUNTIME = Path(f"/run/user/{UID}")
CGROUP = Path("/sys/fs/cgroup")
USER_CGROUP = CGROUP / "user.slice" / f"user-{UID}.slice" / f"user@{UID}.service"
UNIT = "vcamseg.service"
WAIT_S = 900  # a start under emulation: TensorFlow's import and the model conversion take minutes
GREEN, RED = (0, 255, 0), (0, 0, 255)  # BGR of the replace colour before and after the edit


def config_text(video: Path, models: Path, color_rgb: tuple[int, int, int]) -> str:
    """The VM's light config (tests/vcam/light.yaml) with the source and models spelled out: the
    service gets none of the test's environment."""
    return (
        f"model: {{dir: {models}}}\n"
        "segmentation: {internal_resolution: auto, auto_size_px: 161}\n"
        f"effects: [{{type: replace, color: [{color_rgb[0]}, {color_rgb[1]}, {color_rgb[2]}]}}]\n"
        "mask: {temporal_smoothing: 0.0}\n"
        f"source: {{device: {video}, width: 320, height: 240, fps: 10}}\n"
        "output: {width: 320, height: 240, fps: 10}\n"
        "pipeline: {segment_every_n_frames: 1}\n"
    )


T0 = time.monotonic()


def note(text: str) -> None:
    """Progress on the VM's output (run.sh shows it; it is in the control folder while it runs)."""
    print(f"[{time.monotonic() - T0:7.1f}s] {text}", flush=True)


def sh(*cmd: str, timeout: float = 120, check: bool = False) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(cmd), capture_output=True, text=True, timeout=timeout, check=check)


USER_ENV = {
    "HOME": str(HOME),
    "USER": USER,
    "LOGNAME": USER,
    "XDG_RUNTIME_DIR": str(RUNTIME),
    "PATH": "/opt/venv/bin:/usr/local/bin:/usr/bin:/bin",
    "LANG": "C.UTF-8",
}
AS_USER = ["setpriv", f"--reuid={UID}", f"--regid={UID}", "--init-groups", "env", "-i"]
AS_USER += [f"{k}={v}" for k, v in USER_ENV.items()]


def user(*cmd: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return sh(*AS_USER, *cmd, timeout=timeout)


def show(*props: str) -> dict[str, str]:
    out = user("systemctl", "--user", "show", UNIT, *(f"--property={p}" for p in props)).stdout
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def journal(*args: str) -> list[dict]:
    out = user("journalctl", "--user", "-u", "vcamseg", "-o", "json", "--no-pager", *args, timeout=300).stdout
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def messages() -> list[str]:
    return [str(e.get("MESSAGE", "")) for e in journal()]


def wait_for(condition, timeout: float, step: float = 0.5) -> float | None:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if condition():
            return round(time.monotonic() - start, 1)
        time.sleep(step)
    return None


def active_pid() -> int:
    """The service's main PID once it is active (READY sent), else 0."""
    state = show("ActiveState", "SubState", "MainPID")
    return int(state["MainPID"]) if state.get("ActiveState") == "active" else 0


def logged(pattern: str, after: int = 0) -> bool:
    return any(re.search(pattern, m) for m in messages()[after:])


def border_colour(frames: list[np.ndarray], colour: tuple[int, int, int]) -> int:
    """How many frames have the replace colour in their top corners (the background)."""
    want = np.array(colour, np.float32)
    count = 0
    for f in frames:
        corners = np.concatenate([f[:20, :20].reshape(-1, 3), f[:20, -20:].reshape(-1, 3)]).astype(np.float32)
        count += float(np.abs(corners.mean(axis=0) - want).max()) <= 12
    return count


# --- the session a login would set up ---------------------------------------------------------


def start_session(results: dict) -> subprocess.Popen:
    t0 = time.monotonic()
    sh("useradd", "-m", "-u", str(UID), "-G", "video", USER, check=True)
    # What udev's rule (SUBSYSTEM=="video4linux", GROUP="video") does on a booted system; the VM has no udev.
    sh("chgrp", "video", "/dev/video10", check=True)
    Path("/dev/video10").chmod(0o660)
    if not (CGROUP / "cgroup.controllers").exists():
        sh("mount", "-t", "cgroup2", "cgroup2", str(CGROUP), check=True)
    USER_CGROUP.mkdir(parents=True, exist_ok=True)
    for parent in (CGROUP, USER_CGROUP.parent.parent, USER_CGROUP.parent):
        for controller in ("+cpu", "+memory", "+pids"):  # what user@.service gets (best effort)
            sh("sh", "-c", f"echo {controller} > {parent}/cgroup.subtree_control")
    sh("chown", "-R", f"{UID}:{UID}", str(USER_CGROUP), check=True)  # Delegate=yes
    RUNTIME.mkdir(parents=True, exist_ok=True)
    os.chown(RUNTIME, UID, UID)
    RUNTIME.chmod(0o700)
    sh("systemd-machine-id-setup", check=True)
    # What sd_booted() looks for: `systemd --user` refuses to start on a system not booted with systemd.
    Path("/run/systemd/system").mkdir(parents=True, exist_ok=True)
    Path("/var/log/journal").mkdir(parents=True, exist_ok=True)  # persistent: one journal file per user
    sh("systemd-tmpfiles", "--create", "--prefix", "/var/log/journal")
    journald = subprocess.Popen(["/lib/systemd/systemd-journald"], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    results["journald_up_s"] = wait_for(lambda: Path("/run/systemd/journal/stdout").exists(), 120)
    sh("journalctl", "--flush")  # from /run to /var/log/journal, split per user (what journal-flush does)
    results["journald_pid"] = journald.pid
    # The user manager, in its delegated cgroup, as user@1000.service would start it.
    manager = subprocess.Popen(
        [
            "sh",
            "-c",
            f"echo $$ > {USER_CGROUP}/cgroup.procs && exec " + " ".join(AS_USER) + " /lib/systemd/systemd --user",
        ],
        stdout=open("/tmp/user-manager.log", "w"),  # noqa: SIM115 - lives as long as the manager
        stderr=subprocess.STDOUT,
    )

    def manager_up() -> bool:
        state = user("systemctl", "--user", "is-system-running")
        note(f"user manager: {state.stdout.strip()} {state.stderr.strip()[-200:]} (alive: {manager.poll() is None})")
        return state.stdout.strip() in ("running", "degraded") or manager.poll() is not None

    results["manager_up_s"] = wait_for(manager_up, WAIT_S, 2)
    results["manager_state"] = user("systemctl", "--user", "is-system-running").stdout.strip()
    note(Path("/tmp/user-manager.log").read_text(errors="replace")[-1500:])
    if results["manager_state"] not in ("running", "degraded"):
        raise RuntimeError(f"the user manager is {results['manager_state']}")
    results["manager_version"] = sh("systemctl", "--version").stdout.splitlines()[0]
    results["session_s"] = round(time.monotonic() - t0, 1)
    return manager


# --- the scenarios ---------------------------------------------------------------------------


def install_and_start(results: dict, video: Path, models: Path) -> None:
    config = HOME / ".config" / "vcamseg" / "config.yaml"
    user("mkdir", "-p", str(config.parent))
    subprocess.run([*AS_USER, "sh", "-c", f"cat > {config}"], input=config_text(video, models, (0, 255, 0)), text=True)
    done = user(sys.executable, "-m", "vcamseg", "service", "install", timeout=WAIT_S)
    unit = HOME / ".config" / "systemd" / "user" / UNIT
    results["install"] = {"rc": done.returncode, "out": done.stdout[-2000:] + done.stderr[-2000:]}
    results["unit_exec_start"] = next(
        (line for line in unit.read_text().splitlines() if line.startswith("ExecStart=")), None
    )
    user("systemctl", "--user", "daemon-reload")
    t0 = time.monotonic()
    start = user("systemctl", "--user", "enable", "--now", "vcamseg", timeout=WAIT_S)
    results["enable_now"] = {"rc": start.returncode, "s": round(time.monotonic() - t0, 1), "err": start.stderr[-2000:]}
    if start.returncode != 0:
        status = user("systemctl", "--user", "status", "--no-pager", "-l", "vcamseg")
        results["failed_start"] = {"status": status.stdout[-3000:], "journal": messages()[-30:]}
        note(json.dumps(results["failed_start"], indent=1))
        raise RuntimeError("systemctl --user enable --now vcamseg failed")
    results["ready_s"] = wait_for(lambda: active_pid() > 0, WAIT_S, 1)
    results["enabled"] = user("systemctl", "--user", "is-enabled", "vcamseg").stdout.strip()
    results["first_pid"] = active_pid()
    results["status_text"] = show("StatusText")["StatusText"]


def read_camera(results: dict) -> None:
    t0 = time.monotonic()
    frames, _, _ = read_ffmpeg(40, after_effect=20, timeout=WAIT_S)
    results["ffmpeg"] = {
        "frames": len(frames),
        "shape": list(frames[0].shape) if frames else None,
        "green_frames": border_colour(frames, GREEN),
        "s": round(time.monotonic() - t0, 1),
    }


def edit_and_reload(results: dict, video: Path, models: Path) -> None:
    config = HOME / ".config" / "vcamseg" / "config.yaml"
    pid = active_pid()
    before = len(messages())
    # A config-file edit (the file watcher applies it): the background turns red.
    subprocess.run([*AS_USER, "sh", "-c", f"cat > {config}"], input=config_text(video, models, (255, 0, 0)), text=True)
    results["edit_logged_s"] = wait_for(lambda: logged(r"config reloaded \(file\)", before), WAIT_S, 1)
    frames, _, _ = read_ffmpeg(100, timeout=WAIT_S)
    results["edit"] = {"red_frames": border_colour(frames, RED), "frames": len(frames), "same_pid": active_pid() == pid}
    # systemctl --user reload: SIGHUP, the file read again.
    before = len(messages())
    t0 = time.monotonic()
    done = user("systemctl", "--user", "reload", "vcamseg", timeout=WAIT_S)
    results["reload"] = {"rc": done.returncode, "s": round(time.monotonic() - t0, 1), "err": done.stderr[-1000:]}
    results["reload_logged_s"] = wait_for(lambda: logged(r"SIGHUP: reloading", before), WAIT_S, 1)
    results["reload"]["same_pid"] = active_pid() == pid
    # An invalid edit: logged as an error, the running configuration stays.
    before = len(messages())
    subprocess.run([*AS_USER, "sh", "-c", f"echo 'effects: [{{type: nope}}]' > {config}"], text=True)
    results["invalid_logged_s"] = wait_for(lambda: logged(r"config not applied", before), WAIT_S, 1)
    results["invalid_same_pid"] = active_pid() == pid
    subprocess.run([*AS_USER, "sh", "-c", f"cat > {config}"], input=config_text(video, models, (255, 0, 0)), text=True)


def hang(results: dict) -> None:
    pid = active_pid()
    restarts = int(show("NRestarts")["NRestarts"])
    results["restarts_before_hang"] = restarts  # 0 unless something restarted it during the model load
    t0 = time.monotonic()
    os.kill(pid, 19)  # SIGSTOP: the process is there, its watchdog pings are not
    seen = _restart_record(pid)
    results["watchdog"] = {
        "watchdog": show("WatchdogUSec")["WatchdogUSec"],  # systemctl prints it as "30s"
        "active_again_after_s": None if seen["back"] is None else round(time.monotonic() - t0, 1),
        **seen,
        "old_pid": pid,
        "restarts": int(show("NRestarts")["NRestarts"]) - restarts,
    }


def _restart_record(pid: int) -> dict:
    """Wait until a new main process is active, collecting what systemd said about the old one on
    the way (Result, how it ended) and when it disappeared."""
    results, ends, killed = set(), set(), None
    start = time.monotonic()
    back = None
    while time.monotonic() - start < WAIT_S:
        state = show("ActiveState", "Result", "ExecMainCode", "ExecMainStatus", "MainPID")
        results.add(state.get("Result"))
        if state.get("MainPID") != str(pid):
            ends.add(f"{state.get('ExecMainCode')}/{state.get('ExecMainStatus')}")
        if killed is None and (not Path(f"/proc/{pid}").exists() or _zombie(pid)):
            killed = round(time.monotonic() - start, 1)
        if state.get("ActiveState") == "active" and state.get("MainPID") not in ("0", str(pid)):
            back = round(time.monotonic() - start, 1)
            break
        time.sleep(0.5)
    return {
        "results_seen": sorted(r for r in results if r),
        "ends_seen": sorted(ends),
        "killed_after_s": killed,
        "back": back,
        "new_pid": active_pid(),
    }


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1].startswith("Z")
    except OSError:
        return True


def crash(results: dict) -> None:
    pid = active_pid()
    restarts = int(show("NRestarts")["NRestarts"])
    t0 = time.monotonic()
    os.kill(pid, 11)  # SIGSEGV: a crash
    seen = _restart_record(pid)
    results["crash"] = {
        "active_again_after_s": None if seen["back"] is None else round(time.monotonic() - t0, 1),
        **seen,
        "old_pid": pid,
        "restarts": int(show("NRestarts")["NRestarts"]) - restarts,
    }


def hardening(results: dict) -> None:
    pid = active_pid()
    status = Path(f"/proc/{pid}/status").read_text()
    mounts: dict[str, str] = {}
    lines = Path(f"/proc/{pid}/mountinfo").read_text().splitlines()
    for line in lines:
        fields = line.split()
        mounts[fields[4]] = fields[5].split(",")[0]  # mount point -> rw/ro (the last, topmost, wins)
    watched = ("/", "/usr", "/home", "/tmp", str(HOME), str(HOME / ".config" / "vcamseg"))
    results["mountinfo"] = [line for line in lines if line.split()[4] in watched]
    results["hardening"] = {
        "no_new_privs": "NoNewPrivs:\t1" in status,
        "root": mounts.get("/"),
        "usr": mounts.get("/usr", mounts.get("/")),
        "home": mounts.get("/home"),
        "config_dir": mounts.get(str(HOME / ".config" / "vcamseg")),
        "tmp_private": mounts.get("/tmp") is not None,
        "socket": (RUNTIME / "vcamseg").is_dir(),
    }
    status_cli = user(sys.executable, "-m", "vcamseg", "status", timeout=WAIT_S)
    results["vcamseg_status"] = {"rc": status_cli.returncode, "out": status_cli.stdout[-1500:]}


def log_priorities(results: dict, out: Path) -> None:
    entries = journal()
    (out / "journal.json").write_text("\n".join(json.dumps(e) for e in entries))
    daemon = [e for e in entries if e.get("_COMM") != "systemd" and e.get("SYSLOG_IDENTIFIER") != "systemd"]
    results["journal"] = {
        "entries": len(entries),
        "daemon_entries": len(daemon),
        "priorities": sorted({str(e.get("PRIORITY")) for e in daemon}),
        "prefixed": [e["MESSAGE"] for e in daemon if str(e.get("MESSAGE", "")).startswith("<")][:3],
        "user_unit": sorted({str(e.get("_SYSTEMD_USER_UNIT")) for e in daemon}),
        "examples": {
            p: next((e["MESSAGE"] for e in daemon if str(e.get("PRIORITY")) == p), None) for p in ("3", "4", "6")
        },
    }
    everything = user("journalctl", "--user", "--no-pager", "-o", "cat").stdout.splitlines()
    results["journal"]["manager_lines"] = [m for m in everything if "vcamseg.service" in m][-12:]
    text = user("journalctl", "--user", "-u", "vcamseg", "--no-pager", "-p", "err").stdout
    results["journal"]["errors_only"] = text.splitlines()[-5:]


def stop(results: dict) -> None:
    t0 = time.monotonic()
    done = user("systemctl", "--user", "stop", "vcamseg", timeout=WAIT_S)
    state = show("ActiveState", "Result", "ExecMainStatus")
    results["stop"] = {"rc": done.returncode, "s": round(time.monotonic() - t0, 1), **state}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--video", type=Path, required=True)
    ap.add_argument("--models", type=Path, required=True)
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    # vcamseg importable by any process, as an installed package is (the checkout's .pth).
    site = Path(np.__file__).parents[1]
    (site / "vcamseg-checkout.pth").write_text(str(Path(__file__).resolve().parents[2]) + "\n")
    results: dict = {"timings_s": {}}
    start = time.monotonic()
    steps = [
        ("session", lambda: start_session(results)),
        ("install_and_start", lambda: install_and_start(results, args.video.resolve(), args.models.resolve())),
        ("read_camera", lambda: read_camera(results)),
        ("edit_and_reload", lambda: edit_and_reload(results, args.video.resolve(), args.models.resolve())),
        ("hardening", lambda: hardening(results)),
        ("hang", lambda: hang(results)),
        ("crash", lambda: crash(results)),
        ("log_priorities", lambda: log_priorities(results, args.out)),
        ("stop", lambda: stop(results)),
    ]
    for name, step in steps:
        t0 = time.monotonic()
        note(name)
        try:
            step()
        except Exception:
            results[f"{name}_error"] = traceback.format_exc()[-3000:]
            note(results[f"{name}_error"])
            if name in ("session", "install_and_start"):
                break
        finally:
            results["timings_s"][name] = round(time.monotonic() - t0, 1)
            note(json.dumps(results, default=str)[-1500:])
            (args.out / "results.json").write_text(json.dumps(results, indent=1, default=str))
    results["timings_s"]["total"] = round(time.monotonic() - start, 1)
    results["manager_log_tail"] = Path("/tmp/user-manager.log").read_text(errors="replace")[-3000:]
    results["service_log_tail"] = messages()[-40:]
    (args.out / "results.json").write_text(json.dumps(results, indent=1, default=str))
    print(json.dumps(results["timings_s"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
