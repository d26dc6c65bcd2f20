"""The settings page in a real headless Chromium, against a real daemon (`vcamseg run` on a real
video, null output) and a real `vcamseg ui --no-browser`: the preview shows frames and moves on,
a blur change reaches it, an invalid value shows the CLI's message at its field and changes
nothing, effects are switched, added, reordered and removed, the before/after and mask views,
Save writes the file keeping its comments, and the refusals (403) hold against the real thing.

``VCAMSEG_UI_SCREENSHOTS=FOLDER`` saves the page's screenshots there (the README's are made so:
``VCAMSEG_UI_SCREENSHOTS=docs python -m pytest tests/test_ui_browser.py``)."""

from __future__ import annotations

import base64
import json
import os
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from tests import browser
from tests.daemon_process import FAST, DaemonProcess, log_lines
from tests.ui_process import URL_LINE, UiProcess, wait_until

pytestmark = pytest.mark.slow

# A textured background (trees, walls) behind a small person: blurring it shows clearly.
VIDEO = "davis2016_parkour.mp4"
CONFIG = """\
# my settings: this comment must survive Save
effects:
  - type: blur   # the one effect
    background_blur: 1
"""
# The preview's pixels, read back from the page (a blob: image of this origin, so the canvas is clean).
READ_PREVIEW = """
const img = document.getElementById('preview');
if (!img.naturalWidth) return null;
const c = document.createElement('canvas');
c.width = img.naturalWidth; c.height = img.naturalHeight;
c.getContext('2d').drawImage(img, 0, 0);
return [img.dataset.view, Number(img.dataset.seq), c.toDataURL('image/png')];
"""


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> Iterator[DaemonProcess]:
    folder = tmp_path_factory.mktemp("ui-browser")
    with DaemonProcess(folder, CONFIG, source=str(data_dir / "videos" / VIDEO), extra_args=FAST) as running:
        running.wait_streaming()
        yield running


@pytest.fixture(scope="module")
def ui(daemon: DaemonProcess) -> Iterator[UiProcess]:
    with UiProcess(daemon.socket) as process:
        yield process


@pytest.fixture(scope="module")
def page(ui: UiProcess) -> Iterator[Any]:
    for driver in browser.session():
        driver.get(ui.url)
        yield driver


def _preview(page: Any) -> tuple[str, int, np.ndarray] | None:
    found = page.execute_script(READ_PREVIEW)
    if not found:
        return None
    view, seq, data_url = found
    png = base64.b64decode(data_url.split(",", 1)[1])
    return view, seq, cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)


def _preview_after(page: Any, seq: int, view: str = "output") -> tuple[int, np.ndarray]:
    """The first preview of ``view`` showing a camera frame newer than ``seq``."""

    def newer() -> tuple[int, np.ndarray] | None:
        found = _preview(page)
        return (found[1], found[2]) if found and found[0] == view and found[1] > seq else None

    return wait_until(newer, 60, f"a {view} preview after frame {seq}")


