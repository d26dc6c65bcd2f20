"""`vcamseg doctor` beyond the devices: the config file, the model files and the cache (real files from
../shared, verified read-only), the inference device (fake /dev and /sys), the systemd unit (a fake
systemctl), the daemon (a fake control socket), the report (text, JSON, exit status) and the command
itself (it never loads TensorFlow)."""

from __future__ import annotations

import errno
import json
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.doctor_fakes import fake_host
from tests.helpers import REPO
from vcamseg.config import load_config
from vcamseg.config.model import ModelConfig
from vcamseg.doctor import models as doctor_models
from vcamseg.doctor.configfile import load_checked
from vcamseg.doctor.daemon import query_daemon
from vcamseg.doctor.host import CommandResult
from vcamseg.doctor.inference import check_inference
from vcamseg.doctor.models import check_models
from vcamseg.doctor.report import Report, Status, ok, problem, warning
from vcamseg.doctor.systemd import check_systemd, exec_start
from vcamseg.service.install import install

FLOAT_050 = "bodypix/mobilenet/float/050"


def by_check(findings: list) -> dict:
    return {f.check: f for f in findings}


# --- config -----------------------------------------------------------------------------------


def test_config_file_valid_with_changed_keys(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("source: {device: /dev/video2, fps: 15}\neffects: [{type: mirror}]\n")
    config, f = load_checked(path, path)
    assert config.source.fps == 15
    assert f.status is Status.OK
    assert f.message == f"{path}: valid; these keys differ from the defaults: effects, source.device, source.fps"
    assert f.details["changed"] == ["effects", "source.device", "source.fps"]
    _, f = load_checked(None, path, ["pipeline.segment_every_n_frames=1"])
    assert f.message == (
        "no config file (the defaults) + --set pipeline.segment_every_n_frames=1: valid; these keys "
        "differ from the defaults: pipeline.segment_every_n_frames"
    )


def test_config_file_invalid_and_absent(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("source:\n  fps: fast\n")
    config, f = load_checked(path, path)
    assert config.source.fps == 30  # the defaults, for the other checks
    assert f.status is Status.PROBLEM
    assert f.message == (
        f"invalid configuration: {path}:2: source.fps: expected a number (given: 'fast') "
        "(the checks below use the defaults)"
    )
    _, f = load_checked(None, tmp_path / "none.yaml")
    assert f.status is Status.OK and f.message.endswith("does not exist): every key has its default")


# --- models -----------------------------------------------------------------------------------


def test_models_in_the_local_folder_are_verified(models_dir: Path, tmp_path: Path) -> None:
    found = by_check(check_models(ModelConfig(dir=models_dir, cache_dir=tmp_path / "cache", selfie="auto")))
    assert found["bodypix"].status is Status.OK
    assert found["bodypix"].message == (
        f"BodyPix mobilenet-050-float-s16 in the local model folder ({models_dir}), 2.5 MB, verified (pinned sha256)"
    )
    assert found["selfie-landscape"].status is Status.OK and found["selfie-general"].status is Status.OK
    assert found["cache"].status is Status.OK
    assert found["cache"].message == f"the cache {tmp_path}/cache does not exist yet and can be created (in {tmp_path})"


def _cached_copy(models_dir: Path, cache: Path) -> Path:
    target = cache / "models" / FLOAT_050
    shutil.copytree(models_dir / FLOAT_050, target)
    for path in target.iterdir():
        path.chmod(0o644)
    return target


def test_a_damaged_cache_is_reported_and_left_alone(
    models_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VCAMSEG_MODEL_DIR")
    folder = _cached_copy(models_dir, tmp_path)
    shard = folder / "group1-shard1of1.bin"
    cfg = ModelConfig(cache_dir=tmp_path)
    assert by_check(check_models(cfg))["bodypix"].status is Status.OK
    with shard.open("r+b") as fh:  # same size, other bytes: only the sha256 can tell
        fh.seek(1000)
        fh.write(b"\xff" * 16)
    f = by_check(check_models(cfg))["bodypix"]
    assert f.status is Status.PROBLEM
    assert f.message == (
        f"BodyPix mobilenet-050-float-s16 in the cache is damaged: {shard} is corrupted (its sha256 "
        "is not the pinned sha256)"
    )
    assert f.fix == "vcamseg models fetch mobilenet-050-float-s16 (it replaces damaged cached files)"
    shard.write_bytes(shard.read_bytes()[:-10])
    assert "has 2419830 bytes but should have 2419840" in by_check(check_models(cfg))["bodypix"].message
    assert shard.exists()  # the doctor deletes nothing (loading would, then download again)


def test_missing_models_and_downloads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VCAMSEG_MODEL_DIR")
    f = by_check(check_models(ModelConfig(cache_dir=tmp_path)))["bodypix"]
    assert f.status is Status.WARNING and f.message.startswith("BodyPix mobilenet-050-float-s16 is not downloaded yet")
    assert f.fix == "vcamseg models fetch mobilenet-050-float-s16"
    f = by_check(check_models(ModelConfig(cache_dir=tmp_path, download=False)))["bodypix"]
    assert f.status is Status.PROBLEM and "downloads are off (model.download: false)" in f.message


def test_a_read_only_cache(models_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The VM mounts a really read-only one (tests/vcam/test_doctor.py); here the probe is refused."""

    def refused(**kwargs: object) -> None:
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(doctor_models.tempfile, "NamedTemporaryFile", refused)
    (tmp_path / "cache").mkdir()
    found = by_check(check_models(ModelConfig(dir=models_dir, cache_dir=tmp_path / "cache")))
    assert found["cache"].status is Status.WARNING
    assert found["cache"].message == (
        f"the cache {tmp_path}/cache is not writable (Read-only file system); the model "
        "files are there, but TFLite conversions and the int8 calibration are redone at "
        "every start (slower start)"
    )
    monkeypatch.delenv("VCAMSEG_MODEL_DIR")
    found = by_check(check_models(ModelConfig(cache_dir=tmp_path / "cache")))
    assert found["cache"].status is Status.PROBLEM and found["bodypix"].status is Status.PROBLEM
    assert "the cache cannot be written to download it" in found["bodypix"].message


# --- inference --------------------------------------------------------------------------------


def _nvidia(root: Path, nodes: bool = True) -> None:
    (root / "sys" / "module" / "nvidia").mkdir(parents=True)
    (root / "sys" / "module" / "nvidia" / "version").write_text("550.127.05\n")
    if nodes:
        for name in ("nvidia0", "nvidiactl"):
            (root / "dev" / name).touch()


def test_no_gpu_means_the_cpu(tmp_path: Path) -> None:
    f = by_check(check_inference(ModelConfig(threads=4), fake_host(tmp_path)))["device"]
    assert f.status is Status.OK
    assert f.message.startswith(
        "no GPU (no /dev/nvidia* device, no nvidia kernel module): inference runs on the CPU: "
        "TFLite with XNNPACK (int8, 4 threads) (checked /dev/nvidia*"
    )
    assert f.message.endswith("TensorFlow not loaded)")


def test_a_gpu_without_the_cuda_libraries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    host = fake_host(tmp_path)
    _nvidia(tmp_path)
    monkeypatch.setattr("ctypes.util.find_library", lambda name: "libcuda.so.1" if name == "cuda" else None)
    f = by_check(check_inference(ModelConfig(), host))["device"]
    assert f.status is Status.WARNING
    assert "an NVIDIA GPU and its driver are there, but the CUDA libraries TensorFlow loads are not" in f.message
    assert f.fix == "pip install 'vcamseg[gpu]' in vcamseg's environment (it adds tensorflow[and-cuda])"
    monkeypatch.setattr("ctypes.util.find_library", lambda name: None)
    f = by_check(check_inference(ModelConfig(), host))["device"]
    assert f.status is Status.WARNING and "the driver's libcuda.so is not found" in f.message


def test_a_driver_without_device_nodes_and_the_tflite_backend(tmp_path: Path) -> None:
    host = fake_host(tmp_path)
    _nvidia(tmp_path, nodes=False)
    f = by_check(check_inference(ModelConfig(), host))["device"]
    assert f.status is Status.WARNING and "no /dev/nvidia0" in f.message
    f = by_check(check_inference(ModelConfig(backend="tflite", threads=2), host))["device"]
    assert f.status is Status.OK and f.message == (
        "model.backend is tflite: inference runs on the CPU: TFLite with XNNPACK (int8, 2 threads)"
    )


# --- systemd ----------------------------------------------------------------------------------


def _show(**props: str) -> CommandResult:
    return CommandResult(0, "".join(f"{k}={v}\n" for k, v in props.items()), "")


def test_unit_not_installed(tmp_path: Path) -> None:
    f = by_check(check_systemd(fake_host(tmp_path), tmp_path / "vcamseg.service"))["unit"]
    assert f.status is Status.WARNING
    assert f.fix == (
        "vcamseg service install && systemctl --user daemon-reload && systemctl --user enable --now vcamseg"
    )


def test_unit_installed_enabled_active(tmp_path: Path) -> None:
    unit = tmp_path / "vcamseg.service"
    unit.write_text(install(dry_run=True)[0])
    host = fake_host(
        tmp_path,
        systemctl=_show(
            LoadState="loaded", ActiveState="active", SubState="running", UnitFileState="enabled", NeedDaemonReload="no"
        ),
    )
    found = by_check(check_systemd(host, unit))
    assert {k: f.status for k, f in found.items()} == dict.fromkeys(("exec", "unit", "enabled", "active"), Status.OK)
    assert found["exec"].message.endswith("run (this installation)")


def test_a_dangling_exec_start_after_a_reinstall(tmp_path: Path) -> None:
    unit = tmp_path / "vcamseg.service"
    text = install(dry_run=True)[0]
    old = next(line for line in text.splitlines() if line.startswith("ExecStart="))
    unit.write_text(text.replace(old, "ExecStart=/home/alice/old-venv/bin/vcamseg run"))
    assert exec_start(unit.read_text()) == ["/home/alice/old-venv/bin/vcamseg", "run"]
    host = fake_host(
        tmp_path,
        systemctl=_show(
            LoadState="loaded",
            ActiveState="failed",
            SubState="failed",
            UnitFileState="enabled",
            Result="exit-code",
            ExecMainStatus="203",
        ),
    )
    found = by_check(check_systemd(host, unit))
    assert found["exec"].status is Status.PROBLEM
    assert found["exec"].message == (
        "the unit runs /home/alice/old-venv/bin/vcamseg, which does not exist any more "
        "(vcamseg reinstalled elsewhere, or its venv removed): the service cannot start"
    )
    assert found["exec"].fix == (
        "vcamseg service install && systemctl --user daemon-reload && systemctl --user restart vcamseg"
    )
    assert found["unit"].status is Status.WARNING
    assert found["active"].status is Status.PROBLEM and "Result=exit-code, exit status 203" in found["active"].message


def test_no_user_manager(tmp_path: Path) -> None:
    unit = tmp_path / "vcamseg.service"
    unit.write_text(install(dry_run=True)[0])
    host = fake_host(tmp_path, systemctl=CommandResult(1, "", "Failed to connect to bus: No medium found\n"))
    f = by_check(check_systemd(host, unit))["manager"]
    assert f.status is Status.WARNING
    assert f.message == "cannot ask the systemd user manager (Failed to connect to bus: No medium found)"


# --- daemon -----------------------------------------------------------------------------------


@pytest.fixture
def fake_daemon(tmp_path: Path) -> Iterator[tuple[Path, dict]]:
    """A control socket answering `status` as the daemon does (one request per connection)."""
    path = tmp_path / "control.sock"
    status = {
        "version": "0.1.0",
        "pid": 4321,
        "uptime_s": 12.0,
        "idle": False,
        "pipeline": {
            "state": {"source": "running", "sink": "open", "readers": "yes"},
            "inference_device": "CPU (TFLite XNNPACK, 2 threads)",
            "fps": {"now": 29.9},
        },
        "last_reload": {"ok": True, "message": "started"},
    }
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen()

    def serve() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            with conn, conn.makefile("rwb") as stream:
                stream.readline()
                stream.write(json.dumps({"ok": True, "status": status}).encode() + b"\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield path, status
    server.close()


def test_the_running_daemon(fake_daemon: tuple[Path, dict], tmp_path: Path) -> None:
    path, status = fake_daemon
    got, f = query_daemon(load_config(text=""), path)
    assert got == status and f.status is Status.OK
    assert f.message == (
        "vcamseg 0.1.0 runs (pid 4321, up 12 s): active, source running, output open, readers yes, 29.9 fps"
    )
    f = by_check(check_inference(ModelConfig(), fake_host(tmp_path), daemon=got))["running"]
    assert f.message == "the running daemon uses CPU (TFLite XNNPACK, 2 threads)"
    status["last_reload"] = {"ok": False, "message": "effects.0.blur: not a number"}
    assert "the last reload failed: effects.0.blur: not a number" in query_daemon(load_config(text=""), path)[1].message


def test_no_daemon(tmp_path: Path) -> None:
    status, f = query_daemon(load_config(text=""), tmp_path / "nobody.sock")
    assert status is None and f.status is Status.WARNING
    assert f.message == f"no vcamseg daemon is running (nothing listens on {tmp_path}/nobody.sock)"


# --- the report and the command ---------------------------------------------------------------


def test_report_exit_status_and_json() -> None:
    report = Report([ok("config", "file", "fine"), warning("models", "cache", "low", fix="free it")])
    assert report.exit_code == 0
    report.extend([problem("loopback", "module", "not loaded", fix="sudo modprobe v4l2loopback")])
    assert report.exit_code == 1
    doc = report.to_json()
    assert doc["ok"] is False and doc["summary"] == {"ok": 1, "warning": 1, "problem": 1}
    assert [f["area"] for f in doc["findings"]] == ["config", "loopback", "models"]  # the AREAS order
    text = report.render_text()
    assert "  problem  module: not loaded\n           fix: sudo modprobe v4l2loopback" in text
    assert text.endswith("1 problem, 1 warning, 1 ok")


def test_the_command_never_loads_tensorflow_and_exits_1_on_a_problem(tmp_path: Path) -> None:
    """A label no device has is a problem on any machine (module loaded or not): exit status 1."""
    config = tmp_path / "config.yaml"
    config.write_text("output: {device: 'label:no-such-camera'}\n")
    code = (
        "import json, sys; from vcamseg.cli.main import main; "
        f"rc = main(['doctor', '--json', '--config', {str(config)!r}]); "
        "print(json.dumps({'rc': rc, 'tf': 'tensorflow' in sys.modules}), file=sys.stderr)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120)
    doc = json.loads(done.stdout)
    tail = json.loads(done.stderr.strip().splitlines()[-1])
    assert tail == {"rc": 1, "tf": False}
    assert {f["area"] for f in doc["findings"]} == {
        "python",
        "config",
        "loopback",
        "camera",
        "models",
        "inference",
        "systemd",
        "daemon",
    }
    assert all(f["status"] in ("ok", "warning", "problem") for f in doc["findings"])
    assert all(f["fix"] for f in doc["findings"] if f["status"] == "problem")  # every problem has its fix


def test_the_doctor_sits_between_service_and_cli() -> None:
    """It imports config, models, io, service.client and service.install; never segmentation, the
    pipeline, effects or cli (and so not TensorFlow or OpenCV)."""
    code = (
        "import json, sys, vcamseg.doctor; print(json.dumps(sorted(m for m in sys.modules "
        "if m.startswith('vcamseg.') or m in ('cv2', 'tensorflow'))))"
    )
    loaded = json.loads(
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True, timeout=60
        ).stdout
    )
    layers = {name.split(".")[1] for name in loaded if name.startswith("vcamseg.")}
    base = {"errors", "paths", "atomic", "imaging", "logs", "body"}
    assert layers <= base | {"doctor", "config", "models", "io", "service"}, layers
    assert not {"cv2", "tensorflow"} & set(loaded)
    assert {m for m in loaded if m.startswith("vcamseg.service.")} <= {
        "vcamseg.service.client",
        "vcamseg.service.install",
    }


def test_doctor_checks_a_shard_pinned_by_git_blob_id(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The shards we could not hold are pinned by git blob id: the doctor verifies them by it (the
    real float 0.50 shard stands in, pinned that way)."""
    import hashlib

    from tests.paths import SHARED
    from vcamseg.models.catalogue import PINNED
    from vcamseg.models.official_blobs import PINNED_GIT_BLOBS

    relpath = "bodypix/mobilenet/float/050/group1-shard1of1.bin"
    shard = tmp_path / "shard.bin"
    shutil.copyfile(SHARED / "models" / relpath, shard)
    data = shard.read_bytes()
    monkeypatch.setitem(
        PINNED_GIT_BLOBS, relpath, (len(data), hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest())
    )
    monkeypatch.delitem(PINNED, relpath)
    assert doctor_models.file_problem(shard, relpath, {}) == (None, "pinned git blob id")
    shard.write_bytes(data[:999] + bytes([data[999] ^ 1]) + data[1000:])
    found, how = doctor_models.file_problem(shard, relpath, {})
    assert found is not None and "git blob id" in found and how == "pinned git blob id"
