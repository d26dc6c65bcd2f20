"""`vcamseg doctor`, the device checks against fake sysfs / dev trees and fake ioctls: the
v4l2loopback module (missing, not built, Secure Boot, 0.12 vs 0.13 version strings), the device
(label, exclusive_caps, the 0.12 stuck state, permissions, another producer, a fixed format) and the
cameras' modes. The VM (tests/vcam/test_doctor.py) runs the same checks against the real module."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from tests.doctor_fakes import C920_MODES, GID, RELEASE, USER, VIDEO_GID, YUYV_ONLY_MODES, Camera, Loopback, fake_host
from vcamseg.config import load_config
from vcamseg.doctor import host as host_module
from vcamseg.doctor.cameras import check_cameras
from vcamseg.doctor.loopback import check_loopback
from vcamseg.doctor.module import parse_version
from vcamseg.doctor.report import Finding, Status
from vcamseg.io.loopback import Holder

pytestmark = pytest.mark.pure  # no ../shared, no TensorFlow

MODPROBE = "sudo modprobe v4l2loopback devices=1 video_nr=10 card_label=vcamseg exclusive_caps=1"


def by_check(findings: list[Finding]) -> dict[str, Finding]:
    return {f.check: f for f in findings}


def loopback(tmp_path: Path, config_text: str = "", daemon: dict | None = None, **host_args: object) -> dict:
    return by_check(check_loopback(load_config(text=config_text), fake_host(tmp_path, **host_args), daemon))


# --- the module ---------------------------------------------------------------------------------


def test_module_not_installed(tmp_path: Path) -> None:
    f = loopback(tmp_path, loaded=False, installed=False)["module"]
    assert f.status is Status.PROBLEM
    assert f.message == (
        f"v4l2loopback is not installed for the running kernel {RELEASE} (no v4l2loopback module "
        f"under {tmp_path}/lib/modules/{RELEASE})"
    )
    assert f.fix.startswith(
        f"sudo apt install v4l2loopback-dkms linux-headers-{RELEASE} && {MODPROBE}; to load it at every boot: sudo cp "
    )


def test_module_source_in_dkms_but_not_built_for_this_kernel(tmp_path: Path) -> None:
    f = loopback(tmp_path, loaded=False, installed=False, dkms_versions=("0.13.2",))["module"]
    assert f.status is Status.PROBLEM
    assert "DKMS has its source (0.13.2) but no module built for the running kernel" in f.message
    assert f.fix == f"sudo apt install linux-headers-{RELEASE} && sudo dkms autoinstall -k {RELEASE} && {MODPROBE}"


@pytest.mark.parametrize("secure_boot", [None, False, True])
def test_module_installed_not_loaded(tmp_path: Path, secure_boot: bool | None) -> None:
    f = loopback(tmp_path, loaded=False, secure_boot=secure_boot)["module"]
    assert f.status is Status.PROBLEM
    assert f.message.startswith("v4l2loopback is installed (updates/dkms/v4l2loopback.ko) but not loaded")
    assert f.fix.startswith(MODPROBE + "; to load it at every boot: ")
    blocked = "Secure Boot is on, so if modprobe answers 'Key was rejected by service'"
    assert (blocked in f.message) is bool(secure_boot)
    assert (f"sudo mokutil --import {tmp_path}/var/lib/dkms/mok.pub" in f.fix) is bool(secure_boot)


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("0.13.2", (0, 13, 2)),
        ("0.12.7-2ubuntu1", (0, 12, 7)),
        ("v0.13.2-11-g0123abc", (0, 13, 2)),
        ("0.14", (0, 14)),
        ("snapshot", None),
        ("", None),
    ],
)
def test_version_strings(text: str, parsed: tuple[int, ...] | None) -> None:
    assert parse_version(text) == parsed


def test_version_0_13_is_ok(tmp_path: Path) -> None:
    found = loopback(tmp_path, version="0.13.2")
    assert found["module"].status is Status.OK and found["module"].message == "v4l2loopback is loaded"
    assert found["version"].status is Status.OK
    assert found["version"].message.startswith("v4l2loopback 0.13.2: a restarted daemon can reopen the device")


@pytest.mark.parametrize("version", [None, "0.12.7"])
def test_version_before_0_13_warns_about_issue_442(tmp_path: Path, version: str | None) -> None:
    f = loopback(tmp_path, version=version)["version"]
    assert f.status is Status.WARNING
    shown = "does not publish its version, so it is older than 0.13" if version is None else "0.12.7 is older than 0.13"
    assert shown in f.message and "(v4l2loopback issue #442)" in f.message
    assert "sudo apt install -t bookworm-backports v4l2loopback-dkms" in f.fix
    assert f.fix.endswith(f"after each restart of vcamseg: sudo modprobe -r v4l2loopback && {MODPROBE}")


def test_version_0_14_notes_the_single_reader(tmp_path: Path) -> None:
    f = loopback(tmp_path, version="0.14.0")["version"]
    assert f.status is Status.OK and "since 0.14 one application at a time can read the camera" in f.message


# --- the device ---------------------------------------------------------------------------------


def test_the_default_setup_is_ok(tmp_path: Path) -> None:
    found = loopback(tmp_path)
    assert {k: f.status for k, f in found.items()} == dict.fromkeys(
        ("module", "version", "label", "permissions", "exclusive_caps", "producer"), Status.OK
    )
    assert found["label"].message == f"output.device label:vcamseg is {tmp_path}/dev/video10"
    assert found["exclusive_caps"].message.startswith(f"{tmp_path}/dev/video10: exclusive_caps=1 (applications list")
    assert found["producer"].message == f"no other program writes to {tmp_path}/dev/video10"


def test_a_file_output_needs_no_virtual_camera(tmp_path: Path) -> None:
    found = loopback(tmp_path, "output: {device: out.mp4}", loaded=False)
    assert list(found) == ["output"]
    assert found["output"].message == (
        "output.device is 'out.mp4': frames are written to a file, no virtual camera is used"
    )


def test_label_mismatch(tmp_path: Path) -> None:
    f = loopback(tmp_path, loopbacks={"video0": Loopback(label="Dummy video device (0x0000)")})["label"]
    assert f.status is Status.PROBLEM
    assert f.message == (
        f"no v4l2loopback device has the card label 'vcamseg' that output.device asks for "
        f"(loopback devices: {tmp_path}/dev/video0 ('Dummy video device (0x0000)'))"
    )
    assert f.fix.startswith(f"reload the module with that label: sudo modprobe -r v4l2loopback && {MODPROBE}")


def test_several_devices_and_a_path_or_label(tmp_path: Path) -> None:
    devices = {
        "video10": Loopback(label="obs"),
        "video11": Loopback(label="vcamseg"),
        "video12": Loopback(label="vcamseg"),
    }
    f = loopback(tmp_path, loopbacks=devices)["label"]
    assert f.status is Status.WARNING
    assert f.message == (
        f"several devices have the label 'vcamseg': vcamseg uses {tmp_path}/dev/video11, not {tmp_path}/dev/video12"
    )
    f = loopback(tmp_path, "output: {device: /dev/video10}", loopbacks=devices)["label"]
    assert f.status is Status.OK and f.message.endswith("is a v4l2loopback device (label 'obs')")
    f = loopback(tmp_path, "output: {device: /dev/video3}", loopbacks=devices)["label"]
    assert f.status is Status.PROBLEM and f.message.startswith("output.device /dev/video3 does not exist; loopback")


def test_exclusive_caps_0_is_a_problem(tmp_path: Path) -> None:
    f = loopback(tmp_path, loopbacks={"video10": Loopback(capture=True, output=True)})["exclusive_caps"]
    assert f.status is Status.PROBLEM
    assert f.message == (
        f"{tmp_path}/dev/video10 announces capture and output at once (exclusive_caps=0): Chrome and "
        "Meet do not list it as a camera"
    )
    assert f.fix.startswith(f"sudo modprobe -r v4l2loopback && {MODPROBE}")


def _broken_device_info(path: str) -> None:
    raise OSError(5, "Input/output error")


def test_exclusive_caps_from_the_module_parameter_when_the_device_cannot_be_queried(tmp_path: Path) -> None:
    host = fake_host(tmp_path, exclusive_caps_param="N,N,N,N,N,N,N,N")
    host = dataclasses.replace(host, device_info=_broken_device_info)
    f = by_check(check_loopback(load_config(text=""), host))["exclusive_caps"]
    assert f.status is Status.PROBLEM and "(exclusive_caps=0)" in f.message


def test_the_0_12_stuck_device(tmp_path: Path) -> None:
    """0.12 with exclusive_caps=1 after a writer closed: neither capability, `state` answers EAGAIN."""
    f = loopback(tmp_path, version=None, loopbacks={"video10": Loopback(state=None, capture=False, output=False)})
    assert f["exclusive_caps"].status is Status.PROBLEM
    assert "announces neither capture nor output" in f["exclusive_caps"].message
    assert "(v4l2loopback issue #442)" in f["exclusive_caps"].message
    assert f["exclusive_caps"].fix == f"sudo modprobe -r v4l2loopback && {MODPROBE}"


def test_not_in_the_video_group(tmp_path: Path) -> None:
    f = loopback(tmp_path, groups=frozenset({GID}))
    assert "exclusive_caps" not in f  # nothing more can be checked without opening it
    p = f["permissions"]
    assert p.status is Status.PROBLEM
    assert p.message == (
        f"you cannot open the virtual camera: {tmp_path}/dev/video10 belongs to group video "
        f"(crw-rw----) and you ({USER}) are not in that group"
    )
    assert p.fix == f"sudo usermod -aG video {USER}, then log out and back in"


def test_in_the_video_group_but_not_in_this_session(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(host_module, "group_members", lambda gid: [USER] if gid == VIDEO_GID else [])
    p = loopback(tmp_path, groups=frozenset({GID}))["permissions"]
    assert p.status is Status.PROBLEM and "were added to video, but this login session does not have" in p.message
    assert p.fix.startswith("log out and back in")


def test_a_root_only_node(tmp_path: Path) -> None:
    p = loopback(tmp_path, loopbacks={"video10": Loopback(mode=0o600, gid=0)})["permissions"]
    assert p.status is Status.PROBLEM and "is crw------- root:root: only root may open it" in p.message
    assert p.fix.startswith(f"sudo chgrp video {tmp_path}/dev/video10 && sudo chmod 660")


def test_another_producer(tmp_path: Path) -> None:
    busy = {"video10": Loopback(state="capture", capture=True, output=False, format="YU12:1920x1080@30")}
    obs = {"video10": [Holder(4242, "obs", 2)]}
    f = loopback(tmp_path, loopbacks=busy, holders=obs)["producer"]
    assert f.status is Status.PROBLEM
    assert f.message == (
        f"another program writes to {tmp_path}/dev/video10 (YU12:1920x1080@30): open by obs "
        "(pid 4242); vcamseg cannot publish there (VIDIOC_S_FMT fails with 'Invalid argument' when "
        "the format differs)"
    )
    assert f.fix.startswith("stop it (kill 4242), or give vcamseg a device of its own: sudo modprobe -r v4l2loopback")
    # ... and when the writer is our own daemon, nothing is wrong.
    ours = {"video10": [Holder(77, "vcamseg", 2), Holder(4242, "chrome", 1)]}
    f = loopback(tmp_path / "b", loopbacks=busy, holders=ours, daemon={"pid": 77})["producer"]
    assert f.status is Status.OK
    assert f.message == (
        f"vcamseg (pid 77) writes to {tmp_path}/b/dev/video10 (YU12:1920x1080@30); also open by "
        "chrome (pid 4242) (readers)"
    )


def test_a_vcamseg_daemon_that_does_not_answer_is_not_another_program(tmp_path: Path) -> None:
    busy = {"video10": Loopback(state="capture", capture=True, output=False, format="YU12:1280x720@30")}
    daemon = {"video10": [Holder(77, "python", 2)]}
    argv = {77: ["/home/alice/.venv/bin/python", "-m", "vcamseg", "run", "--config", "c.yaml"]}
    f = loopback(tmp_path, loopbacks=busy, holders=daemon, cmdlines=argv)["producer"]
    assert f.status is Status.WARNING
    assert f.message == (
        f"a vcamseg daemon (pid 77) has {tmp_path}/dev/video10 (YU12:1280x720@30) open, but it did "
        "not answer on the control socket (busy loading, or it uses another "
        "service.control_socket_path)"
    )
    # Another daemon than the one that answered is a second writer, named as such.
    f = loopback(tmp_path / "b", loopbacks=busy, holders=daemon, cmdlines=argv, daemon={"pid": 5})["producer"]
    assert f.status is Status.PROBLEM and "open by vcamseg run (pid 77)" in f.message


def test_a_fixed_format_of_another_size(tmp_path: Path) -> None:
    fixed = {"video10": Loopback(state="output", format="YU12:1920x1080@30")}
    f = loopback(tmp_path, loopbacks=fixed)["producer"]
    assert f.status is Status.WARNING and "its format is fixed at YU12:1920x1080@30" in f.message
    assert "vcamseg will send 1280x720, which VIDIOC_S_FMT refuses" in f.message


# --- cameras ------------------------------------------------------------------------------------


def cameras(tmp_path: Path, config_text: str = "", **host_args: object) -> dict[str, Finding]:
    return by_check(check_cameras(load_config(text=config_text), fake_host(tmp_path, **host_args)))


def test_a_camera_with_mjpg_hd(tmp_path: Path) -> None:
    f = cameras(tmp_path, cameras={"video0": Camera(modes=C920_MODES)})["modes"]
    assert f.status is Status.OK
    assert f.message == f"{tmp_path}/dev/video0 (HD Pro Webcam C920) offers MJPG 1280x720 at 30 fps"
    assert "MJPG 1280x720@30/24/15" in f.details["modes"]


def test_a_camera_without_mjpg_says_what_it_would_give(tmp_path: Path) -> None:
    f = cameras(tmp_path, cameras={"video0": Camera(modes=YUYV_ONLY_MODES)})["modes"]
    assert f.status is Status.WARNING
    assert f.message == (
        f"{tmp_path}/dev/video0 (HD Pro Webcam C920) offers no MJPG (it has YUYV); asked for MJPG "
        "1280x720 at 30 fps, it would give YUYV 1280x720 at 10 fps"
    )
    assert f.fix == "set source.fourcc: YUYV, source.fps: 10"


def test_a_size_the_camera_does_not_have(tmp_path: Path) -> None:
    f = cameras(tmp_path, "source: {width: 1024, height: 576}", cameras={"video0": Camera(modes=C920_MODES)})["modes"]
    assert f.status is Status.WARNING
    assert "has no MJPG 1024x576; the driver would pick MJPG 1280x720 at 30 fps" in f.message
    assert f.fix == "set source.width: 1280 and source.height: 720"


def test_a_rate_the_camera_does_not_reach(tmp_path: Path) -> None:
    f = cameras(tmp_path, "source: {fps: 60}", cameras={"video0": Camera(modes=C920_MODES)})["modes"]
    assert f.status is Status.WARNING and "gives MJPG 1280x720 at 30 fps at most, not 60" in f.message


def test_missing_camera_and_other_cameras(tmp_path: Path) -> None:
    found = cameras(tmp_path, cameras={"video2": Camera(card="Brio", modes=C920_MODES)})
    assert found["source"].status is Status.PROBLEM
    assert found["source"].message.startswith(
        f"camera {tmp_path}/dev/video0 does not exist (cameras found: {tmp_path}/dev/video2)"
    )
    assert found["source"].fix == f"set source.device to one of: {tmp_path}/dev/video2"
    other = found[f"other camera {tmp_path}/dev/video2"]
    assert other.status is Status.OK and "offers MJPG 1280x720 at 30 fps" in other.message


def test_the_source_must_not_be_the_virtual_camera(tmp_path: Path) -> None:
    f = cameras(tmp_path, "source: {device: /dev/video10}")["source"]
    assert f.status is Status.PROBLEM and "is a v4l2loopback device ('vcamseg'), not a camera" in f.message


def test_camera_permissions_and_non_camera_sources(tmp_path: Path) -> None:
    f = cameras(tmp_path, groups=frozenset({GID}), cameras={"video0": Camera(modes=C920_MODES)})["source"]
    assert f.status is Status.PROBLEM and f.message.startswith("you cannot open the camera: ")
    assert cameras(tmp_path, "source: {device: test}")["source"].status is Status.OK
    missing = cameras(tmp_path, "source: {device: nowhere.mp4}")["source"]
    assert missing.status is Status.PROBLEM and "is neither a camera nor an existing file" in missing.message
