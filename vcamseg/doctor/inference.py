"""Which device would run inference, worked out without loading TensorFlow (seconds, and GPU memory):
the NVIDIA device nodes and kernel module, the driver's libcuda, and the CUDA libraries TensorFlow
needs (the pip packages `tensorflow[and-cuda]` brings, or system ones). ``probe=True`` (``doctor
--gpu-probe``) also asks TensorFlow itself, in a subprocess with a timeout."""

from __future__ import annotations

import ctypes.util
import glob
import importlib.metadata
import json
import os
import subprocess
import sys
from typing import Any

from vcamseg.config.model import ModelConfig
from vcamseg.doctor.host import Host
from vcamseg.doctor.report import Finding, ok, warning

AREA = "inference"
# What `pip install 'tensorflow[and-cuda]'` installs that TensorFlow dlopens for the GPU (CUDA 12).
CUDA_PACKAGES = ("nvidia-cuda-runtime-cu12", "nvidia-cudnn-cu12", "nvidia-cublas-cu12")
GPU_FIX = "pip install 'vcamseg[gpu]' in vcamseg's environment (it adds tensorflow[and-cuda])"
PROBE_TIMEOUT_S = 120.0
PROBE_CODE = (
    "import json, tensorflow as tf; print(json.dumps([d.name for d in tf.config.list_physical_devices('GPU')]))"
)


def _installed(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def _threads(cfg: ModelConfig) -> int:
    if cfg.threads:
        return cfg.threads
    try:
        return len(os.sched_getaffinity(0))
    except OSError:
        return os.cpu_count() or 1


def gpu_evidence(host: Host) -> dict[str, Any]:
    """What is there for TensorFlow to use an NVIDIA GPU, from files only."""
    nodes = sorted(glob.glob(str(host.dev / "nvidia[0-9]*")))
    try:
        driver = (host.sys / "module" / "nvidia" / "version").read_text().strip()
    except OSError:
        driver = "loaded" if (host.sys / "module" / "nvidia").is_dir() else None
    cuda_packages = {name: _installed(name) for name in CUDA_PACKAGES}
    return {
        "device_nodes": nodes,
        "driver": driver,
        "libcuda": ctypes.util.find_library("cuda"),
        "cuda_packages": {k: v for k, v in cuda_packages.items() if v},
        "system_cudnn": ctypes.util.find_library("cudnn"),
        "tensorflow": _installed("tensorflow") or _installed("tensorflow-cpu"),
        "tensorflow_cpu_only": _installed("tensorflow-cpu") is not None and _installed("tensorflow") is None,
    }


def check_inference(
    cfg: ModelConfig, host: Host, *, daemon: dict[str, Any] | None = None, probe: bool = False
) -> list[Finding]:
    evidence = gpu_evidence(host)
    cpu = (
        f"the CPU: TFLite with XNNPACK ({'int8' if cfg.precision in ('auto', 'int8') else 'float'}, "
        f"{_threads(cfg)} threads)"
    )
    if cfg.backend == "tensorflow":
        cpu = f"the CPU: TensorFlow ({_threads(cfg)} threads)"
    checked = "checked /dev/nvidia*, the nvidia kernel module, libcuda and the CUDA packages; TensorFlow not loaded"
    findings = [device_finding(cfg, evidence, cpu, checked)]
    running = (daemon or {}).get("pipeline") or {}
    if running.get("inference_device"):
        findings.append(ok(AREA, "running", f"the running daemon uses {running['inference_device']}"))
    if probe:
        findings.append(probe_finding())
    return findings


def device_finding(cfg: ModelConfig, ev: dict[str, Any], cpu: str, checked: str) -> Finding:
    if cfg.backend == "tflite":
        return ok(AREA, "device", f"model.backend is tflite: inference runs on {cpu}", **ev)
    if not ev["device_nodes"] and ev["driver"] is None:
        return ok(
            AREA,
            "device",
            f"no GPU (no /dev/nvidia* device, no nvidia kernel module): inference runs on {cpu} ({checked})",
            **ev,
        )
    if not ev["device_nodes"]:
        return warning(
            AREA,
            "device",
            f"the nvidia kernel module is loaded ({ev['driver']}) but there is no "
            f"/dev/nvidia0: TensorFlow cannot open the GPU; inference runs on {cpu}",
            fix="sudo nvidia-modprobe (or reboot); check `nvidia-smi`",
            **ev,
        )
    if ev["libcuda"] is None:
        return warning(
            AREA,
            "device",
            f"an NVIDIA GPU is there ({', '.join(ev['device_nodes'])}) but the driver's "
            f"libcuda.so is not found: TensorFlow will not see it; inference runs on {cpu}",
            fix="install the NVIDIA driver's user-space libraries (Debian: sudo apt install nvidia-driver "
            "libcuda1; Ubuntu: sudo ubuntu-drivers install), then check `nvidia-smi`",
            **ev,
        )
    if ev["tensorflow"] is None or ev["tensorflow_cpu_only"]:
        return warning(
            AREA,
            "device",
            f"an NVIDIA GPU is there but the installed TensorFlow "
            f"({ev['tensorflow'] or 'none'}) cannot use it; inference runs on {cpu}",
            fix=GPU_FIX,
            **ev,
        )
    if len(ev["cuda_packages"]) < len(CUDA_PACKAGES) and ev["system_cudnn"] is None:
        absent = [p for p in CUDA_PACKAGES if p not in ev["cuda_packages"]]
        return warning(
            AREA,
            "device",
            f"an NVIDIA GPU and its driver are there, but the CUDA libraries TensorFlow "
            f"loads are not ({', '.join(absent)} missing): inference runs on {cpu}",
            fix=GPU_FIX,
            **ev,
        )
    return ok(
        AREA,
        "device",
        f"an NVIDIA GPU ({', '.join(ev['device_nodes'])}, driver {ev['driver']}), libcuda and "
        f"TensorFlow's CUDA libraries are there: TensorFlow should run inference on the GPU ({checked}; "
        "`vcamseg doctor --gpu-probe` asks TensorFlow)",
        **ev,
    )


def probe_finding(timeout_s: float = PROBE_TIMEOUT_S) -> Finding:
    """Ask TensorFlow, in a child process (the doctor itself never loads it)."""
    try:
        done = subprocess.run(
            [sys.executable, "-c", PROBE_CODE],
            capture_output=True,
            text=True,
            timeout=timeout_s,
            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
            check=False,
        )
    except subprocess.TimeoutExpired:
        return warning(AREA, "gpu-probe", f"TensorFlow did not list its devices within {timeout_s:g} s")
    lines = done.stdout.strip().splitlines()
    try:
        gpus = json.loads(lines[-1]) if done.returncode == 0 and lines else None
    except ValueError:
        gpus = None
    if gpus is None:
        tail = " ".join(done.stderr.strip().splitlines()[-3:])
        return warning(
            AREA,
            "gpu-probe",
            f"TensorFlow could not be loaded: {tail or 'no output'}",
            fix="pip install -r requirements.lock (or reinstall vcamseg)",
        )
    if gpus:
        return ok(AREA, "gpu-probe", f"TensorFlow sees {', '.join(gpus)}", gpus=gpus)
    return ok(AREA, "gpu-probe", "TensorFlow sees no GPU (inference on the CPU)", gpus=[])
