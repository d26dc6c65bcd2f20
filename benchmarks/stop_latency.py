"""Stop latency: how long `vcamseg run` takes to be gone after SIGTERM. The promise (systemd's unit
and vcamseg/service/daemon.py): within a second, the camera and the virtual camera released and
files finished. The tests only check that it stops, exit code 0, with a wide margin
(tests/speed.py); this measures the promise, natively, on the machine it runs on.

Two cases, each over several runs (a fresh daemon each):

* streaming: `vcamseg run` with the default config, a real video upscaled to 1280x720 at 30 fps as
  its source (MJPG, looped, paced like a webcam; as benchmarks/daemon.py) and the null output;
  SIGTERM once frames flow (its status, over the control socket, counts frames sent) and
  --streaming seconds more;
* first model loading: the same with an empty model cache, SIGTERM as soon as the log says the
  model is being converted to TFLite (TensorFlow imported, no frame yet): the stop must not wait
  for the load.

Stop time: SIGTERM sent -> the process gone (waitpid). Reported per case: median, max and min, the
exit codes, and the CPU the rest of the machine used meanwhile (a busy machine stops later).

python benchmarks/stop_latency.py [--runs 10] [--loading-runs 5] [--streaming 3] [--video PATH]
                                  [--set KEY=VALUE]...
"""

from __future__ import annotations

import argparse
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from daemon_harness import DEFAULT_VIDEO, FPS, HEIGHT, WIDTH, CpuMeter, daemon_env, upscale

from vcamseg.service.client import NoDaemon, request

START_TIMEOUT_S = 300.0  # the first start converts the model (TensorFlow, then TFLite): tens of seconds
STOP_TIMEOUT_S = 10.0  # systemd's TimeoutStopSec: after this the run counts as hung (killed)
LOADING = "to TFLite"  # "converting model-stride16.json to TFLite (once; cached in ...)"

Trigger = Callable[[Path], bool]  # given the log file: has the moment to send SIGTERM come?


def streaming(socket: Path) -> Trigger:
    """Frames flow: the daemon's status (what `vcamseg status --json` prints) counts frames sent."""

    def check(_log: Path) -> bool:
        try:
            pipeline = request(socket, {"cmd": "status"}, timeout_s=5)["status"]["pipeline"]
        except NoDaemon:
            return False  # not listening yet
        return pipeline is not None and pipeline["frames"]["out"] > 0

    return check


def logged(text: str) -> Trigger:
    """An event the log announces (the model conversion starting: no status has it)."""
    return lambda log: text in log.read_text(errors="replace")


@dataclass
class Run:
    seconds: float | None  # None: still running STOP_TIMEOUT_S after SIGTERM (killed)
    exit_code: int | None
    other_cpu_pct: float  # CPU of every other process, % of the machine, from start to SIGTERM
    stopped_before_model: bool  # no "inference device:" line: the model never finished loading


def one_run(
    command: list[str], log_path: Path, trigger: Trigger, what: str, streaming_s: float, poll_s: float = 0.1
) -> Run:
    """Start the daemon, wait for ``trigger`` (``what``: for the errors) and ``streaming_s`` more, SIGTERM it and
    time its exit. The log goes to a file, polled: a pipe left unread while waiting for the exit
    could block the daemon's last log lines and lengthen its stop."""
    with log_path.open("w") as log:
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log, env=daemon_env())
    cpu = CpuMeter(proc.pid)
    deadline = time.monotonic() + START_TIMEOUT_S
    try:
        while not trigger(log_path):
            if proc.poll() is not None:
                raise SystemExit(
                    f"the daemon exited ({proc.returncode}) before {what}:\n{log_path.read_text()[-3000:]}"
                )
            if time.monotonic() > deadline:
                raise SystemExit(f"not {what} within {START_TIMEOUT_S:g} s:\n{log_path.read_text()[-3000:]}")
            time.sleep(poll_s)
        time.sleep(streaming_s)
        other = cpu.percent()[1]
        sent = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        try:
            code: int | None = proc.wait(STOP_TIMEOUT_S)
            seconds: float | None = time.monotonic() - sent
        except subprocess.TimeoutExpired:
            code = seconds = None
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return Run(seconds, code, other, "inference device:" not in log_path.read_text(errors="replace"))


