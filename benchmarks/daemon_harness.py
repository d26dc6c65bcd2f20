"""What the real-time daemon benchmarks (daemon.py, soak.py) share: a webcam-like 1280x720 30 fps
source made from a real video, and stopping the daemon they started. The shared data's location
and the default video are also used by resnet50_speed.py."""

from __future__ import annotations

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
