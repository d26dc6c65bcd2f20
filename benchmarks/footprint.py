"""Footprint of `vcamseg run`: time to the first segmented frame, resident memory, and whether
TensorFlow was loaded at all, on a warm model cache (a restart by systemd, every day's start).

Each run starts a fresh daemon on a 1280x720 30 fps MJPG source made from a real video (as
benchmarks/daemon.py) with the null output and the default config. Measured per run:

* start: process launch -> the status (control socket) counts a frame sent after a segmentation;
* RSS: VmRSS after --seconds of streaming, and the peak (VmHWM);
* TensorFlow: whether its shared library is mapped into the process (/proc/PID/maps), and the
  CUDA lines in the log (TensorFlow's GPU probing on a machine without a GPU).

A baseline measured in the same run: ``--baseline DIR`` runs another checkout's vcamseg (e.g. a
worktree of an older commit) the same way, interleaved with this one; the report gives both and
their ratio. A first run of each fills its model cache (until the int8 model is calibrated) and
is not counted.

python benchmarks/footprint.py [--runs 5] [--seconds 20] [--baseline DIR] [--video PATH]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from daemon_harness import DEFAULT_VIDEO, FPS, HEIGHT, WIDTH, daemon_env, stop, upscale

from vcamseg.service.client import NoDaemon, request

REPO = Path(__file__).resolve().parents[1]
START_TIMEOUT_S = 300.0  # a cold cache converts the model first (tens of seconds)


@dataclass
class Run:
    start_s: float
    rss_mb: float
    peak_mb: float
    tensorflow: bool
    cuda_lines: int


def _status(socket: Path) -> dict | None:
    try:
        return request(socket, {"cmd": "status"}, timeout_s=5)["status"]["pipeline"]
    except NoDaemon:
        return None


def _memory_mb(pid: int) -> tuple[float, float]:
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def _tensorflow_mapped(pid: int) -> bool:
    maps = Path(f"/proc/{pid}/maps").read_text()
    return "libtensorflow" in maps or "_pywrap_tensorflow" in maps


def one_run(checkout: Path, source: Path, folder: Path, seconds: float, until_logged: str | None = None) -> Run:
    """One daemon: started, streamed ``seconds`` (or until the log says ``until_logged``), stopped."""
    socket, log_path = folder / "control.sock", folder / "daemon.log"
    command = [sys.executable, "-m", "vcamseg", "run", "--source", str(source), "--output", "null"]
    command += ["--set", f"service.control_socket_path={socket}", "--set", f"model.cache_dir={folder / 'cache'}"]
    env = {**daemon_env(), "PYTHONPATH": str(checkout)}
    env.pop("TF_CPP_MIN_LOG_LEVEL")  # the log as a user sees it: TensorFlow's noise included
    launched = time.monotonic()
    with log_path.open("w") as log:
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log, env=env, cwd=folder)
    try:
        while True:
            status = _status(socket)
            if status is not None and status["frames"]["out"] > 0 and status["frames"]["segmentations"] > 0:
                break
            if proc.poll() is not None or time.monotonic() - launched > START_TIMEOUT_S:
                raise SystemExit(f"{checkout}: the daemon did not stream:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.02)
        start_s = time.monotonic() - launched
        time.sleep(seconds)
        while until_logged and until_logged not in log_path.read_text(errors="replace"):
            if proc.poll() is not None or time.monotonic() - launched > START_TIMEOUT_S:
                raise SystemExit(f"{checkout}: no {until_logged!r} in the log:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.5)
        rss, peak = _memory_mb(proc.pid)
        tensorflow = _tensorflow_mapped(proc.pid)
    finally:
        stop(proc)
    cuda = sum("cuda" in line.lower() or "cuinit" in line.lower() for line in log_path.read_text().splitlines())
    return Run(start_s, rss, peak, tensorflow, cuda)


def summary(name: str, runs: list[Run]) -> dict[str, float]:
    figures = {
        "start_s": statistics.median(r.start_s for r in runs),
        "rss_mb": statistics.median(r.rss_mb for r in runs),
        "peak_mb": statistics.median(r.peak_mb for r in runs),
    }
    tf = sum(r.tensorflow for r in runs)
    cuda = statistics.median(r.cuda_lines for r in runs)
    print(
        f"{name}: {len(runs)} runs, start to the first segmented frame median {figures['start_s']:.2f} s "
        f"(each {', '.join(f'{r.start_s:.2f}' for r in runs)}), RSS median {figures['rss_mb']:.0f} MB "
        f"(peak {figures['peak_mb']:.0f} MB), TensorFlow loaded in {tf} of {len(runs)}, "
        f"CUDA lines in the log {cuda:g}"
    )
    return figures


def machine() -> str:
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = next((ln.split(":", 1)[1].strip() for ln in cpuinfo.splitlines() if ln.startswith("model name")), "?")
    avx512 = "AVX-512" if "avx512f" in cpuinfo else "no AVX-512"
    return f"{model}, {os.cpu_count()} cores, {avx512}; Python {platform.python_version()}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="measured runs of each checkout (default 5)")
    parser.add_argument("--seconds", type=float, default=20.0, help="streaming before RSS is read (default 20)")
    parser.add_argument("--baseline", type=Path, help="another checkout to measure the same way, interleaved")
    parser.add_argument("--video", type=Path, default=DEFAULT_VIDEO, help="video upscaled to 1280x720 as the source")
    args = parser.parse_args(argv)

    print(f"machine: {machine()}")
    checkouts = {"this checkout": REPO}
    if args.baseline:
        checkouts["baseline"] = args.baseline.resolve()
    with tempfile.TemporaryDirectory(prefix="vcamseg-footprint-") as tmp:
        source = Path(tmp) / "source-1280x720.avi"
        frames = upscale(args.video, source)
        print(f"source: {args.video.name} upscaled to {WIDTH}x{HEIGHT} @ {FPS:g} fps ({frames} frames, looped)")
        folders = {name: Path(tmp) / name.replace(" ", "-") for name in checkouts}
        for folder in folders.values():
            folder.mkdir()
        runs: dict[str, list[Run]] = {name: [] for name in checkouts}
        for name, checkout in checkouts.items():  # fill the caches: conversion, int8 calibration
            one_run(checkout, source, folders[name], 1.0, until_logged="int8 model calibrated")
        for _ in range(args.runs):
            for name, checkout in checkouts.items():
                runs[name].append(one_run(checkout, source, folders[name], args.seconds))
        results = {name: summary(name, rs) for name, rs in runs.items()}
    if "baseline" in results:
        new, old = results["this checkout"], results["baseline"]
        print(
            "ratio this/baseline: "
            + ", ".join(f"{key.removesuffix('_s').removesuffix('_mb')} {new[key] / old[key]:.2f}" for key in new)
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
