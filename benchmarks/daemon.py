"""The daemon in real time: `vcamseg run` with the default config, a 1280x720 30 fps video source
(looped, paced like a webcam) and the null output, for N seconds.

Reports, over the steady state (after --warmup seconds of streaming): delivered fps, frames
dropped and repeated, CPU ms per frame (the whole process: decoding, model, effects, sending),
and per-frame latency p50/p95 (source read -> output written). Targets on a 2-core machine:
30 fps with no drops, <= 17 ms CPU per frame, p95 latency <= 50 ms.

python benchmarks/daemon.py [--seconds 60] [--warmup 5] [--video PATH] [--set KEY=VALUE]...
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from daemon_harness import DEFAULT_VIDEO, FPS, HEIGHT, WIDTH, stop, upscale

STATS = re.compile(
    r"stats: (?P<frames>\d+) frames in (?P<seconds>[0-9.]+) s \([0-9.]+ fps\), (?P<dropped>\d+) dropped, "
    r"(?P<repeated>\d+) repeated, CPU (?P<cpu>[0-9.]+|-) ms/frame; segment (?P<segment>[0-9.]+|-) ms .*?"
    r"composite (?P<composite>[0-9.]+|-) ms, latency p50 (?P<p50>[0-9.]+|-) / p95 (?P<p95>[0-9.]+|-) ms")


@dataclass
class Interval:
    frames: int
    seconds: float
    dropped: int
    repeated: int
    cpu_ms: float | None
    segment_ms: float | None
    composite_ms: float | None
    p50: float | None
    p95: float | None


def _number(text: str) -> float | None:
    return None if text == "-" else float(text)


def parse(line: str) -> Interval | None:
    match = STATS.search(line)
    if not match:
        return None
    g = match.groupdict()
    return Interval(int(g["frames"]), float(g["seconds"]), int(g["dropped"]), int(g["repeated"]), _number(g["cpu"]),
                    _number(g["segment"]), _number(g["composite"]), _number(g["p50"]), _number(g["p95"]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60.0, help="steady-state seconds measured (default 60)")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds of streaming not counted (default 5)")
    parser.add_argument("--video", type=Path, default=DEFAULT_VIDEO, help="video upscaled to 1280x720 as the source")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="config override passed to vcamseg run (repeatable)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="vcamseg-bench-") as tmp:
        source = Path(tmp) / "source-1280x720.avi"
        frames = upscale(args.video, source)
        print(f"source: {args.video.name} upscaled to {WIDTH}x{HEIGHT} @ {FPS:g} fps ({frames} frames, looped)")
        command = [sys.executable, "-m", "vcamseg", "run", "--source", str(source), "--output", "null",
                   "--set", "pipeline.stats_interval_s=1"]
        for item in args.overrides:
            command += ["--set", item]
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
        proc = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, env=env)
        assert proc.stderr is not None
        measured: list[Interval] = []
        streaming_since: float | None = None
        inference = "?"
        try:
            for line in proc.stderr:
                if "inference device:" in line:
                    inference = line.split("inference device:", 1)[1].strip()
                if line.startswith(("ERROR", "WARNING", "Traceback", "vcamseg: error")):
                    print(line.rstrip(), file=sys.stderr)
                interval = parse(line)
                if interval is None or interval.frames == 0:
                    continue
                now = time.monotonic()
                streaming_since = streaming_since or now
                if now - streaming_since < args.warmup:
                    continue
                measured.append(interval)
                if sum(i.seconds for i in measured) >= args.seconds:
                    break
        finally:
            stop(proc)
        if not measured:
            print("no stats: the daemon did not stream (see the errors above)", file=sys.stderr)
            return 1
        report(measured, inference)
    return 0


def report(measured: list[Interval], inference: str) -> None:
    frames = sum(i.frames for i in measured)
    seconds = sum(i.seconds for i in measured)
    dropped = sum(i.dropped for i in measured)
    repeated = sum(i.repeated for i in measured)
    cpu = sum((i.cpu_ms or 0.0) * i.frames for i in measured) / max(1, frames)
    last = measured[-1]
    worst_p95 = max((i.p95 for i in measured if i.p95 is not None), default=None)

    def ms(value: float | None) -> str:
        return "-" if value is None else f"{value:.1f} ms"

    print(f"inference: {inference}")
    print(f"measured {seconds:.1f} s: {frames} frames, {frames / seconds:.2f} fps delivered (target 30), "
          f"{dropped} dropped (target 0), {repeated} repeated")
    print(f"CPU {cpu:.1f} ms/frame (target <= 17); segment {ms(last.segment_ms)}, composite {ms(last.composite_ms)}")
    print(f"latency p50 {ms(last.p50)}, p95 {ms(last.p95)} over the last 600 frames; worst 20 s-window p95 "
          f"{ms(worst_p95)} (target <= 50 ms)")


if __name__ == "__main__":
    sys.exit(main())
