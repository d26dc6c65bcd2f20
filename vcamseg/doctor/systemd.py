"""The systemd user service: the unit installed, its ExecStart still pointing at an existing vcamseg
(a reinstall into a new venv leaves it dangling), the unit as this version writes it, and what the
user manager says (enabled, active, failed, changed on disk). `systemctl --user show` only, with a
timeout; nothing is started or reloaded."""

from __future__ import annotations

import os
import shlex
from pathlib import Path

from vcamseg.doctor.host import Host
from vcamseg.doctor.report import Finding, ok, problem, warning
from vcamseg.service.install import UNIT_NAME, install, installed_command, unit_path

AREA = "systemd"
INSTALL = "vcamseg service install && systemctl --user daemon-reload"
PROPERTIES = ("LoadState", "ActiveState", "SubState", "UnitFileState", "Result", "NeedDaemonReload", "ExecMainStatus")


def exec_start(unit_text: str) -> list[str] | None:
    """ExecStart's command line as systemd splits it, with %h and %% expanded."""
    for line in unit_text.splitlines():
        if line.strip().startswith("ExecStart="):
            value = line.split("=", 1)[1].strip().lstrip("@-:+!")
            try:
                words = shlex.split(value)
            except ValueError:
                return None
            return [w.replace("%h", str(Path.home())).replace("%%", "%") for w in words]
    return None


def check_systemd(host: Host, path: Path | None = None) -> list[Finding]:
    unit = path or unit_path()
    try:
        text = unit.read_text(encoding="utf-8")
    except FileNotFoundError:
        return [
            warning(
                AREA,
                "unit",
                f"the user unit {unit} is not installed (fine when you start `vcamseg run` yourself)",
                fix=f"{INSTALL} && systemctl --user enable --now vcamseg",
            )
        ]
    except OSError as exc:
        return [problem(AREA, "unit", f"cannot read {unit} ({exc.strerror})", fix=f"check its permissions; {INSTALL}")]
    findings = [exec_finding(unit, text), current_finding(unit, text)]
    findings += manager_findings(host)
    return findings


def exec_finding(unit: Path, text: str) -> Finding:
    command = exec_start(text)
    reinstall = f"{INSTALL} && systemctl --user restart vcamseg"
    if not command:
        return problem(AREA, "exec", f"{unit} has no readable ExecStart line", fix=reinstall)
    program = command[0]
    if not (os.path.isfile(program) and os.access(program, os.X_OK)):
        return problem(
            AREA,
            "exec",
            f"the unit runs {program}, which does not exist any more (vcamseg reinstalled "
            "elsewhere, or its venv removed): the service cannot start",
            fix=reinstall,
            exec_start=command,
        )
    mine = installed_command()
    if command[: len(mine)] != mine:
        return warning(
            AREA,
            "exec",
            f"the unit runs {' '.join(command)}, but this vcamseg is {' '.join(mine)}",
            fix=f"{reinstall} (from the installation you want the service to run)",
            exec_start=command,
        )
    return ok(AREA, "exec", f"the unit runs {' '.join(command)} (this installation)", exec_start=command)


def current_finding(unit: Path, text: str) -> Finding:
    expected, _ = install(dry_run=True)
    if text == expected:
        return ok(AREA, "unit", f"{unit} is the unit this version writes")
    return warning(
        AREA,
        "unit",
        f"{unit} differs from the unit this version of vcamseg writes (an older version wrote it, or it was edited)",
        fix=f"`vcamseg service install --dry-run` shows the new one; {INSTALL}",
    )


def manager_findings(host: Host) -> list[Finding]:
    result = host.command(
        ["systemctl", "--user", "show", UNIT_NAME, "--no-pager", f"--property={','.join(PROPERTIES)}"]
    )
    if result is None:
        return [warning(AREA, "manager", "systemctl is not installed: cannot ask the user manager about the service")]
    if result.returncode != 0:
        why = " ".join(result.stderr.strip().splitlines()[:2]) or f"exit status {result.returncode}"
        return [
            warning(
                AREA,
                "manager",
                f"cannot ask the systemd user manager ({why})",
                fix="run the doctor in your desktop session (not over sudo or su), where `systemctl --user` works",
            )
        ]
    props = dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)
    findings = []
    if props.get("NeedDaemonReload") == "yes":
        findings.append(
            warning(
                AREA,
                "loaded",
                "the unit file changed since systemd read it",
                fix="systemctl --user daemon-reload && systemctl --user restart vcamseg",
            )
        )
    if props.get("LoadState") not in ("loaded", None):
        findings.append(
            problem(
                AREA,
                "loaded",
                f"systemd has not loaded the unit (LoadState={props.get('LoadState')})",
                fix="systemctl --user daemon-reload",
            )
        )
        return findings
    enabled = props.get("UnitFileState", "")
    if enabled == "enabled":
        findings.append(ok(AREA, "enabled", "enabled: it starts at login"))
    else:
        findings.append(
            warning(
                AREA,
                "enabled",
                f"not enabled ({enabled or 'unknown'}): it does not start at login",
                fix="systemctl --user enable vcamseg",
            )
        )
    active, sub, result_text = props.get("ActiveState", ""), props.get("SubState", ""), props.get("Result", "")
    if active == "active":
        findings.append(ok(AREA, "active", f"active ({sub})"))
    elif active == "failed":
        findings.append(
            problem(
                AREA,
                "active",
                f"the service failed (Result={result_text}, exit status {props.get('ExecMainStatus', '?')})",
                fix="journalctl --user -u vcamseg -n 50 shows why; then systemctl --user restart vcamseg",
            )
        )
    else:
        findings.append(
            warning(
                AREA,
                "active",
                f"not running ({active or 'unknown'}/{sub or '?'})",
                fix="systemctl --user start vcamseg",
            )
        )
    return findings
