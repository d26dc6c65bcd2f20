"""What the real-time daemon benchmarks (daemon.py, soak.py, stop_latency.py) share: a webcam-like
1280x720 30 fps source made from a real video, the daemon's environment, the CPU the rest of the
machine used meanwhile, and stopping the daemon they started. The shared data's location and the
default video are also used by resnet50_speed.py."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import cv2

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
DEFAULT_VIDEO = SHARED / "data" / "videos" / "sam2_bedroom.mp4"
WIDTH, HEIGHT, FPS = 1280, 720, 30.0


def upscale(video: Path, target: Path) -> int:
    """Write ``video`` resized to 1280x720 at 30 fps (MJPG: cheap to decode, like a webcam's
    stream); the number of frames written."""
    capture = cv2.VideoCapture(str(video))
    writer = cv2.VideoWriter(str(target), cv2.VideoWriter.fourcc(*"MJPG"), FPS, (WIDTH, HEIGHT))
    frames = 0
    while (frame := capture.read())[0]:
        writer.write(cv2.resize(frame[1], (WIDTH, HEIGHT), interpolation=cv2.INTER_LINEAR))
        frames += 1
    writer.release()
    capture.release()
    if frames == 0:
        raise SystemExit(f"cannot read {video}")
    return frames


def stop(proc: subprocess.Popen) -> None:
    """SIGTERM, as systemd stops it; killed if it is not gone within 10 s."""
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


def daemon_env() -> dict[str, str]:
    """The models from ../shared when nothing else says where they are (no download needed)."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    if "VCAMSEG_MODEL_DIR" not in env and (SHARED / "models").is_dir():
        env["VCAMSEG_MODEL_DIR"] = str(SHARED / "models")
    return env


class CpuMeter:
    """CPU used since the previous reading, by the daemon and by everything else, as % of the
    machine (all cores), from /proc/stat and /proc/PID/stat (clock ticks)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.last = self._read()

    def _read(self) -> tuple[int, int, int]:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        total, idle = sum(fields[:8]), fields[3] + fields[4]  # user..steal; idle + iowait
        stat = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return total, total - idle, int(stat[11]) + int(stat[12])  # utime + stime

    def percent(self) -> tuple[float, float]:
        now = self._read()
        total, busy, daemon = (b - a for a, b in zip(self.last, now, strict=True))
        self.last = now
        if total <= 0:
            return 0.0, 0.0
        return round(100.0 * daemon / total, 1), round(100.0 * max(0, busy - daemon) / total, 1)
