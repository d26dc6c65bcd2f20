"""The soak benchmark in CI: three minutes of `vcamseg run` at 1280x720 30 fps from a real video,
its effect changed every 8 s (alternately through the control socket and the config file), then
the goals checked: memory flat after warm-up, no drops beyond the first seconds: the daemon keeps
pace with its source. The frame rate itself is the machine's (printed; benchmarks/daemon.py
measures it): on a slower machine even the source, decoding the 720p stream, may deliver fewer
than 30 frames a second. What is asserted is that the daemon sent what the source delivered.

The schedule is compressed (the 30-minute soak changes the effect every minute) so that every
effect is built several times: what must stay flat is memory across rebuilds, and three minutes
hold two warm-up passes through the seven effects and a measured one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
MINUTES, EFFECT_EVERY_S, SAMPLE_EVERY_S = 3, 8, 3

# Drops are judged only when the rest of the machine left the daemon its share: on 2 cores, a
# daemon using about half of the machine drops frames whenever another job takes the other half
# (CI may build the virtual-camera VM images alongside this suite), and that says nothing about
# the daemon. Past this, the drop goals are reported, not asserted.
BUSY_MACHINE_PCT = 25.0
# "No drops beyond the first seconds", made robust to the odd scheduling hiccup on a loaded
# 2-core machine: at most 1 % of the frames after warm-up (about one every 3 s), and never
# dropping in more than 3 consecutive 3-second samples (a pipeline that cannot keep up, or that
# degrades over time, drops in every interval).
MAX_DROP_FRACTION = 0.01
MAX_DROP_RUN_INTERVALS = 3


@pytest.fixture(scope="module")
def soak(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("soak")
    result = subprocess.run(
        [
            sys.executable,
            str(REPO / "benchmarks" / "soak.py"),
            "--minutes",
            str(MINUTES),
            "--effect-every",
            str(EFFECT_EVERY_S),
            "--sample-every",
            str(SAMPLE_EVERY_S),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=MINUTES * 60 + 300,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    print(result.stdout)
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}\n{(out / 'daemon.log').read_text()[-3000:]}"
    summary = json.loads((out / "summary.json").read_text())
    summary["log"] = (out / "daemon.log").read_text()
    return summary


def test_memory_stays_flat_after_warm_up(soak: dict[str, Any]) -> None:
    assert soak["exit_code"] == 0 and "Traceback" not in soak["log"]
    assert soak["measured_s"] >= 50
    assert soak["rss_growth_pct"] < 5.0, soak
    assert soak["threads"][1] <= soak["threads"][0] + 4 and soak["fds"][1] <= soak["fds"][0] + 4, "no thread/fd leak"


def test_no_drops_beyond_the_first_seconds(soak: dict[str, Any]) -> None:
    if soak["other_cpu_pct"] > BUSY_MACHINE_PCT:
        pytest.skip(
            f"other processes used {soak['other_cpu_pct']:.0f} % of the machine during the soak: drops "
            f"({soak['dropped_after_warmup']} after warm-up) are not the daemon's to judge"
        )
    print(f"{soak['fps_median']:.2f} fps (median interval); the source delivered {soak['source_fps']:.2f} fps")
    assert soak["delivered_fraction_after_warmup"] >= 1 - MAX_DROP_FRACTION, soak
    assert soak["drop_fraction_after_warmup"] <= MAX_DROP_FRACTION, soak
    assert soak["longest_drop_run_intervals"] <= MAX_DROP_RUN_INTERVALS, soak
    assert soak["placeholder_after_warmup"] == 0, "the source never went missing"
