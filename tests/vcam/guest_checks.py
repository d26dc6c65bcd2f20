#!/usr/bin/env python3
"""Runs INSIDE the v4l2vm (see tests/vcam/test_virtual_camera.py): `vcamseg run` publishes a real
video to the real v4l2loopback device, and real V4L2 clients read it back.

Writes ``OUT/results.json`` (one entry per check with its measurements) plus PNGs of what the
readers saw. The host-side pytest asserts on the JSON; this script asserts nothing itself, so one
slow VM boot yields every figure. Nothing here depends on how fast the VM runs (under emulation,
on a busy host, a segmentation can take seconds): every wait is minutes long, and a reader reads
on until it has seen enough effect frames (or minutes have passed), not a fixed number of frames,
which at the output's 10 fps would be a deadline in disguise. ``slowness`` (tests/speed.py,
measured here) says how much slower than the reference machine this VM ran.

Checks: ``ffmpeg`` (size, rate, colours), ``opencv`` (CAP_V4L2), ``chromium`` (enumerateDevices,
getUserMedia, canvas pixels), ``idle`` (idle with no reader, resume latency, idle again), and
``restart`` (stop, start again, reattach; or the module limitation explained on v4l2loopback 0.12).
"""

from __future__ import annotations

import argparse
import http.server
import json
import os
import re
import runpy
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import cv2
import numpy as np

DEV = "/dev/video10"
W, H, FPS = 320, 240, 10
COLOR_BGR = (0, 255, 0)  # the replace effect's colour (config: [0, 255, 0] RGB)
# How long a wait may take before it counts as "never" (the whole guest run has 50 minutes).
START_S = 900  # a daemon start: model conversion and warm-up under emulation (170-420 s seen on a busy host)
READ_S = 300  # a reader, until it has seen enough effect frames


class Daemon:
    """`vcamseg run` in the background, with its log in OUT/daemon-N.log."""

    count = 0

    def __init__(self, out: Path, config: Path, video: Path) -> None:
        Daemon.count += 1
        self.log_path = out / f"daemon-{Daemon.count}.log"
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "vcamseg",
                "--log-level",
                "INFO",
                "run",
                "--config",
                str(config),
                "--source",
                str(video),
                "--output",
                DEV,
            ],
            stdout=self.log_path.open("w"),
            stderr=subprocess.STDOUT,
            env=env,
        )
        self.started = time.monotonic()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for(self, pattern: str, timeout: float, after: int = 0) -> float | None:
        """Seconds until ``pattern`` appears in the log after character ``after`` (None: timeout/exit)."""
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            if re.search(pattern, self.log()[after:]):
                return time.monotonic() - start
            if self.proc.poll() is not None:
                return None
            time.sleep(0.1)
        return None

    def stop(self, timeout: float = 60) -> tuple[int | None, float]:
        start = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = None
        return rc, time.monotonic() - start


def read_ffmpeg(n: int, after_effect: int = 0, timeout: float = READ_S) -> tuple[list[np.ndarray], list[float], float]:
    """Frames (BGR) and their arrival times (s after ffmpeg started) through `ffmpeg -f v4l2`: at
    least ``n``, and on until ``after_effect`` frames from the first effect frame on (however long
    the daemon takes to show one), within ``timeout``."""
    size = W * H * 3
    start = time.monotonic()
    command = [
        "ffmpeg",
        "-hide_banner",
        "-loglevel",
        "error",
        "-f",
        "v4l2",
        "-i",
        DEV,
        "-fps_mode",
        "passthrough",
        "-f",
        "rawvideo",
        "-pix_fmt",
        "bgr24",
        "-",
    ]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    frames, times = [], []
    first_effect: int | None = None

    def enough() -> bool:
        if len(frames) < n:
            return False
        return after_effect == 0 or (first_effect is not None and len(frames) - first_effect >= after_effect)

    deadline = start + timeout
    while not enough() and time.monotonic() < deadline:
        data = proc.stdout.read(size)
        if not data or len(data) < size:
            break
        times.append(time.monotonic() - start)
        frames.append(np.frombuffer(data, np.uint8).reshape(H, W, 3))
        if first_effect is None and is_effect(frames[-1]):
            first_effect = len(frames) - 1
    proc.kill()
    proc.wait()
    return frames, times, time.monotonic() - start


