"""Soak: the daemon for a long time at 1280x720 30 fps, changing its effect now and then, watching
memory, frame rate and drops. A camera daemon runs for weeks: memory must not creep up, and it must
not start dropping frames after a while.

`vcamseg run` gets a real video upscaled to 1280x720 at 30 fps (MJPG, looped, paced like a webcam)
and the null output. Every --effect-every seconds the effect changes, alternately through the
control socket (`vcamseg set`) and by rewriting the config file (live reload), cycling through
blur, colour, picture and video backgrounds, pixelation, body-part colours and face blur. Every
--sample-every seconds it records the process's RSS (VmRSS), threads and open files (/proc), and
frames sent, dropped and repeated (the control socket) into samples.csv; summary.json and the
printout give:

* memory: RSS after warm-up vs at the end, as growth % (goal < 5 %);
* frame rate: min / median per sample interval after warm-up (goal 30), and the rate the source
  delivered frames at;
* keeping pace: the share of the frames the source delivered that were sent (goal: all);
* drops after warm-up: how many, as a fraction of frames sent, and the longest run of consecutive
  sample intervals with drops (goal: none beyond the first seconds).

Warm-up is the model load plus two full passes through the effects (--warmup-passes): each
effect allocates its buffers (a video background also its decoder thread and FFmpeg's frame pools)
when it is built, and glibc's per-thread malloc arenas only reach the pipeline's working set once
every effect has been built twice. Measured at 720p: RSS rises by 2-4 % during the second pass,
then by under 1 % per pass, and levels off (30 minutes: +0.8 % after warm-up); with
MALLOC_ARENA_MAX=1 the second pass adds nothing, so that is allocator placement, not a leak. What
keeps growing after that would be. RSS is compared at the same point of the effect cycle (the
start of a pass), so that effects with different working sets do not read as growth.

The machine's other work is recorded too (CPU used by other processes, from /proc/stat): drops
on a 2-core machine that something else keeps busy say little about the daemon.

python benchmarks/soak.py [--minutes 30] [--effect-every 60] [--sample-every 5] [--warmup-passes 2]
                          [--out DIR] [--set KEY=VALUE]...
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml
from daemon_harness import DEFAULT_VIDEO, FPS, HEIGHT, SHARED, WIDTH, CpuMeter, daemon_env, stop, upscale

from vcamseg.service.client import NoDaemon, request

DATA = SHARED / "data"
START_TIMEOUT_S = 300.0

# The cycle of effects: what a user switches between in a day of calls.
EFFECTS: list[tuple[str, list[dict[str, Any]]]] = [
    ("blur", [{"type": "blur", "background_blur": 15}]),
    ("replace colour", [{"type": "replace", "color": "chroma_green"}]),
    ("replace picture", [{"type": "replace", "image": str(DATA / "images" / "cihp_multiperson" / "0000026.jpg")}]),
    ("pixelate", [{"type": "pixelate", "cell_size": 12}]),
    ("replace video", [{"type": "replace", "video": str(DATA / "videos" / "intel_headpose_female.mp4")}]),
    ("parts", [{"type": "parts", "palette": "rainbow", "opacity": 0.7}]),
    ("blur faces + mirror", [{"type": "blur_parts", "parts": ["left_face", "right_face"]}, {"type": "mirror"}]),
]


@dataclass
class Sample:
    t_s: float  # since the first frame was sent
    effect: str
    rss_mb: float
    threads: int
    fds: int
    frames_in: int  # what the source delivered
    frames_out: int
    dropped: int
    repeated: int
    placeholder: int
    fps_now: float
    latency_p95_ms: float | None
    cpu_ms_per_frame: float | None
    daemon_cpu_pct: float  # of the whole machine, since the previous sample
    other_cpu_pct: float  # the same for every other process


def proc_status(pid: int) -> dict[str, str]:
    lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    return {key: value.strip() for key, _, value in (line.partition(":") for line in lines)}


def take_sample(pid: int, socket: Path, t_s: float, effect: str, cpu: CpuMeter) -> Sample:
    info = proc_status(pid)
    pipeline = request(socket, {"cmd": "status"}, timeout_s=30)["status"]["pipeline"]
    frames, ms = pipeline["frames"], pipeline["ms"]
    return Sample(
        round(t_s, 1),
        effect,
        round(int(info["VmRSS"].split()[0]) / 1024, 1),
        int(info["Threads"]),
        len(os.listdir(f"/proc/{pid}/fd")),
        frames["in"],
        frames["out"],
        frames["dropped"],
        frames["repeated"],
        frames["placeholder"],
        pipeline["fps"]["now"],
        ms["latency_p95"],
        ms["cpu_per_frame"],
        *cpu.percent(),
    )


class EffectSwitcher:
    """Changes the effect through the socket and through the file, alternately."""

    def __init__(self, config: Path, socket: Path, base: dict[str, Any]) -> None:
        self.config, self.socket, self.base = config, socket, base
        self.changes = 0

    def apply(self, index: int) -> str:
        name, effects = EFFECTS[index % len(EFFECTS)]
        if self.changes % 2 == 0:
            request(self.socket, {"cmd": "set", "changes": [f"effects={json.dumps(effects)}"]}, timeout_s=30)
        else:
            write_config(self.config, {**self.base, "effects": effects})
        self.changes += 1
        return name


def write_config(path: Path, data: dict[str, Any]) -> None:
    temporary = path.with_name(f".{path.name}.new")
    temporary.write_text(yaml.safe_dump(data, sort_keys=False))
    os.replace(temporary, path)  # as editors save: the watcher never reads half a file


def summarise(samples: list[Sample], warmup_s: float, cycle_s: float, sample_every: float) -> dict[str, Any]:
    """The figures of the docstring, over the samples after ``warmup_s``."""
    after = [s for s in samples if s.t_s >= warmup_s]
    if len(after) < 2:
        raise SystemExit("the run is too short: no samples after the warm-up (use more --minutes)")
    # Same point of the effect cycle at both ends: a pass's first samples.
    cycles = int((after[-1].t_s - after[0].t_s) // cycle_s)
    end_t = after[0].t_s + cycles * cycle_s if cycles else after[-1].t_s
    start = [s.rss_mb for s in after if s.t_s < after[0].t_s + sample_every * 1.5]
    end = [s.rss_mb for s in after if end_t - 0.01 <= s.t_s < end_t + sample_every * 1.5] or [after[-1].rss_mb]
    rss_start, rss_end = statistics.median(start), statistics.median(end)
    intervals = list(itertools.pairwise(after))
    fps = [(b.frames_out - a.frames_out) / (b.t_s - a.t_s) for a, b in intervals if b.t_s > a.t_s]
    drops = [b.dropped - a.dropped for a, b in intervals]
    longest = run = 0
    for count in drops:
        run = run + 1 if count > 0 else 0
        longest = max(longest, run)
    frames = after[-1].frames_out - after[0].frames_out
    offered = after[-1].frames_in - after[0].frames_in
    dropped = after[-1].dropped - after[0].dropped
    measured_s = after[-1].t_s - after[0].t_s
    return {
        "warmup_s": warmup_s,
        "measured_s": round(measured_s, 1),
        "cycle_s": cycle_s,
        "rss_mb_after_warmup": rss_start,
        "rss_mb_end": rss_end,
        "rss_compared_at_s": [after[0].t_s, end_t],
        "rss_growth_pct": round(100.0 * (rss_end - rss_start) / rss_start, 2),
        "rss_mb_max": max(s.rss_mb for s in samples),
        "rss_mb_last": after[-1].rss_mb,
        "threads": [after[0].threads, after[-1].threads],
        "fds": [after[0].fds, after[-1].fds],
        "fps_min": round(min(fps), 2),
        "fps_median": round(statistics.median(fps), 2),
        "source_fps": round(offered / measured_s, 2) if measured_s > 0 else None,
        "frames_after_warmup": frames,
        "offered_after_warmup": offered,
        "dropped_after_warmup": dropped,
        # Sent over delivered by the source: how well the daemon kept pace with its camera, whatever
        # rate the machine could decode the camera's stream at (a frame in flight at either end
        # can tip it just over 1).
        "delivered_fraction_after_warmup": round(frames / max(1, offered), 5),
        "drop_fraction_after_warmup": round(dropped / max(1, frames), 5),
        "intervals_with_drops": sum(1 for d in drops if d > 0),
        "intervals": len(drops),
        "longest_drop_run_intervals": longest,
        "dropped_in_warmup": after[0].dropped,
        "repeated_after_warmup": after[-1].repeated - after[0].repeated,
        "placeholder_after_warmup": after[-1].placeholder - after[0].placeholder,
        "daemon_cpu_pct": round(statistics.mean(s.daemon_cpu_pct for s in after[1:]), 1),
        "other_cpu_pct": round(statistics.mean(s.other_cpu_pct for s in after[1:]), 1),
    }


def report(summary: dict[str, Any], inference: str) -> None:
    print(f"inference: {inference}")
    print(
        f"warm-up {summary['warmup_s']:.0f} s (model load + every effect built twice), then "
        f"{summary['measured_s']:.0f} s measured"
    )
    print(
        f"RSS {summary['rss_mb_after_warmup']:.1f} MB after warm-up -> {summary['rss_mb_end']:.1f} MB at the end: "
        f"{summary['rss_growth_pct']:+.2f} % (goal < 5 %); max {summary['rss_mb_max']:.1f} MB; threads "
        f"{summary['threads'][0]} -> {summary['threads'][1]}, open files {summary['fds'][0]} -> {summary['fds'][1]}"
    )
    print(
        f"fps per interval: min {summary['fps_min']:.2f}, median {summary['fps_median']:.2f} (goal 30); the "
        f"source delivered {summary['source_fps']:.2f} fps, of which "
        f"{100 * summary['delivered_fraction_after_warmup']:.2f} % were sent (goal: all); CPU: daemon "
        f"{summary['daemon_cpu_pct']:.0f} %, other processes {summary['other_cpu_pct']:.0f} % of the machine"
    )
    print(
        f"dropped after warm-up: {summary['dropped_after_warmup']} of {summary['frames_after_warmup']} frames "
        f"({100 * summary['drop_fraction_after_warmup']:.3f} %), in {summary['intervals_with_drops']} of "
        f"{summary['intervals']} intervals, longest run {summary['longest_drop_run_intervals']} (goal: none); "
        f"{summary['dropped_in_warmup']} dropped during warm-up"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=30.0, help="how long it runs after the first frame")
    parser.add_argument("--effect-every", type=float, default=60.0, help="seconds between effect changes")
    parser.add_argument("--sample-every", type=float, default=5.0, help="seconds between samples")
    parser.add_argument(
        "--warmup-passes", type=int, default=2, help="passes through every effect not measured (default 2: see above)"
    )
    parser.add_argument("--video", type=Path, default=DEFAULT_VIDEO, help="video upscaled to 1280x720 as the source")
    parser.add_argument(
        "--out", type=Path, help="folder for samples.csv, summary.json, daemon.log (default: out/soak-TIMESTAMP)"
    )
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="config override passed to vcamseg run (repeatable)",
    )
    args = parser.parse_args(argv)
    out = args.out or Path("out") / time.strftime("soak-%Y%m%d-%H%M%S")
    out.mkdir(parents=True, exist_ok=True)
    cycle_s = args.effect_every * len(EFFECTS)
    warmup_s = cycle_s * args.warmup_passes
    if args.minutes * 60 < warmup_s + 2 * args.sample_every:
        parser.error(
            f"--minutes must leave time after the warm-up ({warmup_s:.0f} s: {args.warmup_passes} passes "
            f"through {len(EFFECTS)} effects every {args.effect_every:g} s)"
        )

    with tempfile.TemporaryDirectory(prefix="vcamseg-soak-") as tmp:
        folder = Path(tmp)
        source = folder / "source-1280x720.avi"
        frames = upscale(args.video, source)
        print(
            f"source: {args.video.name} upscaled to {WIDTH}x{HEIGHT} @ {FPS:g} fps ({frames} frames, looped); "
            f"effect every {args.effect_every:g} s, {len(EFFECTS)} effects; results in {out}"
        )
        socket, config = folder / "control.sock", folder / "config.yaml"
        base = {"service": {"control_socket_path": str(socket)}, "pipeline": {"stats_interval_s": 10}}
        write_config(config, {**base, "effects": EFFECTS[0][1]})
        command = [
            sys.executable,
            "-m",
            "vcamseg",
            "run",
            "--config",
            str(config),
            "--source",
            str(source),
            "--output",
            "null",
            *[arg for item in args.overrides for arg in ("--set", item)],
        ]
        with (out / "daemon.log").open("w") as log:
            proc = subprocess.Popen(command, stderr=log, env=daemon_env())
            try:
                samples, inference = run(proc, socket, config, base, args)
            finally:
                stop(proc)
    with (out / "samples.csv").open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(asdict(samples[0])))
        writer.writeheader()
        writer.writerows(asdict(s) for s in samples)
    summary = summarise(samples, warmup_s, cycle_s, args.sample_every)
    summary.update(
        minutes=args.minutes,
        effect_every_s=args.effect_every,
        sample_every_s=args.sample_every,
        warmup_passes=args.warmup_passes,
        inference=inference,
        effects=[name for name, _ in EFFECTS],
        exit_code=proc.returncode,
    )
    (out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    report(summary, inference)
    return 0 if proc.returncode == 0 else 1


def run(
    proc: subprocess.Popen[bytes], socket: Path, config: Path, base: dict[str, Any], args: argparse.Namespace
) -> tuple[list[Sample], str]:
    """Wait for the first frame, then sample and switch effects until the time is up."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        if proc.poll() is not None:
            raise SystemExit(f"the daemon exited with {proc.returncode} before streaming (see daemon.log)")
        if time.monotonic() > deadline:
            raise SystemExit("the daemon did not stream within 5 minutes (see daemon.log)")
        try:
            status = request(socket, {"cmd": "status"}, timeout_s=30)["status"]
            if status["pipeline"] and status["pipeline"]["frames"]["out"] > 0:
                break
        except NoDaemon:
            pass
        time.sleep(0.2)
    inference = status["pipeline"]["inference_device"]
    started = time.monotonic()
    switcher = EffectSwitcher(config, socket, base)
    cpu = CpuMeter(proc.pid)
    effect, changes = EFFECTS[0][0], 0
    samples: list[Sample] = []
    next_sample = started
    end = started + args.minutes * 60
    while (now := time.monotonic()) < end:
        if proc.poll() is not None:
            raise SystemExit(f"the daemon exited with {proc.returncode} after {now - started:.0f} s (see daemon.log)")
        if now - started >= (changes + 1) * args.effect_every:
            changes += 1
            effect = switcher.apply(changes)
        if now >= next_sample:
            samples.append(take_sample(proc.pid, socket, now - started, effect, cpu))
            next_sample += args.sample_every
            if len(samples) % max(1, round(60 / args.sample_every)) == 0:
                last = samples[-1]
                print(
                    f"  {last.t_s:6.0f} s  RSS {last.rss_mb:7.1f} MB  {last.fps_now:5.1f} fps  "
                    f"{last.dropped} dropped  ({effect})",
                    flush=True,
                )
        time.sleep(max(0.0, min(next_sample, started + (changes + 1) * args.effect_every) - time.monotonic()))
    samples.append(take_sample(proc.pid, socket, time.monotonic() - started, effect, cpu))
    return samples, inference


if __name__ == "__main__":
    sys.exit(main())
