"""systemd/vcamseg.service proven under a real systemd user manager: one boot of the VM
(tests/vcam/guest_systemd.py starts cgroup2 delegation, journald and `systemd --user` for a user
in group video) installs the unit with `vcamseg service install`, starts it with `systemctl --user
enable --now`, and checks what the unit promises; these tests assert on its results.

Needs root and qemu, like tests/vcam/test_virtual_camera.py (its "systemd" image: systemd and
dbus added). Emulation is ~100x slower than native: how long things took there is printed, and
no wait is asserted: the watchdog is proven by systemd's own "Watchdog timeout" record.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from tests.vcam.test_virtual_camera import OUT, REPO, V4L2VM, VIDEO, built, vm_missing

pytestmark = [pytest.mark.vcam, pytest.mark.slow]


@pytest.fixture(scope="module")
def vm() -> dict:
    message = vm_missing()
    if message is not None:
        if os.environ.get("VCAMSEG_REQUIRE_VCAM") == "1":
            pytest.fail(message)
        pytest.skip(message)
    build = built("systemd")
    out = OUT / "systemd"
    shutil.rmtree(out, ignore_errors=True)
    name = REPO.name
    command = (
        f"cd {name} && export PYTHONPATH=/mnt/host/{name} && python tests/vcam/guest_systemd.py "
        f"--out /mnt/host/{name}/.vcam-out/systemd --video ../{VIDEO} --models ../shared/models"
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
    print(f"\nsystemd user service in the VM, seconds per step: {results['timings_s']}")
    print(json.dumps({k: v for k, v in results.items() if k not in ("service_log_tail",)}, indent=1)[:6000])
    errors = {k: v for k, v in results.items() if k.endswith("_error")}
    tails = f"manager: {results.get('manager_log_tail')}\nservice: {results.get('service_log_tail')}"
    assert not errors, f"{errors}\n{tails}"
    return results


def test_a_real_user_manager_runs(vm: dict) -> None:
    assert vm["manager_state"] in ("running", "degraded"), vm.get("manager_log_tail")
    assert vm["journald_up_s"] is not None


def test_install_then_enable_now_reaches_ready(vm: dict) -> None:
    assert vm["install"]["rc"] == 0, vm["install"]
    assert vm["unit_exec_start"].endswith(" -m vcamseg run") or vm["unit_exec_start"].endswith("/vcamseg run")
    assert vm["enable_now"]["rc"] == 0, vm["enable_now"]  # returns once READY=1 came (Type=notify)
    assert vm["ready_s"] is not None and vm["first_pid"] > 0
    assert vm["enabled"] == "enabled"


def test_the_camera_is_read_from_the_service(vm: dict) -> None:
    f = vm["ffmpeg"]
    assert f["shape"] == [240, 320, 3]
    assert f["green_frames"] >= 10  # the configured replace colour: the service's own config


def test_a_config_file_edit_applies_live(vm: dict) -> None:
    assert vm["edit_logged_s"] is not None
    assert vm["edit"]["red_frames"] >= 10 and vm["edit"]["same_pid"]


def test_systemctl_reload_rereads_the_config(vm: dict) -> None:
    assert vm["reload"]["rc"] == 0, vm["reload"]
    assert vm["reload_logged_s"] is not None and vm["reload"]["same_pid"]


def test_an_invalid_edit_is_logged_and_the_daemon_keeps_running(vm: dict) -> None:
    assert vm["invalid_logged_s"] is not None and vm["invalid_same_pid"]


def test_a_hung_daemon_is_killed_and_restarted_by_the_watchdog(vm: dict) -> None:
    w = vm["watchdog"]
    assert w["watchdog"] == "30s"  # the unit's WatchdogSec, as systemd applied it
    assert "watchdog" in w["results_seen"], w  # systemd's own record: Result=watchdog
    assert "2/6" in w["ends_seen"] or "3/6" in w["ends_seen"], w  # killed/dumped by SIGABRT (WatchdogSignal)
    assert w["killed_after_s"] is not None and w["back"] is not None
    assert w["new_pid"] not in (0, w["old_pid"]) and w["restarts"] == 1


def test_a_crash_is_restarted(vm: dict) -> None:
    c = vm["crash"]
    assert c["back"] is not None and c["new_pid"] not in (0, c["old_pid"]) and c["restarts"] == 1
    assert "2/11" in c["ends_seen"] or "3/11" in c["ends_seen"], c  # CLD_KILLED / CLD_DUMPED by SIGSEGV
    assert c["results_seen"] and set(c["results_seen"]) <= {"success", "signal", "core-dump"}, c


def test_the_journal_has_the_log_with_priorities(vm: dict) -> None:
    j = vm["journal"]
    assert j["daemon_entries"] > 10
    assert j["user_unit"] == ["vcamseg.service"]
    assert {"6", "3"} <= set(j["priorities"])  # INFO lines, and the invalid edit's error
    assert j["prefixed"] == []  # journald took the <N> prefixes as priorities, not as text
    assert "config not applied" in j["examples"]["3"]
    assert any("config not applied" in line for line in j["errors_only"])  # journalctl -p err


def test_the_hardening_lines_do_not_break_it(vm: dict) -> None:
    h = vm["hardening"]
    assert h["no_new_privs"]  # NoNewPrivileges is in force
    assert h["socket"] and vm["vcamseg_status"]["rc"] == 0  # RuntimeDirectory: the control socket answers


@pytest.mark.xfail(
    strict=True,
    reason="systemd 252's user manager leaves the mount namespace alone: ProtectSystem, ProtectHome "
    "and PrivateTmp take no effect for a user service (PrivateUsers=yes would be needed; with the "
    "unit's other options it fails the start, 226/NAMESPACE) - open",
)
def test_the_mount_sandbox_is_in_force(vm: dict) -> None:
    h = vm["hardening"]
    assert h["root"] == "ro" and h["home"] == "ro", vm["mountinfo"]  # ProtectSystem=strict, ProtectHome


def test_stop_is_clean(vm: dict) -> None:
    s = vm["stop"]
    assert s["rc"] == 0 and s["ActiveState"] == "inactive" and s["Result"] == "success"
