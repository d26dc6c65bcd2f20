"""A burst of SIGHUPs (`systemctl --user reload` in a loop, a script gone wrong) on a real daemon:
the reloads coalesce, the daemon stays up, answers and streams throughout, and ends up running
what the file says."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest

from tests.daemon_process import DaemonProcess, log_lines
from tests.speed import allowance, describe
from vcamseg.service.client import request

pytestmark = pytest.mark.slow

CONFIG = """\
effects:
  - type: replace
    color: [255, 0, 0]
service:
  reload_debounce_ms: 100
"""
SIGNALS = 50


def test_a_burst_of_sighups_coalesces_and_the_daemon_stays_responsive(tmp_path: Path) -> None:
    with DaemonProcess(tmp_path, CONFIG) as daemon:
        daemon.wait_streaming()
        # Past the watcher's first look at the file; meanwhile, the rate this machine streams at
        # (what "streaming through the burst" is measured against).
        counted, counted_at = daemon.frames_out(), time.monotonic()
        time.sleep(1.0)
        rate = (daemon.frames_out() - counted) / (time.monotonic() - counted_at)
        reloads_before = len(log_lines(daemon, "config reloaded (SIGHUP)"))

        # The file changes, then the burst: whatever the order, the end state is the file's.
        daemon.config.write_text(CONFIG.replace("[255, 0, 0]", "[0, 0, 255]").replace("100", "150"))
        latencies: list[float] = []
        stop = threading.Event()

        def ask_status() -> None:  # a client polling all along: the socket must keep answering
            while not stop.is_set():
                asked = time.monotonic()
                request(daemon.socket, {"cmd": "status"}, timeout_s=10)
                latencies.append(time.monotonic() - asked)
                time.sleep(0.02)

        poller = threading.Thread(target=ask_status, daemon=True)
        poller.start()
        sent_before = daemon.frames_out()
        started = time.monotonic()
        for index in range(SIGNALS):
            os.kill(daemon.pid, signal.SIGHUP)
            time.sleep(max(0.0, started + (index + 1) / SIGNALS - time.monotonic()))  # 50 within a second
        burst_s = time.monotonic() - started
        time.sleep(1.0)
        stop.set()
        poller.join(15)

        assert daemon.proc.poll() is None, daemon.text_log()[-3000:]
        status = daemon.wait_for(
            lambda: (s := daemon.status())["last_reload"]["trigger"] == "SIGHUP" and s,
            5,
            "the last reload to be a SIGHUP",
        )
        assert status["last_reload"]["ok"]
        assert status["config"]["effects"][0]["color"] == [0, 0, 255]
        assert status["config"]["service"]["reload_debounce_ms"] == 100, "needs a restart: the running value stays"
        assert status["pipeline"]["frames"]["out"] > sent_before + 0.8 * rate * burst_s, (
            f"streaming through the burst (at {rate:.1f} fps before it)"
        )
        # Answering is what is checked; a margin over "within a second" for a slow machine.
        assert latencies and max(latencies) < allowance(1.0), (
            f"status took up to {max(latencies):.2f} s during the burst ({describe(1.0)})"
        )

        reloads = len(log_lines(daemon, "config reloaded (SIGHUP)")) - reloads_before
        coalesced = [line for line in log_lines(daemon, "SIGHUP: reloading") if "coalesced" in line]
        print(
            f"{SIGNALS} SIGHUPs in {burst_s:.2f} s -> {reloads} reloads; slowest status {max(latencies) * 1000:.0f} ms"
        )
        assert 1 <= reloads <= SIGNALS // 3, "the reloads coalesce"
        assert len(log_lines(daemon, "SIGHUP: reloading")) - reloads_before == reloads
        assert not coalesced or all("requests coalesced" in line for line in coalesced)

        # Still itself afterwards: a normal edit applies.
        daemon.config.write_text(CONFIG.replace("[255, 0, 0]", "[0, 255, 0]"))
        daemon.wait_for(
            lambda: daemon.status()["config"]["effects"][0]["color"] == [0, 255, 0], 10, "the next edit to apply"
        )
        assert "Traceback" not in daemon.text_log()
        daemon.terminate()  # exit code 0, within a margin over the 1 s promise
