"""The daemon in real time: `vcamseg run` with the default config, a 1280x720 30 fps video source
(looped, paced like a webcam) and the null output, for N seconds.

Reports, over the steady state (after --warmup seconds of streaming): delivered fps, frames
dropped and repeated, CPU ms per frame (the whole process: decoding, model, effects, sending),
and per-frame latency p50/p95 (source read -> output written). Targets on a 2-core machine:
30 fps with no drops, <= 17 ms CPU per frame, p95 latency <= 50 ms.

The figures come from the daemon's status (the control socket's JSON, what `vcamseg status --json`
prints), sampled every second, and the process's CPU time from /proc: never from its log text.

python benchmarks/daemon.py [--seconds 60] [--warmup 5] [--video PATH] [--set KEY=VALUE]...
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from daemon_harness import DEFAULT_VIDEO, FPS, HEIGHT, WIDTH, stop, upscale

from vcamseg.service.client import NoDaemon, request

START_TIMEOUT_S = 300.0  # the first start may convert the model (TensorFlow, then TFLite)
TICKS_PER_S = os.sysconf("SC_CLK_TCK")


@dataclass
class Sample:
    t: float  # monotonic
    cpu_s: float  # the daemon's user + system CPU time so far
    pipeline: dict[str, Any]  # status["pipeline"]


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS_PER_S  # utime + stime


def sample(proc: subprocess.Popen, socket: Path) -> Sample | None:
    """The daemon's status now; None while it does not answer yet (or has no pipeline yet)."""
    try:
        status = request(socket, {"cmd": "status"}, timeout_s=30)["status"]
    except NoDaemon:
        return None
    if status["pipeline"] is None:
        return None
    return Sample(time.monotonic(), cpu_seconds(proc.pid), status["pipeline"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60.0, help="steady-state seconds measured (default 60)")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds of streaming not counted (default 5)")
    parser.add_argument("--video", type=Path, default=DEFAULT_VIDEO, help="video upscaled to 1280x720 as the source")
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="config override passed to vcamseg run (repeatable)",
    )
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="vcamseg-bench-") as tmp:
        source = Path(tmp) / "source-1280x720.avi"
        frames = upscale(args.video, source)
        print(f"source: {args.video.name} upscaled to {WIDTH}x{HEIGHT} @ {FPS:g} fps ({frames} frames, looped)")
        socket, log_path = Path(tmp) / "control.sock", Path(tmp) / "daemon.log"
        command = [
            sys.executable,
            "-m",
            "vcamseg",
            "run",
            "--source",
            str(source),
            "--output",
            "null",
            "--set",
            f"service.control_socket_path={socket}",
        ]
        for item in args.overrides:
            command += ["--set", item]
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
        # The log goes to a file: a pipe nobody reads while we sample could block the daemon.
        with log_path.open("w") as log:
            proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log, env=env)
        try:
            samples = measure(proc, socket, args.warmup, args.seconds)
        finally:
            stop(proc)
        inference = None
        for line in log_path.read_text().splitlines():
            if line.startswith(("ERROR", "WARNING", "Traceback", "vcamseg: error")):
                print(line, file=sys.stderr)
            if "inference device:" in line:  # the status has the device; this line adds the model input
                inference = line.split("inference device:", 1)[1].strip()
        if len(samples) < 2:
            print("no stats: the daemon did not stream (see the errors above)", file=sys.stderr)
            return 1
        report(samples, inference)
    return 0


def measure(proc: subprocess.Popen, socket: Path, warmup_s: float, seconds: float) -> list[Sample]:
    """Samples once a second from ``warmup_s`` after the first frame out, for ``seconds``."""
    deadline = time.monotonic() + START_TIMEOUT_S
    streaming_since: float | None = None
    samples: list[Sample] = []
    while proc.poll() is None and time.monotonic() < deadline:
        time.sleep(1.0 if streaming_since is not None else 0.2)
        now = sample(proc, socket)
        if now is None or now.pipeline["frames"]["out"] == 0:
            continue
        streaming_since = streaming_since or now.t
        if now.t - streaming_since < warmup_s:
            continue
        samples.append(now)
        deadline = max(deadline, now.t + seconds + 30)
        if now.t - samples[0].t >= seconds:
            break
    return samples


def report(samples: list[Sample], inference: str | None = None) -> None:
    first, last = samples[0], samples[-1]
    seconds = last.t - first.t
    counts = {
        key: last.pipeline["frames"][key] - first.pipeline["frames"][key] for key in ("out", "dropped", "repeated")
    }
    cpu = (last.cpu_s - first.cpu_s) * 1000.0 / max(1, counts["out"])
    ms = last.pipeline["ms"]
    worst_p95 = max(
        (s.pipeline["ms"]["latency_p95"] for s in samples if s.pipeline["ms"]["latency_p95"] is not None), default=None
    )

    def fmt(value: float | None) -> str:
        return "-" if value is None else f"{value:.1f} ms"

    print(f"inference: {inference or last.pipeline['inference_device']}")
    print(
        f"measured {seconds:.1f} s: {counts['out']} frames, {counts['out'] / seconds:.2f} fps delivered (target 30), "
        f"{counts['dropped']} dropped (target 0), {counts['repeated']} repeated"
    )
    print(
        f"CPU {cpu:.1f} ms/frame (target <= 17); segment {fmt(ms['segment_mean'])}, "
        f"composite {fmt(ms['composite_mean'])}"
    )
    print(
        f"latency p50 {fmt(ms['latency_p50'])}, p95 {fmt(ms['latency_p95'])} over the last 600 frames; worst "
        f"20 s-window p95 {fmt(worst_p95)} (target <= 50 ms)"
    )
    stages = last.pipeline.get("stages_ms")
    if stages:  # the last 10 s; the model's stages once per segmentation, the others per frame
        costs = ", ".join(f"{name} {fmt(v).removesuffix(' ms')}" for name, v in stages.items())
        print(f"stages (ms per call): {costs}")


if __name__ == "__main__":
    sys.exit(main())
