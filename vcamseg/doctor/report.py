"""What `vcamseg doctor` finds: one `Finding` per check (ok, warning or problem, with the exact fix),
gathered in a `Report` that renders as text for people and as JSON for scripts and issue reports."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from vcamseg import __version__


class Status(StrEnum):
    OK = "ok"
    WARNING = "warning"  # works, but not as well as it could, or will fail in some cases
    PROBLEM = "problem"  # vcamseg (or an application reading the camera) will not work like this


# The areas in the order the report shows them, with their headings.
AREAS: dict[str, str] = {
    "python": "Python and packages",
    "config": "configuration",
    "loopback": "virtual camera (v4l2loopback)",
    "camera": "camera",
    "models": "model files",
    "inference": "inference device",
    "systemd": "systemd user service",
    "daemon": "running daemon",
}


@dataclass(frozen=True)
class Finding:
    area: str  # a key of AREAS
    check: str  # a short name, stable for scripts: "module", "exclusive_caps", "permissions", ...
    status: Status
    message: str
    fix: str = ""  # the exact command or config change; empty when nothing is to be done
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "area": self.area,
            "check": self.check,
            "status": self.status.value,
            "message": self.message,
            "fix": self.fix,
            "details": self.details,
        }


def ok(area: str, check: str, message: str, **details: Any) -> Finding:
    return Finding(area, check, Status.OK, message, "", details)


def warning(area: str, check: str, message: str, fix: str = "", **details: Any) -> Finding:
    return Finding(area, check, Status.WARNING, message, fix, details)


def problem(area: str, check: str, message: str, fix: str = "", **details: Any) -> Finding:
    return Finding(area, check, Status.PROBLEM, message, fix, details)


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)
    config_file: str | None = None

    def extend(self, findings: Iterable[Finding]) -> None:
        self.findings.extend(findings)

    def count(self, status: Status) -> int:
        return sum(f.status is status for f in self.findings)

    @property
    def has_problems(self) -> bool:
        return self.count(Status.PROBLEM) > 0

    @property
    def exit_code(self) -> int:
        """1 when any check found a problem (warnings alone: 0), so scripts can test the setup."""
        return 1 if self.has_problems else 0

    def get(self, area: str, check: str) -> Finding | None:
        return next((f for f in self.findings if f.area == area and f.check == check), None)

    def ordered(self) -> list[Finding]:
        rank = {area: i for i, area in enumerate(AREAS)}
        return sorted(self.findings, key=lambda f: rank.get(f.area, len(rank)))  # stable within an area

    def to_json(self) -> dict[str, Any]:
        return {
            "vcamseg": __version__,
            "config_file": self.config_file,
            "ok": not self.has_problems,
            "summary": {status.value: self.count(status) for status in Status},
            "findings": [f.to_json() for f in self.ordered()],
        }

    def render_json(self) -> str:
        return json.dumps(self.to_json(), indent=2, default=str)

    def render_text(self) -> str:
        lines = [f"vcamseg doctor (vcamseg {__version__}; config: {self.config_file or 'none, the defaults'})"]
        area = None
        for finding in self.ordered():
            if finding.area != area:
                area = finding.area
                lines += ["", AREAS.get(area, area)]
            lines.append(f"  {finding.status.value:<8} {finding.check}: {finding.message}")
            if finding.fix:
                lines.append(f"  {'':<8} fix: {finding.fix}")
        counts = [
            f"{self.count(s)} {s.value}{'s' if self.count(s) != 1 and s is not Status.OK else ''}"
            for s in (Status.PROBLEM, Status.WARNING, Status.OK)
        ]
        lines += ["", ", ".join(counts)]
        return "\n".join(lines)
