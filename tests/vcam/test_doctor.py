"""`vcamseg doctor` against the real v4l2loopback module in the VM: one boot of 0.13.2 runs every
scenario (tests/vcam/guest_doctor.py), one of 0.12.7 the two that only it has (no published version,
the device stuck after a writer left), and these tests assert each report's messages. The cases the
VM cannot make (other version strings, several devices, Secure Boot, a missing DKMS build, GPUs) are
in tests/test_doctor_devices.py and tests/test_doctor.py, on fake trees.

Needs root and qemu, like tests/vcam/test_virtual_camera.py, whose image it shares."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from tests.vcam.test_virtual_camera import OUT, REPO, V4L2VM, VIDEO, built, vm_missing

pytestmark = [pytest.mark.vcam, pytest.mark.slow]
DEV = "/dev/video10"
MODPROBE = "sudo modprobe v4l2loopback devices=1 video_nr=10 card_label=vcamseg exclusive_caps=1"


def run_guest(variant: str, scenarios: str | None = None) -> dict:
    message = vm_missing()
    if message is not None:
        if os.environ.get("VCAMSEG_REQUIRE_VCAM") == "1":
            pytest.fail(message)
        pytest.skip(message)
    build = built(variant)
    out = OUT / f"doctor-{variant}"
    shutil.rmtree(out, ignore_errors=True)
    name = REPO.name
    command = (
        f"cd {name} && export PYTHONPATH=/mnt/host/{name} VCAMSEG_MODEL_DIR=/mnt/host/shared/models "
        f"XDG_CACHE_HOME=/tmp/cache && python tests/vcam/guest_doctor.py --out /mnt/host/{name}/.vcam-out/"
        f"doctor-{variant} --config tests/vcam/light.yaml --video ../{VIDEO}"
        + (f" --scenarios {scenarios}" if scenarios else "")
    )
    done = subprocess.run(
        [str(V4L2VM / "run.sh"), "-t", "2400", "-d", str(REPO.parent), "--", command],
        env=dict(os.environ, V4L2VM_BUILD=str(build)),
        capture_output=True,
        text=True,
        timeout=2500,
    )
    results_file = out / "results.json"
    assert results_file.is_file(), (
        f"no results from the VM (rc {done.returncode}):\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    )
    results = json.loads(results_file.read_text())
    print(f"\ndoctor in the VM (v4l2loopback {variant}), seconds per scenario: {results['timings_s']}")
    assert not [k for k in results if k.endswith("_error")], {k: v for k, v in results.items() if k.endswith("_error")}
    return results


@pytest.fixture(scope="module")
def vm() -> dict:
    return run_guest("0.13")


@pytest.fixture(scope="module")
def vm12() -> dict:
    return run_guest("0.12", "baseline,stuck")


def find(report: dict, area: str, check: str) -> dict:
    return next(f for f in report["findings"] if f["area"] == area and f["check"] == check)


def statuses(report: dict, area: str) -> dict[str, str]:
    return {f["check"]: f["status"] for f in report["findings"] if f["area"] == area}


def test_a_good_setup_has_no_problem(vm: dict) -> None:
    report = vm["baseline"]
    assert statuses(report, "loopback") == dict.fromkeys(
        ("module", "version", "label", "permissions", "exclusive_caps", "producer"), "ok"
    )
    assert find(report, "loopback", "version")["message"].startswith("v4l2loopback 0.13.2: a restarted daemon")
    assert find(report, "loopback", "label")["message"] == f"output.device label:vcamseg is {DEV}"
    assert find(report, "loopback", "exclusive_caps")["message"].startswith(f"{DEV}: exclusive_caps=1 (applications")
    assert find(report, "models", "bodypix")["status"] == "ok"
    assert report["summary"]["problem"] == 0
    assert vm["baseline_cli"]["rc"] == 0 and vm["baseline_cli"]["report"]["ok"] is True


def test_a_real_capture_driver_lists_its_modes_by_ioctl(vm: dict) -> None:
    assert vm["vivid_modprobe"]["rc"] == 0, vm["vivid_modprobe"]
    modes = find(vm["vivid"], "camera", "modes")
    assert modes["status"] in ("ok", "warning") and modes["details"]["modes"]
    assert modes["message"].startswith("/dev/video0 (vivid) ")
    has_mjpg = any(m.startswith("MJPG ") for m in modes["details"]["modes"])
    assert ("offers no MJPG" in modes["message"]) is not has_mjpg


def test_another_writer_is_named(vm: dict) -> None:
    assert vm["other_writer_ready_s"] is not None
    f = find(vm["other_writer"], "loopback", "producer")
    assert f["status"] == "problem"
    assert f["message"].startswith(f"another program writes to {DEV} (YU12:640x480@30): open by ")
    assert f"(pid {vm['other_writer_pid']})" in f["message"]
    assert f["fix"].startswith(f"stop it (kill {vm['other_writer_pid']}), or give vcamseg a device of its own")
    assert find(vm["other_writer"], "loopback", "exclusive_caps")["message"].startswith(
        f"{DEV}: exclusive_caps=1, and a producer writes to it"
    )
    assert vm["other_writer_released_s"] is not None  # 0.13: the device is ready for a new writer


def test_our_own_daemon_is_not_another_writer(vm: dict) -> None:
    assert vm["daemon_publishing_s"] is not None, vm["daemon_log_tail"]
    report = vm["daemon"]
    f = find(report, "loopback", "producer")
    assert f["status"] == "ok" and f["message"].startswith(f"vcamseg (pid {vm['daemon_pid']}) writes to {DEV}")
    daemon = find(report, "daemon", "status")
    assert daemon["status"] == "ok" and daemon["message"].startswith(f"vcamseg 0.1.0 runs (pid {vm['daemon_pid']}")
    # Not reachable on its socket, it is still recognised by its command line.
    f = find(vm["daemon_unreachable"], "loopback", "producer")
    assert f["status"] == "warning"
    assert f["message"].startswith(f"a vcamseg daemon (pid {vm['daemon_pid']}) has {DEV} (YU12:320x240@")
    assert find(vm["daemon_unreachable"], "daemon", "status")["status"] == "warning"


def test_a_user_outside_the_video_group(vm: dict) -> None:
    f = find(vm["user_not_in_group"], "loopback", "permissions")
    assert f["status"] == "problem"
    assert f["message"] == (
        f"you cannot open the virtual camera: {DEV} belongs to group video (crw-rw----) and you "
        "(tester) are not in that group"
    )
    assert f["fix"] == "sudo usermod -aG video tester, then log out and back in"
    f = find(vm["user_group_not_in_session"], "loopback", "permissions")
    assert (
        f["status"] == "problem"
        and "you (tester) were added to video, but this login session does not have the group yet" in f["message"]
    )
    f = find(vm["user_in_group"], "loopback", "permissions")
    assert f["status"] == "ok" and f["message"] == f"{DEV} is readable and writable for you (tester)"


def test_a_read_only_cache(vm: dict) -> None:
    f = find(vm["ro_cache_local_models"], "models", "cache")
    assert f["status"] == "warning"
    assert f["message"].startswith(
        "the cache /tmp/rocache/vcamseg is not writable (Read-only file system); the model "
        "files are there, but TFLite conversions"
    )
    report = vm["ro_cache_no_models"]
    assert find(report, "models", "cache")["status"] == "problem"
    bodypix = find(report, "models", "bodypix")
    assert bodypix["status"] == "problem" and "the cache cannot be written to download it" in bodypix["message"]


def test_exclusive_caps_0(vm: dict) -> None:
    assert vm["exclusive_caps_0_reload"]["rc"] == 0
    f = find(vm["exclusive_caps_0"], "loopback", "exclusive_caps")
    assert f["status"] == "problem"
    assert f["message"] == (
        f"{DEV} announces capture and output at once (exclusive_caps=0): Chrome and Meet do not list it as a camera"
    )
    assert f["fix"].startswith(f"sudo modprobe -r v4l2loopback && {MODPROBE}")


def test_the_module_loaded_without_the_label(vm: dict) -> None:
    assert vm["no_label_reload"]["rc"] == 0
    f = find(vm["no_label"], "loopback", "label")
    assert f["status"] == "problem"
    assert f["message"].startswith(
        f"no v4l2loopback device has the card label 'vcamseg' that output.device asks for "
        f"(loopback devices: {DEV} ('Dummy video device"
    )


def test_a_missing_module(vm: dict) -> None:
    assert vm["no_module_unload"] == 0
    f = find(vm["no_module"], "loopback", "module")
    assert f["status"] == "problem"
    assert f["message"] == (
        "v4l2loopback is installed (updates/dkms/v4l2loopback.ko) but not loaded: there is no virtual camera"
    )
    assert f["fix"].startswith(f"{MODPROBE}; to load it at every boot: sudo cp ")
    assert vm["no_module_cli"]["rc"] == 1 and vm["no_module_cli"]["report"]["ok"] is False


def test_0_12_is_recognised_by_its_missing_version(vm12: dict) -> None:
    f = find(vm12["baseline"], "loopback", "version")
    assert f["status"] == "warning"
    assert f["message"].startswith("v4l2loopback does not publish its version, so it is older than 0.13")
    assert "(v4l2loopback issue #442)" in f["message"]
    assert find(vm12["baseline"], "loopback", "exclusive_caps")["status"] == "ok"


def test_0_12_stuck_after_a_writer_left(vm12: dict) -> None:
    assert vm12["stuck_writer_ready_s"] is not None
    f = find(vm12["stuck"], "loopback", "exclusive_caps")
    assert f["status"] == "problem"
    assert f["message"].startswith(f"{DEV} announces neither capture nor output: a writer closed it")
    assert f["fix"] == f"sudo modprobe -r v4l2loopback && {MODPROBE}"