def _sharpness(image: np.ndarray) -> float:
    """Detail in the picture: the variance of the Laplacian at half size (a blurred background has little)."""
    grey = cv2.cvtColor(cv2.resize(image, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2GRAY)
    return float(cv2.Laplacian(grey, cv2.CV_64F).var())


def _median_sharpness(page: Any, after: int, frames: int = 3) -> tuple[int, float]:
    values, seq = [], after
    for _ in range(frames):
        seq, image = _preview_after(page, seq)
        values.append(_sharpness(image))
    return seq, float(np.median(values))


def _settled(page: Any) -> None:
    """Wait until no change is on its way (the form is rebuilt after each)."""
    wait_until(lambda: page.execute_script("return !document.body.dataset.busy"), 30, "the last change's reply")


def _field(page: Any, key: str) -> Any:
    from selenium.webdriver.common.by import By

    _settled(page)
    return wait_until(lambda: page.find_elements(By.CSS_SELECTOR, f'[data-key="{key}"]'), 30, f"the field {key}")[0]


def _click(page: Any, element: Any) -> None:
    """Click as a person does, with the element in the middle of the window (not under the header)."""
    page.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
    element.click()


def _open(page: Any, section: str) -> None:
    from selenium.webdriver.common.by import By

    _click(page, _field(page, section).find_element(By.CSS_SELECTOR, "summary"))


def _type_into(page: Any, key: str, text: str) -> None:
    """Replace the field's text as a person does (select all, type, Enter: one change sent)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    box = _field(page, key).find_element(By.CSS_SELECTOR, "input")
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(text, Keys.ENTER)


def _effects(daemon: DaemonProcess) -> list[dict[str, Any]]:
    return daemon.status()["config"]["effects"]


def _screenshot(page: Any, name: str) -> None:
    folder = os.environ.get("VCAMSEG_UI_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.save_screenshot(str(Path(folder) / f"ui-{name}.png"))


def test_the_preview_shows_frames_and_moves_on(page: Any) -> None:
    seq, image = _preview_after(page, 0)
    assert image.shape[0] > 0 and image.std() > 5  # a picture, not a blank card
    later, _ = _preview_after(page, seq)
    assert later > seq
    status = wait_until(
        lambda: "fps" in page.find_element("id", "status").text and page.find_element("id", "status"), 30, "status"
    )
    assert "inference" in status.text and "CPU" in status.text


def test_a_blur_change_reaches_the_preview(page: Any, daemon: DaemonProcess) -> None:
    seq, sharp = _median_sharpness(page, 0)
    _type_into(page, "effects.0.background_blur", "100")
    wait_until(lambda: _effects(daemon)[0]["background_blur"] == 100, 30, "the daemon to run blur 100")
    _settled(page)
    assert page.find_element("id", "message").text == "applied: applied effects"  # sent once, not again on blur
    changed_at = daemon.status()["pipeline"]["frames"]["in"]
    _, blurred = _median_sharpness(page, max(seq, changed_at))
    print(f"preview sharpness: blur 1 {sharp:.1f}, blur 100 {blurred:.1f}")
    assert blurred < 0.6 * sharp
    _screenshot(page, "blur")


def test_an_invalid_value_shows_the_cli_message_at_its_field_and_changes_nothing(
    page: Any, daemon: DaemonProcess
) -> None:
    from selenium.webdriver.common.by import By

    before = daemon.status()["config"]
    _type_into(page, "effects.0.background_blur", "500")
    error = _field(page, "effects.0.background_blur").find_element(By.CSS_SELECTOR, ".error")
    wait_until(lambda: error.is_displayed() and error.text, 30, "the error next to the field")
    assert error.text == (
        "--set effects.0.background_blur=500: effects.0.background_blur: "
        "expected less than or equal to 100 (given: 500)"
    )
    assert "not applied" in page.find_element("id", "message").text
    assert daemon.status()["config"] == before
    _screenshot(page, "invalid")
    _type_into(page, "effects.0.background_blur", "abc")
    wait_until(lambda: "expected a number (given: 'abc')" in error.text, 30, "the CLI's message for text")
    assert daemon.status()["config"] == before


def test_effects_are_switched_added_reordered_and_removed(page: Any, daemon: DaemonProcess) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    def effect_types() -> list[str]:
        return [e["type"] for e in _effects(daemon)]

    Select(_field(page, "effects.0").find_element(By.CSS_SELECTOR, ".effect-type")).select_by_value("pixelate")
    wait_until(lambda: effect_types() == ["pixelate"], 30, "the effect switched to pixelate")
    _field(page, "effects.0.cell_size")  # the form shows the new effect's options
    Select(page.find_element(By.ID, "add-effect-type")).select_by_value("mirror")
    _click(page, page.find_element(By.ID, "add-effect"))
    wait_until(lambda: effect_types() == ["pixelate", "mirror"], 30, "a mirror added")
    _click(page, _field(page, "effects.1").find_element(By.CSS_SELECTOR, ".move-up"))
    wait_until(lambda: effect_types() == ["mirror", "pixelate"], 30, "the mirror moved first")
    _click(page, _field(page, "effects.0").find_element(By.CSS_SELECTOR, ".remove"))
    wait_until(lambda: effect_types() == ["pixelate"], 30, "the mirror removed")
    Select(_field(page, "effects.0").find_element(By.CSS_SELECTOR, ".effect-type")).select_by_value("blur")
    wait_until(lambda: effect_types() == ["blur"], 30, "back to blur")


def test_the_camera_and_mask_views(page: Any, daemon: DaemonProcess) -> None:
    from selenium.webdriver.common.by import By

    _click(page, page.find_element(By.CSS_SELECTOR, '[data-view="mask"]'))
    _, mask = _preview_after(page, 0, "mask")
    spread = np.abs(mask.astype(np.int16) - mask[..., :1]).max()
    assert spread <= 8, "the mask view is grey"  # JPEG chroma rounding at most
    _screenshot(page, "mask")
    _click(page, page.find_element(By.CSS_SELECTOR, '[data-view="camera"]'))
    _, camera = _preview_after(page, 0, "camera")
    assert np.abs(camera.astype(np.int16) - camera[..., :1]).max() > 30, "the camera view has colour"
    _click(page, page.find_element(By.CSS_SELECTOR, '[data-view="output"]'))
    _preview_after(page, 0, "output")


def test_a_key_that_waits_for_a_restart_is_marked_pending(page: Any, daemon: DaemonProcess) -> None:
    from selenium.webdriver.common.by import By

    running_fps = daemon.status()["config"]["output"]["fps"]
    _open(page, "output")
    _type_into(page, "output.fps", "10")
    wait_until(lambda: "output.fps" in daemon.status()["config_pending"], 30, "output.fps written, pending")
    assert daemon.status()["config"]["output"]["fps"] == running_fps  # the output stays open as it is
    wait_until(lambda: "pending" in _field(page, "output.fps").get_attribute("class"), 30, "the field marked")
    assert "pending: output.fps" in page.find_element(By.ID, "unsaved").text


def test_save_writes_the_file_keeping_its_comments(page: Any, daemon: DaemonProcess) -> None:
    from selenium.webdriver.common.by import By

    _open(page, "mask")
    _type_into(page, "mask.softness", "0.3")
    wait_until(lambda: daemon.status()["config"]["mask"]["softness"] == 0.3, 30, "softness applied")
    assert daemon.status()["runtime_changes"]
    page.find_element(By.ID, "save").click()
    wait_until(lambda: "saved and applied" in page.find_element(By.ID, "message").text, 30, "saved")
    text = daemon.config.read_text()
    assert "# my settings: this comment must survive Save" in text and "softness: 0.3" in text
    assert "fps: 10" in text
    assert "background_blur: 100" in text or "- type: blur" in text
    wait_until(lambda: not daemon.status()["runtime_changes"], 30, "nothing left unsaved")


def test_the_refusals_hold_against_a_real_daemon(ui: UiProcess, daemon: DaemonProcess, page: Any) -> None:
    before = daemon.status()["config"]
    status, _ = ui.json("GET", "/", token=None)
    assert status == 403
    status, _ = ui.json("GET", "/api/config", headers={"Host": f"evil.example:{ui.port}"})
    assert status == 403
    change = {"changes": ["effects.0.background_blur=42"]}
    status, _ = ui.json("POST", "/api/set", headers={"Origin": "http://evil.example"}, body=change)
    assert status == 403
    assert daemon.status()["config"] == before
    # The browser opening the address without its token gets the refusal, not the page.
    page.get(ui.url.split("?")[0])
    assert "missing or wrong token" in page.find_element("tag name", "body").text
    page.get(ui.url)


def test_the_api_contract(ui: UiProcess, daemon: DaemonProcess) -> None:
    status, reply = ui.json("GET", "/api/status")
    assert status == 200 and isinstance(reply["fps"], float) and reply["daemon"]["pid"] == daemon.pid
    assert {"cpu_ms_per_frame", "dropped", "inference_device", "idle", "readers"} <= set(reply)
    status, config = ui.json("GET", "/api/config")
    assert status == 200 and config == daemon.status()["config"]
    status, reply = ui.json("GET", "/api/frame?view=sideways")
    assert status == 400 and "unknown view 'sideways'" in reply["error"]
    status, reply = ui.json("GET", "/api/frame?max_width=5")
    assert status == 400 and "max_width must be a whole number from 16 to 4096" in reply["error"]
    status, headers, jpeg = ui.http("GET", "/api/frame?view=camera&max_width=200")
    image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert status == 200 and headers["content-type"] == "image/jpeg" and image.shape[1] == 200
    assert int(headers["x-frame-seq"]) > 0
    status, reply = ui.json("POST", "/api/set", body={"changes": ["effects.0.no_such_key=1"]})
    assert status == 400 and "unknown key 'no_such_key'" in reply["problems"][0]["message"]
    assert daemon.proc.poll() is None and daemon.status()["config"] == config
    assert not log_lines(daemon, "settings page"), "service.ui is off by default"


def test_the_daemon_starts_and_stops_the_page_when_configured(tmp_path: Path) -> None:
    """service.ui.enabled: `vcamseg ui` as the daemon's child, its address in the log, gone with it."""
    with DaemonProcess(tmp_path, "service:\n  ui:\n    enabled: true\n") as daemon:
        line = daemon.wait_for(lambda: log_lines(daemon, "settings page (pid"), 60, "the page's address")[0]
        pid = int(re.search(r"settings page \(pid (\d+)\)", line).group(1))  # type: ignore[union-attr]
        match = URL_LINE.search(line)
        assert match, line
        port, token = match.groups()
        assert Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1] == str(daemon.pid)  # its child
        daemon.wait_streaming()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token={token}", timeout=30) as reply:
            assert reply.status == 200 and json.load(reply)["daemon"]["pid"] == daemon.pid
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status", timeout=30)
        assert refused.value.code == 403
        daemon.terminate()  # within the stop promise, exit code 0
    assert not Path(f"/proc/{pid}").exists(), "the page stops with the daemon"