def report(case: str, runs: list[Run]) -> None:
    times = [r.seconds for r in runs if r.seconds is not None]
    hung = len(runs) - len(times)
    codes = sorted({r.exit_code for r in runs}, key=str)
    other = statistics.mean(r.other_cpu_pct for r in runs)
    if times:
        print(
            f"{case}: {len(runs)} runs, stop median {statistics.median(times):.3f} s, max {max(times):.3f} s, "
            f"min {min(times):.3f} s (promise: 1 s); exit codes {codes}; {hung} hung; other processes "
            f"{other:.0f} % of the machine meanwhile"
        )
    else:
        print(f"{case}: {len(runs)} runs, every one still running {STOP_TIMEOUT_S:g} s after SIGTERM")
    print(f"  each: {', '.join('hung' if s is None else f'{s:.3f}' for s in (r.seconds for r in runs))} s")


def machine() -> str:
    """The CPU, its cores and whether it has AVX-512: the figures are this machine's."""
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = next(
        (line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name")),
        platform.processor() or "?",
    )
    return (
        f"{model}, {os.cpu_count()} cores, {'AVX-512' if 'avx512f' in cpuinfo else 'no AVX-512'}; "
        f"Python {platform.python_version()}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10, help="runs while streaming (default 10)")
    parser.add_argument(
        "--loading-runs", type=int, default=5, help="runs while the first model loads (default 5; 0: skip)"
    )
    parser.add_argument(
        "--streaming",
        type=float,
        default=3.0,
        help="seconds of streaming before SIGTERM, after the first frames (default 3)",
    )
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

    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory(prefix="vcamseg-stop-") as tmp:
        folder = Path(tmp)
        source = folder / "source-1280x720.avi"
        frames = upscale(args.video, source)
        print(
            f"source: {args.video.name} upscaled to {WIDTH}x{HEIGHT} @ {FPS:g} fps ({frames} frames, looped), "
            f"null output"
        )

        def command(cache: Path) -> list[str]:
            # Its own cache (not the user's), and a control socket of its own: a daemon already
            # running on this machine must not turn the runs into "another daemon is running".
            overrides = [
                f"model.cache_dir={cache}",
                f"service.control_socket_path={folder / 'control.sock'}",
                "pipeline.stats_interval_s=1",
                *args.overrides,
            ]
            return [
                sys.executable,
                "-m",
                "vcamseg",
                "run",
                "--source",
                str(source),
                "--output",
                "null",
                *[arg for item in overrides for arg in ("--set", item)],
            ]

        # The first streaming run fills the cache (conversion); the others start warm, as a
        # daemon does every day. Only the stop is timed, so that first start costs nothing here.
        streaming = [
            one_run(
                command(folder / "cache"),
                folder / f"streaming-{i}.log",
                streaming(folder / "control.sock"),
                "frames flowed",
                args.streaming,
            )
            for i in range(args.runs)
        ]
        first_log = (folder / "streaming-0.log").read_text(errors="replace").splitlines()
        inference = next((ln.split("inference device: ", 1)[1] for ln in first_log if "inference device: " in ln), "?")
        print(f"inference: {inference}")
        report(f"streaming (SIGTERM {args.streaming:g} s after the first frames)", streaming)
        if args.loading_runs > 0:
            loading = [
                one_run(
                    command(folder / f"cold-{i}"),
                    folder / f"loading-{i}.log",
                    logged(LOADING),
                    "the model conversion started",
                    0.0,
                    poll_s=0.01,  # catch the conversion while it runs
                )
                for i in range(args.loading_runs)
            ]
            report("first model loading (SIGTERM during the TFLite conversion)", loading)
            early = sum(r.stopped_before_model for r in loading)
            print(f"  stopped before the model was ready: {early} of {len(loading)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
