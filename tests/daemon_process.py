"""A real `vcamseg run` process for the reliability and security tests: started with a config
file, its own control socket and log, talked to over the socket, stopped with a signal.

Its waits are scaled to the machine and its stop allows a margin over the 1 s promise
(tests/speed.py): a test fails when the daemon misbehaves, not when the machine is slow."""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Self

import cv2
import numpy as np
import pytest

from tests.speed import STOP_PROMISE_S, allowance, describe, scaled
from vcamseg.service.client import NoDaemon, request

# Small frames and the TFLite backend: the model loads and runs fast on 2 cores.
FAST = (
    "--set",
    "model.backend=tflite",
    "--set",
    "source.width=320",
    "--set",
    "source.height=240",
    "--set",
    "pipeline.stats_interval_s=1",
)


class DaemonProcess:
    """``vcamseg run --config FOLDER/config.yaml --source SOURCE --output OUTPUT`` with the
    control socket in FOLDER/run and the log in FOLDER/daemon.log. ``config_text`` is written
    there; or give ``config`` (an existing file, left as it is). ``env`` is added to (or, with
    None values, removed from) the test environment. ``socket_path``: the default one (the
    daemon is not told where its socket is)."""

    def __init__(
        self,
        folder: Path,
        config_text: str = "",
        *,
        config: Path | None = None,
        source: str = "test",
        output: str = "null",
        extra_args: Sequence[str] = FAST,
        env: dict[str, str | None] | None = None,
        socket_path: Path | None = None,
    ) -> None:
        self.folder = folder
        self.config = config or folder / "config.yaml"
        if config is None:
            self.config.write_text(config_text)
        self.socket = socket_path or folder / "run" / "control.sock"
        self.log_path = folder / "daemon.log"
        self._log = self.log_path.open("w")
        environment = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
        for key, value in (env or {}).items():
            if value is None:
                environment.pop(key, None)
            else:
                environment[key] = value
        command = [
            sys.executable,
            "-m",
            "vcamseg",
            "run",
            "--config",
            str(self.config),
            "--source",
            source,
            "--output",
            output,
            *extra_args,
        ]
        if socket_path is None:
            command += ["--set", f"service.control_socket_path={self.socket}"]
        self.started = time.monotonic()
        self.proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=self._log, env=environment)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def request(self, payload: dict[str, Any], timeout_s: float = 30) -> dict[str, Any]:
        return request(self.socket, payload, timeout_s=timeout_s)

    def status(self, timeout_s: float = 30) -> dict[str, Any]:
        return self.request({"cmd": "status"}, timeout_s)["status"]

    def frames_out(self) -> int:
        pipeline = self.status()["pipeline"]  # None until the source is open and the pipeline built
        return pipeline["frames"]["out"] if pipeline is not None else 0

    def set(self, *changes: str, save: bool = False) -> dict[str, Any]:
        return self.request({"cmd": "set", "changes": list(changes), "save": save})["result"]

    def snapshot(self) -> np.ndarray:
        reply = self.request({"cmd": "snapshot"})
        return cv2.imdecode(np.frombuffer(base64.b64decode(reply["png_base64"]), np.uint8), cv2.IMREAD_COLOR)

    def text_log(self) -> str:
        return self.log_path.read_text()  # the daemon writes it (our handle is only its stderr)

    def wait_for(self, condition: Callable[[], Any], timeout: float, what: str, poll_s: float = 0.05) -> Any:
        """``condition()``'s first truthy value; fails the test (with the log's tail) on timeout or
        when the daemon exits meanwhile. ``timeout`` is for the reference machine: scaled here."""
        timeout = scaled(timeout)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, (
                f"the daemon exited ({self.proc.returncode}) while waiting for {what}:\n{self.text_log()[-4000:]}"
            )
            try:
                value = condition()
            except NoDaemon:
                value = None  # the socket is not there yet
            if value:
                return value
            time.sleep(poll_s)
        pytest.fail(f"timed out after {timeout:g} s waiting for {what}\n{self.text_log()[-4000:]}")

    def wait_streaming(self, timeout: float = 120) -> None:
        self.wait_for(lambda: self.frames_out() > 0, timeout, "the first frames")

    def wait_exit(self, timeout: float) -> int:
        """The exit code, within ``timeout`` (for the reference machine: scaled here)."""
        timeout = scaled(timeout)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the daemon did not exit within {timeout:.1f} s\n{self.text_log()[-4000:]}")

    def terminate(self) -> float:
        """SIGTERM: the process must be gone with exit code 0, within a margin over the promise
        (the promise itself is measured by benchmarks/stop_latency.py). The seconds it took, for
        the tests to print."""
        sent = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(allowance(STOP_PROMISE_S))
        except subprocess.TimeoutExpired:
            pytest.fail(
                f"still running {time.monotonic() - sent:.1f} s after SIGTERM ({describe(STOP_PROMISE_S)})"
                f"\n{self.text_log()[-4000:]}"
            )
        elapsed = time.monotonic() - sent
        assert code == 0, f"exit code {code} after SIGTERM\n{self.text_log()[-4000:]}"
        return elapsed

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self._log.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def log_lines(daemon: DaemonProcess, needle: str) -> list[str]:
    return [line for line in daemon.text_log().splitlines() if needle in line]