def border_and_centre(frame: np.ndarray) -> tuple[float, float]:
    """Worst colour error of the frame border against the replace colour, and the mean error of a
    central patch (where the person stands) against it."""
    target = np.array(COLOR_BGR, np.float32)
    # Top edge and the upper sides: the person (ASL video: standing, centred) reaches the bottom edge.
    border = np.concatenate(
        [frame[:12].reshape(-1, 3), frame[: H // 2, :12].reshape(-1, 3), frame[: H // 2, -12:].reshape(-1, 3)]
    ).astype(np.float32)
    centre = frame[H // 3 : 2 * H // 3, 2 * W // 5 : 3 * W // 5].reshape(-1, 3).astype(np.float32)
    border_err = float(np.percentile(np.abs(border - target).max(axis=1), 95))
    centre_err = float(np.abs(centre - target).max(axis=1).mean())
    return border_err, centre_err


def is_effect(frame: np.ndarray) -> bool:
    return border_and_centre(frame)[0] < 24


def check_ffmpeg(out: Path, results: dict) -> None:
    frames, times, _ = read_ffmpeg(40, after_effect=30)
    effect = [i for i, f in enumerate(frames) if is_effect(f)]
    live = frames[effect[0] :] if effect else []
    live_times = times[effect[0] :] if effect else []
    errs = [border_and_centre(f) for f in live]
    gaps = np.diff(live_times) if len(live_times) > 2 else np.array([])
    if frames:
        cv2.imwrite(str(out / "ffmpeg-first.png"), frames[0])
        cv2.imwrite(str(out / "ffmpeg-last.png"), frames[-1])
    parm = subprocess.run(["v4l2-ctl", "-d", DEV, "--get-parm"], capture_output=True, text=True).stdout
    announced = re.search(r"Frames per second: ([0-9.]+)", parm)
    results["ffmpeg"] = {
        "fps_announced": float(announced.group(1)) if announced else None,
        "frames": len(frames),
        "shape": list(frames[0].shape) if frames else None,
        "effect_frames": len(live),
        "border_err_max": max((e[0] for e in errs), default=None),
        "centre_err_min": min((e[1] for e in errs), default=None),
        "fps_measured": float(1.0 / np.median(gaps)) if gaps.size else None,
        "first_effect_s": live_times[0] if live_times else None,
        "first_any_s": times[0] if times else None,
    }


def check_opencv(out: Path, results: dict) -> None:
    cap = cv2.VideoCapture(DEV, cv2.CAP_V4L2)
    frames: list[np.ndarray] = []
    start = time.monotonic()
    first_effect: int | None = None  # read on until 30 frames from the first effect frame on
    while cap.isOpened() and time.monotonic() - start < READ_S:
        if len(frames) >= 40 and first_effect is not None and len(frames) - first_effect >= 30:
            break
        ok, frame = cap.read()
        if ok:
            frames.append(frame)
            if first_effect is None and is_effect(frame):
                first_effect = len(frames) - 1
    size = (int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)))
    fps = cap.get(cv2.CAP_PROP_FPS)
    cap.release()
    live = [f for f in frames if is_effect(f)]
    if frames:
        cv2.imwrite(str(out / "opencv-last.png"), frames[-1])
    errs = [border_and_centre(f) for f in live]
    results["opencv"] = {
        "frames": len(frames),
        "size": list(size),
        "fps_reported": fps,
        "effect_frames": len(live),
        "border_err_max": max((e[0] for e in errs), default=None),
        "centre_err_min": min((e[1] for e in errs), default=None),
    }


PAGE = (
    """<!doctype html><meta charset=utf-8><body><script>
const W = WIDTH, H = HEIGHT, GOAL = TARGET, LIMIT = LIMITMS;
const list = async () => (await navigator.mediaDevices.enumerateDevices()).map(d => ({kind: d.kind, label: d.label}));
async function run() {
  const out = {};
  try {
    const s = await navigator.mediaDevices.getUserMedia({video: {width: W, height: H}});
    const t = s.getVideoTracks()[0];
    out.track = {label: t.label, settings: t.getSettings()};
    out.devices = await list();
    const v = document.createElement('video'); v.muted = true; v.srcObject = s; await v.play();
    const c = document.createElement('canvas'); c.width = W; c.height = H;
    const g = c.getContext('2d', {willReadFrequently: true});
    const mean = (x, y, w, h) => { const d = g.getImageData(x, y, w, h).data, m = [0, 0, 0];
      for (let k = 0; k < d.length; k += 4) { m[0] += d[k]; m[1] += d[k + 1]; m[2] += d[k + 2]; }
      return m.map(a => a / (d.length / 4)); };
    out.samples = [];
    const t0 = performance.now();
    // On until 30 samples from the first effect frame on (the replace colour in the corner).
    const effect = s => Math.max(...s.corner.map((x, k) => Math.abs(x - GOAL[k]))) < 24;
    let firstEffect = -1;
    while (performance.now() - t0 < LIMIT) {
      if (out.samples.length >= 40 && firstEffect >= 0 && out.samples.length - firstEffect >= 30) break;
      await new Promise(r => v.requestVideoFrameCallback(r));
      g.drawImage(v, 0, 0, W, H);
      const sample = {corner: mean(2, 2, 10, 10), top: mean(W / 2 - 20, 2, 40, 10),
                      centre: mean(2 * W / 5, H / 3, W / 5, H / 3)};
      out.samples.push(sample);
      if (firstEffect < 0 && effect(sample)) firstEffect = out.samples.length - 1;
    }
    out.png = c.toDataURL('image/png');
  } catch (e) { out.error = e.name + ': ' + e.message; }
  await fetch('/result', {method: 'POST', body: JSON.stringify(out)});
}
run();
</script>""".replace("WIDTH", str(W))
    .replace("HEIGHT", str(H))
    .replace("TARGET", str(list(COLOR_BGR[::-1])))
    .replace("LIMITMS", str(READ_S * 1000))
)


def _run_chromium(out: Path, attempt: int, timeout: float) -> tuple[bool, bool, dict]:
    """One headless Chromium on the page: (it answered, the page was served, what it sent)."""
    result: dict = {}
    done, served = threading.Event(), threading.Event()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            served.set()
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(PAGE.encode())

        def do_POST(self) -> None:
            result.update(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()
            done.set()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    log = (out / f"chromium-{attempt}.log").open("w")
    chrome = subprocess.Popen(
        [
            "chromium",
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--use-fake-ui-for-media-stream",
            "--autoplay-policy=no-user-gesture-required",
            f"--user-data-dir=/tmp/chromium-profile-{attempt}",
            "--enable-features=NetworkServiceInProcess",
            "--disable-extensions",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-default-apps",
            "--no-default-browser-check",
            "--mute-audio",
            f"http://127.0.0.1:{server.server_address[1]}/",
        ],
        stdout=log,
        stderr=log,
    )
    got = done.wait(timeout)
    chrome.terminate()
    try:
        chrome.wait(20)
    except subprocess.TimeoutExpired:
        chrome.kill()
    server.shutdown()
    return got, served.is_set(), result


def check_chromium(out: Path, results: dict, timeout: float = READ_S + 180, attempts: int = 2) -> None:
    """A browser that never answers (under emulation on a busy host, Chromium has been seen not to
    reach the page in 8 minutes, its network service restarted meanwhile) is started once more:
    that is the browser's start-up, not the camera. An answer, error or not, is final."""
    start = time.monotonic()
    for attempt in range(1, attempts + 1):
        got, served, result = _run_chromium(out, attempt, timeout)
        if got:
            break
    png = result.pop("png", None)
    if png:
        import base64

        (out / "chromium-canvas.png").write_bytes(base64.b64decode(png.split(",", 1)[1]))
    rgb_target = np.array(COLOR_BGR[::-1], np.float32)
    samples = result.get("samples", [])
    effect = [s for s in samples if np.abs(np.array(s["corner"]) - rgb_target).max() < 24]
    results["chromium"] = {
        "answered": got,
        "attempts": attempt,
        "page_served": served,
        "seconds": time.monotonic() - start,
        "error": result.get("error"),
        "labels": [d["label"] for d in result.get("devices", []) if d["kind"] == "videoinput"],
        "track": result.get("track"),
        "frames": len(samples),
        "effect_frames": len(effect),
        "corner_err_max": max((float(np.abs(np.array(s["corner"]) - rgb_target).max()) for s in effect), default=None),
        "top_err_max": max((float(np.abs(np.array(s["top"]) - rgb_target).max()) for s in effect), default=None),
        "centre_err_min": min((float(np.abs(np.array(s["centre"]) - rgb_target).max()) for s in effect), default=None),
    }


IDLE = r"idle \(camera released"
RESUME = r"an application reads the virtual camera: resuming"


def check_idle(daemon: Daemon, out: Path, results: dict) -> None:
    """No reader: idle with the source released. A reader: effect frames again; how fast (the
    reader's own start-up excluded: from its first frame, an idle picture, to the first effect
    frame). The reader gone: idle again after the grace period."""
    idle_at_start = daemon.wait_for(IDLE, START_S) is not None
    released = "camera released" in daemon.log()
    mark = len(daemon.log())
    frames, times, _ = read_ffmpeg(60, after_effect=20)
    if frames:
        cv2.imwrite(str(out / "idle-first.png"), frames[0])
        cv2.imwrite(str(out / "idle-last.png"), frames[-1])
    reader_gone = len(daemon.log())
    effect = [i for i, f in enumerate(frames) if is_effect(f)]
    resumed_logged = re.search(RESUME, daemon.log()[mark:]) is not None
    first_effect = times[effect[0]] if effect else None
    results["idle"] = {
        "idle_without_reader": idle_at_start,
        "source_released": released,
        "resume_logged": resumed_logged,
        "frames_read": len(frames),
        "idle_frames_before_effect": effect[0] if effect else None,
        "resume_s": (first_effect - times[0]) if effect else None,
        # Seconds from the reader closing to the daemon idling (includes output.idle.grace_s).
        "idle_again_after_s": daemon.wait_for(IDLE, READ_S, after=reader_gone),
    }


def check_restart(daemon: Daemon, out: Path, config: Path, video: Path, results: dict) -> Daemon:
    rc, seconds = daemon.stop()
    second = Daemon(out, config, video)
    opened = second.wait_for(r"publishing to virtual camera", START_S)
    entry: dict = {"first_stop_rc": rc, "first_stop_s": seconds, "second_opened": opened is not None}
    if opened is not None:
        entry["second_ready_s"] = second.wait_for(r"inference device", START_S)
        frames, times, _ = read_ffmpeg(30, after_effect=20)
        entry["second_effect_frames"] = sum(is_effect(f) for f in frames)
        effect = [t for t, f in zip(times, frames, strict=True) if is_effect(f)]
        entry["second_first_effect_s"] = effect[0] - times[0] if effect else None
    else:
        entry["second_exit_code"] = second.proc.wait(60) if second.proc.poll() is None else second.proc.returncode
        entry["second_log_tail"] = second.log()[-1500:]
    results["restart"] = entry
    return second


def measure_slowness() -> float:
    """tests/speed.py's factor, in here. Loaded by its path: the VM's site-packages may hold an
    unrelated top-level ``tests`` package that would shadow this repository's."""
    speed = runpy.run_path(str(Path(__file__).resolve().parents[1] / "speed.py"))
    return round(speed["slowness"](), 1)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--config", type=Path, required=True)
    ap.add_argument("--video", type=Path, required=True)
    ap.add_argument("--checks", default="ffmpeg,opencv,chromium,idle,restart")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    checks = args.checks.split(",")
    from vcamseg.io.sinks import loopback_module_version

    version = loopback_module_version()
    results: dict = {
        "module_version": ".".join(map(str, version)) if version else "< 0.13",
        "checks": checks,
        "slowness": measure_slowness(),
    }  # before the daemon starts: the VM alone
    daemon = Daemon(args.out, args.config, args.video)
    try:
        ready = daemon.wait_for(r"inference device", START_S)
        results["daemon_ready_s"] = ready
        if ready is None:
            results["startup_log"] = daemon.log()[-3000:]
        else:
            if "idle" in checks:
                check_idle(daemon, args.out, results)
            for name, fn in (("ffmpeg", check_ffmpeg), ("opencv", check_opencv), ("chromium", check_chromium)):
                if name in checks:
                    t0 = time.monotonic()
                    fn(args.out, results)
                    results[name]["check_s"] = time.monotonic() - t0
            if "restart" in checks:
                daemon = check_restart(daemon, args.out, args.config, args.video, results)
    finally:
        rc, seconds = daemon.stop() if daemon.proc.poll() is None else (daemon.proc.returncode, 0.0)
        results["final_stop"] = {"rc": rc, "seconds": seconds}
        (args.out / "results.json").write_text(json.dumps(results, indent=1))
    print(json.dumps({k: v for k, v in results.items() if k != "startup_log"}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
