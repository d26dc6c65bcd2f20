"""The package's one dependency direction, checked on the import graph (every import statement,
the ones inside functions too), and what importing the config costs.

    base (errors, paths, atomic, imaging, logs, body)
      <- config <- {models, io} <- segmentation <- effects <- pipeline <- service
      <- {doctor, bench, ui} <- cli <- __main__

A module may import its own layer and the layers below it, never one above. import-linter's
"layers" contract says the same; this test needs no extra dependency and also names the line.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import REPO

pytestmark = pytest.mark.pure  # no ../shared, no TensorFlow

PACKAGE = REPO / "vcamseg"
LAYERS: list[set[str]] = [
    {"__init__", "errors", "paths", "atomic", "imaging", "logs", "body"},
    {"config"},
    {"models", "io"},
    {"segmentation"},
    {"effects"},
    {"pipeline"},
    {"service"},
    {"doctor", "bench", "ui"},
    {"cli"},
    {"__main__"},
]
LEVEL = {name: level for level, names in enumerate(LAYERS) for name in names}
# Side by side in one layer, but independent of each other.
INDEPENDENT = [{"models", "io"}, {"doctor", "bench"}, {"doctor", "ui"}, {"bench", "ui"}]
# Segmentation reads model files; finding, downloading and verifying them is the loading step's,
# done before a Segmenter exists.
SEGMENTATION_MAY_USE = {"vcamseg.models.files", "vcamseg.models.tfjs", "vcamseg.models.catalogue"}


def _top(module: str) -> str:
    parts = module.split(".")
    if len(parts) < 2 or not ((PACKAGE / parts[1]).is_dir() or (PACKAGE / f"{parts[1]}.py").is_file()):
        return "__init__"  # vcamseg itself, or a name in it (from vcamseg import __version__)
    return parts[1]


def _imports() -> list[tuple[str, int, str]]:
    """(importing module, line, imported vcamseg module) for every import in the package."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(REPO).with_suffix("")
        module = ".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts)
        package = module if rel.name == "__init__" else module.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:  # relative: resolve against the package
                    base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                    names = [f"{base}.{node.module}" if node.module else base]
                else:
                    names = [node.module or ""]
                if names[0] == "vcamseg":  # from vcamseg import paths
                    names = [f"vcamseg.{a.name}" for a in node.names]
            else:
                continue
            found += [(module, node.lineno, name) for name in names if name.split(".")[0] == "vcamseg"]
    return found


def test_no_module_imports_a_layer_above_its_own() -> None:
    violations = []
    for module, line, imported in _imports():
        src, dst = _top(module), _top(imported)
        if src == dst:
            continue
        if LEVEL[dst] > LEVEL[src] or any({src, dst} == pair for pair in INDEPENDENT):
            violations.append(f"{module}:{line} imports {imported} ({src} -> {dst})")
    assert not violations, "\n".join(violations)


def test_segmentation_never_reaches_the_download_code() -> None:
    bad = [
        f"{m}:{line} imports {i}"
        for m, line, i in _imports()
        if _top(m) == "segmentation" and _top(i) == "models" and i not in SEGMENTATION_MAY_USE
    ]
    assert not bad, "\n".join(bad)


def test_nothing_but_main_imports_the_cli() -> None:
    bad = [f"{m}:{line}" for m, line, i in _imports() if _top(i) == "cli" and _top(m) not in ("cli", "__main__")]
    assert not bad, "\n".join(bad)


def test_every_module_has_a_layer_and_stays_readable() -> None:
    """A new top-level module or package must be placed in LAYERS; no module over ~350 lines."""
    tops = {_top(".".join(p.relative_to(REPO).with_suffix("").parts)) for p in PACKAGE.rglob("*.py")}
    assert tops <= set(LEVEL), f"place {sorted(tops - set(LEVEL))} in LAYERS"
    sizes = {p.relative_to(REPO): len(p.read_text().splitlines()) for p in PACKAGE.rglob("*.py")}
    long = [f"{path}: {lines}" for path, lines in sizes.items() if lines > 360]
    assert not long, long


def test_importing_the_config_loads_neither_opencv_nor_tensorflow() -> None:
    """`vcamseg set` and `vcamseg status` validate configs: that must not pay for cv2 (0.2 s) or
    TensorFlow (seconds), nor decode any media."""
    code = (
        "import json, sys; import vcamseg.config, vcamseg.config.example; "
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('cv2', 'tensorflow', 'numpy'))))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    loaded = json.loads(done.stdout)
    assert "cv2" not in loaded and "tensorflow" not in loaded, loaded


def test_the_layer_check_sees_a_violation(tmp_path: Path) -> None:
    """The checker itself: an upward import is found (the rule is not vacuous)."""
    assert LEVEL["config"] < LEVEL["effects"]
    imports = _imports()
    assert any(_top(m) == "effects" and _top(i) == "config" for m, _, i in imports), "effects use config"
