"""vcamseg against tf-bodypix's CLI: the same video, model and settings, side by side.

Both run BodyPix MobileNetV1 0.50, output stride 16, float weights (the official tfjs files in
../shared/models) at internal resolution 0.5 with the same mask threshold, on every frame of
the same video, as fast as they go, with the output discarded:

* tf-bodypix 0.4.2's CLI (``blur-background``, ``replace-background --background IMAGE``,
  ``draw-mask --colored``) loads a TensorFlow SavedModel. tf-bodypix converts tfjs files only
  through tfjs-graph-converter, which breaks current TensorFlow, so the SavedModel is built here
  from the same tfjs files with vcamseg's graph loader (the graph as published, outputs under the
  names tf-bodypix looks up) into a temporary folder. Its app runs in a subprocess with its sink
  replaced by a null sink that counts frames: fps and CPU (``time.process_time``: the whole
  process, every thread) are taken between frame ``--warmup`` and frame ``--warmup + --frames``,
  so model loading and warm-up are excluded. ``--source-fps 0`` stops it pacing the video to its
  30 fps; its video source loops, so any frame count works. Its background image is read with
  OpenCV instead of keras/PIL (PIL is not installed; read once, before the first frame). Note
  that ``draw-mask --colored`` outputs the part colours alone, while vcamseg's ``parts`` also
  blends them over the frame and refines the matte: vcamseg does more work per frame.
* ``vcamseg process VIDEO null --effect blur|replace|parts --frames warmup+frames`` with
  ``segmentation.internal_resolution=0.5``, ``pipeline.segment_every_n_frames=1`` (the model on
  every frame, like tf-bodypix) and the same threshold (backend auto: TFLite XNNPACK on a CPU-only
  machine, from the same tfjs weights); its summary line gives wall fps and CPU
  ms per frame from the first frame sent on (model loading excluded, warm-up frames included).
  It also runs with the default config (``segment_every_n_frames`` etc. at their defaults),
  reported separately: the ratios use the like-for-like runs only.

Each (effect, tool) run is repeated ``--repeats`` times, interleaved, and the medians are
reported. Target: vcamseg >= 3x tf-bodypix's frames/s and <= 1/3 of its CPU ms per frame.

python benchmarks/vs_tf_bodypix.py [--frames 150] [--warmup 10] [--repeats 3] [--effects blur,replace,parts]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
DEFAULT_VIDEO = SHARED / "data" / "videos" / "sam2_bedroom.mp4"
DEFAULT_BACKGROUND = SHARED / "data" / "images" / "voc2011_labelme" / "2011_000003.jpg"
MODEL_DIR = SHARED / "models"
MODEL_JSON = MODEL_DIR / "bodypix" / "mobilenet" / "float" / "050" / "model-stride16.json"
EFFECTS = ("blur", "replace", "parts")
TARGET_FPS_RATIO = 3.0
TARGET_CPU_RATIO = 1.0 / 3.0
OTHER_LOAD_WARNING = 0.25  # cores used by other processes above which the figures are flagged
# vcamseg's output names (vcamseg.segmentation.graph.OUTPUTS) -> the substrings tf-bodypix's
# BodyPixModelWrapper looks for in the SavedModel's output names.
TF_BODYPIX_OUTPUT_NAMES = {
    "segments": "float_segments",
    "part_heatmaps": "float_part_heatmaps",
    "heatmaps": "float_heatmaps",
    "short_offsets": "float_short_offsets",
    "long_offsets": "float_long_offsets",
    "part_offsets": "float_part_offsets",
    "displacement_fwd": "displacement_fwd",
    "displacement_bwd": "displacement_bwd",
}
RESULT_PREFIX = "VS_TF_BODYPIX_RESULT "
QUIET_ENV = {"TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONUNBUFFERED": "1"}


@dataclass
class Run:
    """One measured run: the steady-state figures plus what the machine was doing meanwhile."""

    frames: int
    fps: float
    cpu_ms: float
    p50_ms: float | None = None
    p95_ms: float | None = None
    startup_s: float | None = None  # process start -> first frame out (model load, first inference)
    other_cores: float | None = None  # CPU used by other processes during the run, in cores


@dataclass
class Series:
    runs: list[Run] = field(default_factory=list)

    def median(self, attr: str) -> float | None:
        values = [getattr(r, attr) for r in self.runs if getattr(r, attr) is not None]
        return statistics.median(values) if values else None


# --- child side: the SavedModel export and the tf-bodypix driver (run in subprocesses) ---------


def export_saved_model(model_json: Path, target: Path) -> None:
    """Write ``model_json`` (tfjs graph model) as a SavedModel whose serving signature returns the
    eight BodyPix outputs keyed by the names tf-bodypix expects."""
    import tensorflow as tf

    from vcamseg.models.files import model_digest
    from vcamseg.segmentation.graph import OUTPUTS, load_graph

    graph = load_graph(model_json, "MobileNetV1", 16, digest=model_digest(model_json))

    class BodyPixModule(tf.Module):
        def __init__(self, function: Any) -> None:
            super().__init__()
            self._function = function

        @tf.function(input_signature=[tf.TensorSpec([1, None, None, 3], tf.float32, name="image")])
        def serve(self, image: tf.Tensor) -> dict[str, tf.Tensor]:
            outputs = self._function(image)
            return {TF_BODYPIX_OUTPUT_NAMES[name]: t for name, t in zip(OUTPUTS, outputs, strict=True)}

    module = BodyPixModule(graph.function)
    tf.saved_model.save(module, str(target), signatures={"serving_default": module.serve})


def _cv2_load_image(path: str, image_size: Any = None) -> Any:
    """tf-bodypix's load_image without PIL (which tf-bodypix's TF path needs and we do not
    install): RGB float32 like keras' img_to_array, resized with tf-bodypix's own resize."""
    import cv2
    import numpy as np
    from tf_bodypix.utils.image import resize_image_to

    image = cv2.imread(path, cv2.IMREAD_COLOR)
    if image is None:
        raise FileNotFoundError(path)
    array = cv2.cvtColor(image, cv2.COLOR_BGR2RGB).astype(np.float32)
    return array if image_size is None else resize_image_to(array, image_size)


def drive_tf_bodypix(frames: int, warmup: int, cli_args: list[str]) -> None:
    """Run tf-bodypix's CLI in this process with a counting null sink; print the result as JSON."""
    started_wall, started_cpu = time.perf_counter(), time.process_time()
    import numpy as np
    from tf_bodypix import cli, source

    # Only the background image goes through load_image (once, before the first frame).
    source.load_image = _cv2_load_image
    marks: dict[str, tuple[float, float]] = {}  # name -> (wall, CPU) at that frame
    frame_times: list[float] = []  # seconds between consecutive measured frames
    count = 0
    previous = 0.0

    def sink(image: Any) -> None:
        nonlocal count, previous
        np.asarray(image)  # the result is computed eagerly; this only makes sure it is an array
        count += 1
        now = time.perf_counter()
        if count == 1:
            marks["first"] = (now, time.process_time())
        if count > warmup:
            frame_times.append(now - previous)
        previous = now
        if count == warmup:
            marks["start"] = (now, time.process_time())
        elif count == warmup + frames:
            marks["end"] = (now, time.process_time())
            raise KeyboardInterrupt  # AbstractWebcamFilterApp.run() stops on it, quietly

    @contextmanager
    def null_sink(_args: argparse.Namespace) -> Iterator[Callable[[Any], None]]:
        yield sink

    cli.get_output_sink = null_sink
    cli.main(cli_args)
    if "end" not in marks:
        raise SystemExit(f"tf-bodypix stopped after {count} frames")
    (t0, c0), (t1, c1) = marks["start"], marks["end"]
    frame_times.sort()
    print(
        RESULT_PREFIX
        + json.dumps(
            {
                "frames": frames,
                "fps": frames / (t1 - t0),
                "cpu_ms": (c1 - c0) * 1000.0 / frames,
                "p50_ms": 1000.0 * frame_times[len(frame_times) // 2],
                "p95_ms": 1000.0 * frame_times[min(len(frame_times) - 1, int(0.95 * len(frame_times)))],
                "startup_s": marks["first"][0] - started_wall,
                "startup_cpu_s": marks["first"][1] - started_cpu,
            }
        ),
        flush=True,
    )


# --- parent side: running and measuring the two tools ---------------------------------------


def _busy_jiffies() -> int:
    """CPU time all processes used so far, in clock ticks (/proc/stat, all CPUs)."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal: everything but idle and iowait (guest is in user)
    return sum(values[:8]) - values[3] - values[4]


def _run_measured(command: list[str]) -> tuple[str, float | None]:
    """Run ``command``; return its stdout and the CPU other processes used meanwhile (cores):
    the machine is shared, and this says how much the figures were disturbed."""
    before_children = os.times()
    busy0 = _busy_jiffies()
    wall0 = time.monotonic()
    proc = subprocess.run(command, capture_output=True, text=True, env={**os.environ, **QUIET_ENV}, check=False)
    wall = time.monotonic() - wall0
    busy1 = _busy_jiffies()
    after_children = os.times()
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-15:])
        raise RuntimeError(f"{' '.join(command[:6])} ... exited {proc.returncode}:\n{tail}")
    machine_cpu_s = (busy1 - busy0) / os.sysconf("SC_CLK_TCK")
    child_cpu_s = (
        after_children.children_user
        - before_children.children_user
        + after_children.children_system
        - before_children.children_system
    )
    other = max(0.0, machine_cpu_s - child_cpu_s) / wall if wall > 0 else None
    return proc.stdout, other


def tf_bodypix_args(effect: str, saved_model: Path, video: Path, background: Path, threshold: float) -> list[str]:
    common = [
        "--model-path",
        str(saved_model),
        "--model-architecture",
        "mobilenet_v1",
        "--output-stride",
        "16",
        "--internal-resolution",
        "0.5",
        "--threshold",
        str(threshold),
        "--source",
        str(video),
        "--source-fps",
        "0",
        "--output",
        "null",
    ]
    if effect == "blur":
        return ["blur-background", *common, "--background-blur", "15"]
    if effect == "replace":
        return ["replace-background", *common, "--background", str(background)]
    if effect == "parts":
        return ["draw-mask", *common, "--colored"]
    raise ValueError(effect)


def run_tf_bodypix(effect: str, args: argparse.Namespace, saved_model: Path) -> Run:
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "_drive-tf-bodypix",
        str(args.frames),
        str(args.warmup),
        "--",
        *tf_bodypix_args(effect, saved_model, args.video, args.background, args.threshold),
    ]
    stdout, other = _run_measured(command)
    line = next((ln for ln in stdout.splitlines() if ln.startswith(RESULT_PREFIX)), None)
    if line is None:
        raise RuntimeError(f"tf-bodypix {effect}: no result line in its output:\n{stdout[-2000:]}")
    data = json.loads(line.removeprefix(RESULT_PREFIX))
    return Run(data["frames"], data["fps"], data["cpu_ms"], data["p50_ms"], data["p95_ms"], data["startup_s"], other)


def vcamseg_command(effect: str, args: argparse.Namespace, like_for_like: bool) -> list[str]:
    command = [
        sys.executable,
        "-m",
        "vcamseg",
        "process",
        str(args.video),
        "null",
        "--effect",
        effect,
        "--frames",
        str(args.warmup + args.frames),
        "--json",
        "--set",
        f"model.dir={MODEL_DIR}",
        "--set",
        "model.architecture=MobileNetV1",
        "--set",
        "model.multiplier=0.5",
        "--set",
        "model.output_stride=16",
        "--set",
        "model.quant_bytes=4",
    ]
    if effect == "replace":
        command += ["--background", str(args.background)]
    if like_for_like:
        command += [
            "--set",
            "segmentation.internal_resolution=0.5",
            "--set",
            "pipeline.segment_every_n_frames=1",
            "--set",
            f"segmentation.threshold={args.threshold}",
        ]
    return command


def run_vcamseg(effect: str, args: argparse.Namespace, like_for_like: bool) -> Run:
    stdout, other = _run_measured(vcamseg_command(effect, args, like_for_like))
    # `process --json` prints the stats snapshot (the `status --json` shape) as its last line.
    lines = [ln for ln in stdout.splitlines() if ln.startswith("{")]
    if not lines:
        raise RuntimeError(f"vcamseg process {effect}: no JSON stats in its output:\n{stdout[-2000:]}")
    snap = json.loads(lines[-1])["pipeline"]
    cpu = snap["ms"]["cpu_per_frame"]
    if cpu is None:
        raise RuntimeError(f"vcamseg process {effect}: no CPU figure in its stats: {snap['ms']}")
    ms = snap["ms"]
    return Run(snap["frames"]["out"], snap["fps"]["overall"], cpu, ms["latency_p50"], ms["latency_p95"], None, other)


# --- report ----------------------------------------------------------------------------------


def _fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def comparison_table(results: dict[tuple[str, str], Series], effects: Sequence[str]) -> str:
    rows = [
        "| effect | tf-bodypix fps | tf-bodypix CPU ms/frame | vcamseg fps | vcamseg CPU ms/frame "
        "| fps ratio | CPU ratio | target met |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for effect in effects:
        theirs, ours = results[(effect, "tf-bodypix")], results[(effect, "vcamseg")]
        t_fps, t_cpu = theirs.median("fps"), theirs.median("cpu_ms")
        o_fps, o_cpu = ours.median("fps"), ours.median("cpu_ms")
        fps_ratio = o_fps / t_fps if o_fps and t_fps else None
        cpu_ratio = o_cpu / t_cpu if o_cpu and t_cpu else None
        met = (
            fps_ratio is not None
            and cpu_ratio is not None
            and fps_ratio >= TARGET_FPS_RATIO
            and cpu_ratio <= TARGET_CPU_RATIO
        )
        verdict = "yes" if met else "no"
        if not met and fps_ratio is not None and cpu_ratio is not None:
            misses = []
            if fps_ratio < TARGET_FPS_RATIO:
                misses.append(f"fps {fps_ratio:.2f}x < 3x")
            if cpu_ratio > TARGET_CPU_RATIO:
                misses.append(f"CPU {cpu_ratio:.3f} > 0.333")
            verdict = f"no ({', '.join(misses)})"
        rows.append(
            f"| {effect} | {_fmt(t_fps)} | {_fmt(t_cpu)} | {_fmt(o_fps)} | {_fmt(o_cpu)} "
            f"| {_fmt(fps_ratio, 2)}x | {_fmt(cpu_ratio, 2)} | {verdict} |"
        )
    return "\n".join(rows)


def detail_table(results: dict[tuple[str, str], Series], effects: Sequence[str], tools: Sequence[str]) -> str:
    rows = [
        "| effect | run | fps (runs) | CPU ms/frame (runs) | p50 / p95 ms* | startup s | other load (cores) |",
        "|---|---|---|---|---|---:|---:|",
    ]
    for effect in effects:
        for tool in tools:
            s = results[(effect, tool)]
            fps = ", ".join(f"{r.fps:.1f}" for r in s.runs)
            cpu = ", ".join(f"{r.cpu_ms:.1f}" for r in s.runs)
            rows.append(
                f"| {effect} | {tool} | {fps} | {cpu} | {_fmt(s.median('p50_ms'))} / "
                f"{_fmt(s.median('p95_ms'))} | {_fmt(s.median('startup_s'))} | "
                f"{_fmt(s.median('other_cores'), 2)} |"
            )
    return "\n".join(rows)


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


# --- main ------------------------------------------------------------------------------------


def _effects(text: str) -> list[str]:
    effects = [e.strip() for e in text.split(",") if e.strip()]
    unknown = [e for e in effects if e not in EFFECTS]
    if unknown or not effects:
        raise argparse.ArgumentTypeError(f"choose from {', '.join(EFFECTS)}")
    return effects


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=150, help="frames measured after the warm-up (default 150)")
    parser.add_argument("--warmup", type=int, default=10, help="frames not measured at the start (default 10)")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each (effect, tool), interleaved (default 3)")
    parser.add_argument(
        "--effects",
        type=_effects,
        default=list(EFFECTS),
        help=f"comma-separated subset of {','.join(EFFECTS)} (default all)",
    )
    parser.add_argument("--video", type=Path, default=DEFAULT_VIDEO, help="input video (default sam2_bedroom.mp4)")
    parser.add_argument("--background", type=Path, default=DEFAULT_BACKGROUND, help="background image for replace")
    parser.add_argument(
        "--threshold", type=float, default=0.75, help="mask threshold for both (default 0.75, tf-bodypix's default)"
    )
    parser.add_argument(
        "--no-default-config", action="store_true", help="skip the extra vcamseg runs with its default config"
    )
    args = parser.parse_args(argv)
    if args.frames < 2 or args.warmup < 1 or args.repeats < 1:
        parser.error("--frames must be >= 2, --warmup >= 1, --repeats >= 1")
    for path in (args.video, args.background, MODEL_JSON):
        if not path.is_file():
            parser.error(f"{path}: no such file")
    return args


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    # Internal entry points for the subprocesses (kept in this file so the benchmark is one file).
    if argv[:1] == ["_drive-tf-bodypix"]:
        frames, warmup, _sep, *cli_args = argv[1:]
        drive_tf_bodypix(int(frames), int(warmup), cli_args)
        return 0
    if argv[:1] == ["_export"]:
        export_saved_model(Path(argv[1]), Path(argv[2]))
        return 0

    args = parse_args(argv)
    tools = ["tf-bodypix", "vcamseg"] + ([] if args.no_default_config else ["vcamseg default config"])
    results = {(e, t): Series() for e in args.effects for t in tools}
    print(
        f"video: {args.video.name}, model: MobileNetV1 0.50 stride 16 float ({MODEL_JSON}), "
        f"internal resolution 0.5, threshold {args.threshold}, {args.frames} frames measured after "
        f"{args.warmup} warm-up, {args.repeats} repeats; {os.cpu_count()} CPUs, load average {_load()}",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="vs-tf-bodypix-") as tmp:
        # The folder name carries the architecture and stride too (tf-bodypix guesses from it).
        saved_model = Path(tmp) / "mobilenet-float-050-stride16"
        _run_measured([sys.executable, str(Path(__file__).resolve()), "_export", str(MODEL_JSON), str(saved_model)])
        for repeat in range(args.repeats):
            for effect in args.effects:
                for tool in tools:
                    if tool == "tf-bodypix":
                        run = run_tf_bodypix(effect, args, saved_model)
                    else:
                        run = run_vcamseg(effect, args, like_for_like=tool == "vcamseg")
                    results[(effect, tool)].runs.append(run)
                    print(
                        f"  [{repeat + 1}/{args.repeats}] {effect:8s} {tool:23s} {run.fps:6.1f} fps "
                        f"{run.cpu_ms:6.1f} ms CPU/frame  (other load {_fmt(run.other_cores, 2)} cores, "
                        f"load average {_load()})",
                        flush=True,
                    )

    print(
        f"\nlike for like (every frame segmented, internal resolution 0.5, threshold {args.threshold}); "
        f"medians of {args.repeats}; ratios = vcamseg / tf-bodypix\n"
    )
    print(comparison_table(results, args.effects))
    if not args.no_default_config:
        print(
            "\nvcamseg with its default config (NOT like for like: segment_every_n_frames, internal "
            "resolution and threshold at their defaults), medians:\n"
        )
        print("| effect | vcamseg default config fps | CPU ms/frame |\n|---|---:|---:|")
        for effect in args.effects:
            s = results[(effect, "vcamseg default config")]
            print(f"| {effect} | {_fmt(s.median('fps'))} | {_fmt(s.median('cpu_ms'))} |")
    print("\nall runs (other load: CPU used by other processes on the machine during the run, median):\n")
    print(detail_table(results, args.effects, tools))
    print(
        "\n* tf-bodypix: time between frames (it runs one frame at a time); vcamseg: read -> written latency "
        "(its stages overlap). startup: process start -> first frame out (model load, first inference)."
    )
    print(f"\nload average at the end: {_load()}")
    others = [r.other_cores for s in results.values() for r in s.runs if r.other_cores is not None]
    if others and statistics.median(others) > OTHER_LOAD_WARNING:
        print(
            f"WARNING: other processes used {statistics.median(others):.2f} of {os.cpu_count()} cores during the "
            "runs (median): both tools were short of CPU, so fps are not comparable with a quiet machine's and "
            "CPU ms/frame is inflated (by 5-10 % at about 1 core of other load). Rerun on a quiet machine for "
            "figures to quote."
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
