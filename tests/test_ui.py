"""`vcamseg ui` without a daemon: its command-line contract, who it refuses (token, Host, Origin,
cross-site, non-JSON changes: 403, never CORS), clear JSON errors for bad requests, the import
cost (no OpenCV, no TensorFlow), and how the CLI's errors are placed next to their fields. The
page against a real daemon in a real browser: tests/test_ui_browser.py."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.ui_process import UiProcess
from vcamseg.ui.access import Access
from vcamseg.ui.api import problems

pytestmark = pytest.mark.pure  # no ../shared, no TensorFlow: nothing here needs the daemon

HEAVY = ("cv2", "tensorflow", "tflite_runtime", "ai_edge_litert")


@pytest.fixture(scope="module")
def ui(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UiProcess]:
    socket = tmp_path_factory.mktemp("ui") / "no-daemon.sock"
    with UiProcess(socket, prefix=("-X", "importtime")) as process:
        yield process


def test_it_prints_one_line_with_the_address_and_token(ui: UiProcess) -> None:
    assert ui.line.count("\n") == 1 and ui.line.startswith("vcamseg ui: http://127.0.0.1:")
    assert len(ui.token) >= 32  # secrets.token_urlsafe(24)


@pytest.mark.parametrize("path", ["/", "/app.js", "/api/status", "/api/config", "/api/schema", "/api/frame"])
def test_every_path_needs_the_token(ui: UiProcess, path: str) -> None:
    for token in (None, "wrong-token", ui.token[:-1]):
        status, body = ui.json("GET", path, token=token)
        assert status == 403 and "token" in body["error"], (token, body)


def test_a_foreign_host_is_refused_even_with_the_token(ui: UiProcess) -> None:
    """DNS rebinding: a page on evil.example resolved to 127.0.0.1 sends its own Host."""
    for host in ("evil.example", f"evil.example:{ui.port}", f"127.0.0.1:{ui.port + 1}", "127.0.0.1"):
        status, body = ui.json("GET", "/api/status", headers={"Host": host})
        assert status == 403 and "Host" in body["error"], (host, body)
    status, _, _ = ui.http("GET", "/", headers={"Host": f"localhost:{ui.port}"})
    assert status == 200  # the same machine by another name


def test_a_foreign_origin_or_a_cross_site_request_is_refused(ui: UiProcess) -> None:
    change = {"changes": ["effects.0.background_blur=50"]}
    for headers in (
        {"Origin": "http://evil.example"},
        {"Origin": f"http://127.0.0.1:{ui.port + 1}"},
        {"Origin": "null"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
    ):
        for method, body in (("POST", change), ("GET", None)):
            status, reply = ui.json(method, "/api/set" if body else "/api/status", headers=headers, body=body)
            assert status == 403, (headers, method, reply)
            assert "cross" in reply["error"], reply


def test_a_change_must_be_json(ui: UiProcess) -> None:
    """A cross-site form can post text/plain or form data without a CORS preflight: refused."""
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"):
        status, reply = ui.json("POST", "/api/set", headers={"Content-Type": content_type}, body=b"{}")
        assert status == 403 and "application/json" in reply["error"], reply


def test_no_cors_and_no_preflight(ui: UiProcess) -> None:
    for method, headers in (
        ("OPTIONS", {"Origin": ui.origin, "Access-Control-Request-Method": "POST"}),
        ("GET", {"Origin": ui.origin}),
        ("GET", {}),
        ("PUT", {}),
    ):
        status, response_headers, _ = ui.http(method, "/api/status", headers=headers)
        assert not [name for name in response_headers if name.startswith("access-control-")], response_headers
        if method in ("OPTIONS", "PUT"):
            assert status == 405


def test_two_host_headers_are_refused(ui: UiProcess) -> None:
    status, _, body = ui.http("GET", "/api/status", headers={"Host": f"127.0.0.1:{ui.port}", "host": "evil.example"})
    assert status == 403 and b"Host" in body


def test_the_page_and_its_files_with_the_token(ui: UiProcess) -> None:
    status, headers, page = ui.http("GET", "/")
    assert status == 200 and headers["content-type"].startswith("text/html")
    assert f"app.js?token={ui.token}".encode() in page and b"__TOKEN__" not in page
    assert "script-src 'self'" in headers["content-security-policy"] and headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "no-referrer"
    status, headers, script = ui.http("GET", "/app.js")
    assert status == 200 and headers["content-type"].startswith("text/javascript") and b"/api/set" in script
    status, schema = ui.json("GET", "/api/schema")
    assert status == 200 and "effects" in schema["schema"]["properties"]
    assert schema["live"]["effects"].startswith("at the next frame")


def test_without_a_daemon_the_api_says_so(ui: UiProcess) -> None:
    for method, path, body in (("GET", "/api/status", None), ("GET", "/api/config", None), ("POST", "/api/save", {})):
        status, reply = ui.json(method, path, body=body)
        assert status == 503 and "no vcamseg daemon is listening" in reply["error"] and reply["fix"], reply


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"not json", "not JSON"),
        ([1, 2], "expected a JSON object"),
        ({"changes": "mask.softness=0.2"}, "KEY=VALUE"),
        ({"changes": []}, "KEY=VALUE"),
        ({"changes": ["no equals sign"]}, "KEY=VALUE"),
        ({"changes": ["mask.softness=0.2"], "save": "yes"}, "save: expected true or false"),
    ],
)
def test_bad_requests_are_clear_json_errors(ui: UiProcess, body: object, expected: str) -> None:
    status, reply = ui.json("POST", "/api/set", body=body)
    assert status == 400 and expected in reply["error"], reply


def test_bad_frame_requests_and_unknown_paths(ui: UiProcess) -> None:
    status, reply = ui.json("GET", "/api/frame?max_width=big")
    assert status == 400 and "max_width" in reply["error"]
    status, reply = ui.json("GET", "/api/nothing")
    assert status == 404 and "no such page" in reply["error"]
    status, reply = ui.json("POST", "/api/nothing", body={})
    assert status == 404


def test_it_stops_on_sigterm_and_never_loaded_opencv_or_tensorflow(tmp_path: Path) -> None:
    with UiProcess(tmp_path / "none.sock", "--port", "0", prefix=("-X", "importtime")) as process:
        status, _, _ = process.http("GET", "/", token=None)
        assert status == 403
        assert process.terminate() == 0
        stderr = process.proc.communicate(timeout=10)[1]
    modules = {
        line.rsplit("|", 1)[1].strip().split(".")[0]
        for line in stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }
    assert "vcamseg" in modules and not modules & set(HEAVY), sorted(modules & set(HEAVY))
    assert "no vcamseg daemon is listening" in stderr  # said once at start; the page waits for it


def test_the_port_given_is_the_port_served_and_a_bad_one_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    with UiProcess(tmp_path / "none.sock", "--port", str(free)) as process:
        assert process.port == free and f"http://127.0.0.1:{free}/?token=" in process.line
        # The same port again: taken.
        done = subprocess.run(
            [sys.executable, "-m", "vcamseg", "ui", "--no-browser", "--port", str(free), "--socket", "/x"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 2 and f"cannot serve the settings page on 127.0.0.1:{free}" in done.stderr
        assert "fix: choose another --port" in done.stderr
        assert process.terminate() == 0
    done = subprocess.run(
        [sys.executable, "-m", "vcamseg", "ui", "--no-browser", "--port", "70000"], capture_output=True, text=True
    )
    assert done.returncode == 2 and "--port 70000: expected 0 to 65535" in done.stderr


def test_the_access_rules() -> None:
    access = Access("127.0.0.1", 8123, token="t0ken")
    ok = {"Host": "127.0.0.1:8123"}
    assert access.url == "http://127.0.0.1:8123/?token=t0ken"
    assert access.refusal("GET", "/?token=t0ken", ok) is None
    assert access.refusal("GET", "/?token=t0ken", {"Host": "localhost:8123", "Origin": "http://localhost:8123"}) is None
    assert access.refusal("GET", "/?token=t0ken", {"Host": "[::1]:8123"}) is None
    assert access.refusal("GET", "/", ok) and access.refusal("GET", "/?token=t0ke", ok)
    assert access.refusal("GET", "/?token=t0ken", {"Host": "10.0.0.1:8123"})
    assert access.refusal("POST", "/?token=t0ken", ok)  # not JSON
    assert access.refusal("POST", "/?token=t0ken", {**ok, "Content-Type": "application/json"}) is None
    assert access.refusal("GET", "/?token=t0ken", {**ok, "Sec-Fetch-Site": "none"}) is None  # typed in the address bar
    # An address the user wrote: that address (and the loopback names only for a loopback address).
    lan = Access("192.168.1.5", 8123, token="x")
    assert lan.allowed_hosts == {"192.168.1.5:8123"} and lan.url.startswith("http://192.168.1.5:8123/")
    assert Access("::1", 80, token="x").url == "http://[::1]:80/?token=x"


def test_each_cli_error_line_is_placed_at_its_key() -> None:
    message = (
        "invalid configuration:\n"
        "  --set effects.0.background_blur=500: effects.0.background_blur: expected less than or equal to 100 "
        "(given: 500)\n"
        "  --set effects=[{type: replace}]: effects.0: replace needs exactly one background source, got none\n"
        "  /home/u/.config/vcamseg/config.yaml:3: mask.softness: expected a number (given: 'x')"
    )
    found = problems(message, ["effects.0.background_blur=500", "effects=[{type: replace}]"])
    assert [p["key"] for p in found] == ["effects.0.background_blur", "effects.0", "mask.softness"]
    assert found[0]["message"].startswith("--set effects.0.background_blur=500: ")  # the CLI's words, whole
    assert (
        problems("source.device: cannot open /dev/video9", ["source.device=/dev/video9"])[0]["key"] == "source.device"
    )
    assert problems("the daemon did not answer", [])[0]["key"] == ""
