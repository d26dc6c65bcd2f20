"""The Python side of the install: the interpreter inside the supported range (``requires-python``),
every dependency importable (found, not imported: TensorFlow stays unloaded), and, from a checkout,
the installed versions against the tested lock file (requirements.lock), so "it broke after an
upgrade" shows as drift before it shows as a traceback."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import re
import sys
from pathlib import Path

import vcamseg
from vcamseg.doctor.report import Finding, ok, problem, warning

AREA = "python"
LOCK_NAME = "requirements.lock"
# Distribution name -> the module it provides (checked with find_spec, never imported).
MODULES = {
    "tensorflow": "tensorflow",
    "ai-edge-litert": "ai_edge_litert",
    "tf-bodypix": "tf_bodypix",
    "numpy": "numpy",
    "opencv-python": "cv2",
    "pyvirtualcam": "pyvirtualcam",
    "pydantic": "pydantic",
    "pyyaml": "yaml",
    "ruamel.yaml": "ruamel.yaml",
    "tqdm": "tqdm",
    "cysystemd": "cysystemd",
    "watchfiles": "watchfiles",
}
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;#]+)")


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def parse_lock(text: str) -> dict[str, str]:
    """``name==version`` lines of a pip-compile lock (comments, hashes and markers ignored)."""
    pins = {}
    for line in text.splitlines():
        if match := _PIN.match(line.strip()):
            pins[normalise(match.group(1))] = match.group(2)
    return pins


def in_range(version: tuple[int, int], spec: str) -> bool:
    """``(3, 12)`` against a requires-python such as ``>=3.11,<3.14`` (the operators pyproject uses)."""
    for part in (p.strip() for p in spec.split(",") if p.strip()):
        match = re.fullmatch(r"(>=|<=|==|!=|<|>|~=)\s*(\d+)\.(\d+)(?:\.\*)?", part)
        if match is None:
            continue
        op, bound = match.group(1), (int(match.group(2)), int(match.group(3)))
        ok_ = {
            ">=": version >= bound,
            "<=": version <= bound,
            "<": version < bound,
            ">": version > bound,
            "==": version == bound,
            "!=": version != bound,
            "~=": version >= bound,
        }[op]
        if not ok_:
            return False
    return True


def checkout_lock() -> Path | None:
    """The lock beside the package when running from a source checkout (editable installs too)."""
    lock = Path(vcamseg.__file__).resolve().parents[1] / LOCK_NAME
    return lock if lock.is_file() else None


def check_environment(lock: Path | None = None) -> list[Finding]:
    findings = [python_finding(), packages_finding()]
    lock = lock or checkout_lock()
    if lock is not None:
        findings.append(lock_finding(lock))
    return findings


def python_finding() -> Finding:
    version = sys.version_info[:2]
    shown = ".".join(map(str, sys.version_info[:3]))
    try:
        spec = importlib.metadata.metadata("vcamseg").get("Requires-Python") or ""
    except importlib.metadata.PackageNotFoundError:
        spec = ""
    if spec and not in_range(version, spec):
        return problem(
            AREA,
            "interpreter",
            f"Python {shown} ({sys.executable}) is outside the supported range {spec}",
            fix="make a venv with a supported Python (see the README's Install section)",
            python=shown,
            requires=spec,
        )
    within = f", within the supported range {spec}" if spec else ""
    return ok(AREA, "interpreter", f"Python {shown} ({sys.executable}){within}", python=shown, requires=spec)


def packages_finding() -> Finding:
    missing = [dist for dist, module in MODULES.items() if _find(module) is None]
    if missing:
        return problem(
            AREA,
            "packages",
            f"not installed: {', '.join(missing)}",
            fix="pip install -r requirements.lock (from the checkout), or reinstall vcamseg",
            missing=missing,
        )
    return ok(AREA, "packages", f"every dependency is installed ({len(MODULES)} packages, found without importing)")


def _find(module: str) -> object | None:
    try:
        return importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None


def lock_finding(lock: Path) -> Finding:
    pins = parse_lock(lock.read_text(encoding="utf-8"))
    drift = []
    for name, pinned in sorted(pins.items()):
        try:
            installed = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            installed = None
        if installed != pinned:
            drift.append(f"{name} {installed or 'missing'} (lock {pinned})")
    if drift:
        shown = ", ".join(drift[:8]) + (f", and {len(drift) - 8} more" if len(drift) > 8 else "")
        return warning(
            AREA,
            "lock",
            f"{len(drift)} of {len(pins)} packages differ from the tested versions in {lock}: {shown}",
            fix=f"pip install -r {lock} (in vcamseg's venv)",
            drift=drift,
        )
    return ok(AREA, "lock", f"every package has the tested version from {lock} ({len(pins)} pins)")
