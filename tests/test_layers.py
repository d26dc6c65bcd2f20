"""The package's one dependency direction, checked on the import graph (and what importing the
config costs)."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.helpers import REPO


def test_importing_the_config_loads_neither_opencv_nor_tensorflow() -> None:
    """`vcamseg set` and `vcamseg status` validate configs: that must not pay for cv2 (0.2 s) or
    TensorFlow (seconds), nor decode any media."""
    code = ("import json, sys; import vcamseg.config, vcamseg.config.example; "
            "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('cv2', 'tensorflow', 'numpy'))))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    loaded = json.loads(done.stdout)
    assert "cv2" not in loaded and "tensorflow" not in loaded, loaded
