"""The systemd user unit: the committed files are the rendered ones, systemd accepts the unit
(`systemd-analyze --user verify`, no warnings), and `vcamseg service install` writes it for this
installation."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from vcamseg.config import Config, load_config
from vcamseg.io.loopback import MODPROBE_HINT, MODPROBE_OPTIONS
from vcamseg.service.install import (
    MODPROBE_NAME,
    MODPROBE_SNIPPET,
    MODULES_LOAD_NAME,
    MODULES_LOAD_SNIPPET,
    exec_line,
    installed_command,
    render_unit,
)

pytestmark = pytest.mark.pure  # no ../shared, no TensorFlow

SYSTEMD = Path(__file__).resolve().parents[1] / "systemd"


def _verify(unit: Path, runtime_dir: Path) -> subprocess.CompletedProcess[str]:
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed")
    # --user needs a runtime directory for the user manager it simulates.
    runtime_dir.mkdir(parents=True, exist_ok=True)
    return subprocess.run(
        ["systemd-analyze", "--user", "verify", str(unit)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "XDG_RUNTIME_DIR": str(runtime_dir)},
    )


def test_the_committed_files_are_the_rendered_ones() -> None:
    assert (SYSTEMD / "vcamseg.service").read_text() == render_unit()
    assert (SYSTEMD / "modprobe.d" / MODPROBE_NAME).read_text() == MODPROBE_SNIPPET
    assert (SYSTEMD / "modules-load.d" / MODULES_LOAD_NAME).read_text() == MODULES_LOAD_SNIPPET
    assert "options v4l2loopback devices=1 video_nr=10 card_label=vcamseg exclusive_caps=1" in MODPROBE_SNIPPET
    assert f"\noptions v4l2loopback {MODPROBE_OPTIONS}\n" in MODPROBE_SNIPPET, "rendered from the one copy"
    # The default output finds the device by that label.
    assert Config().output.device == "label:vcamseg"


def test_the_readme_gives_the_one_modprobe_line() -> None:
    readme = (SYSTEMD.parent / "README.md").read_text()
    # Every one-device line (a second device for another program is a different instruction).
    given = [line.strip() for line in re.findall(r"sudo modprobe v4l2loopback devices=1 [^`\n;]*", readme)]
    assert given and set(given) == {MODPROBE_HINT}, given


def test_the_unit_is_what_the_daemon_needs() -> None:
    unit = render_unit()
    for line in (
        "Type=notify",
        "WatchdogSec=30",
        "Restart=on-failure",
        "ExecReload=/bin/kill -HUP $MAINPID",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "ProtectHome=read-only",
        "ReadWritePaths=-%h/.config/vcamseg -%h/.cache/vcamseg",
        "RuntimeDirectory=vcamseg",
        "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6",
        "WantedBy=default.target",
    ):
        assert f"\n{line}\n" in unit, line
    # Nothing that would hide the camera or break TensorFlow's generated code.
    for absent in ("PrivateDevices", "MemoryDenyWriteExecute", "SystemCallFilter", "DevicePolicy"):
        assert f"\n{absent}=" not in unit


def test_systemd_accepts_the_unit(tmp_path: Path) -> None:
    unit = tmp_path / "vcamseg.service"
    unit.write_text(render_unit(exec_line([sys.executable, "-m", "vcamseg"])))
    result = _verify(unit, tmp_path / "runtime")
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "", result.stderr  # unknown keys and bad values are only warnings


def test_service_install_writes_the_unit_and_the_example_config(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "TF_CPP_MIN_LOG_LEVEL": "3",
    }

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "vcamseg", "service", "install", *args],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
        )

    dry = cli("--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert f"\nExecStart={exec_line(installed_command())}\n" in dry.stdout
    assert not (tmp_path / "config").exists()  # a dry run writes nothing

    result = cli()
    assert result.returncode == 0, result.stderr
    unit = tmp_path / "config" / "systemd" / "user" / "vcamseg.service"
    assert unit.read_text() == dry.stdout
    assert f"ReadWritePaths=-{tmp_path / 'config' / 'vcamseg'} -{tmp_path / 'cache' / 'vcamseg'}" in dry.stdout
    assert (tmp_path / "cache" / "vcamseg").is_dir()
    assert load_config(tmp_path / "config" / "vcamseg" / "config.yaml") == Config()
    for step in (
        "systemctl --user daemon-reload && systemctl --user enable --now vcamseg",
        "journalctl --user -u vcamseg -f",
        f"sudo cp {SYSTEMD / 'modprobe.d' / MODPROBE_NAME} /etc/modprobe.d/",
        f"sudo cp {SYSTEMD / 'modules-load.d' / MODULES_LOAD_NAME} /etc/modules-load.d/",
    ):
        assert step in result.stdout, step
    verified = _verify(unit, tmp_path / "runtime")
    assert verified.returncode == 0 and verified.stderr.strip() == "", verified.stderr
