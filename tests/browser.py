"""A real headless Chromium for the settings page's tests: Debian's ``chromium`` and
``chromium-driver`` driven by selenium (no browser download). Installed with apt when missing and
the tests run as root (CI's fresh machine; the VM tests install host packages the same way); when
it cannot be had the tests are skipped, or fail under ``VCAMSEG_REQUIRE_SHARED=1`` (CI), which
must not pass without having run them."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

PACKAGES = ("chromium", "chromium-driver")
WINDOW = "1400,1000"


def _unavailable(why: str) -> None:
    if os.environ.get("VCAMSEG_REQUIRE_SHARED"):
        pytest.fail(f"the browser tests must run here: {why}", pytrace=False)
    pytest.skip(why)


def _binaries() -> tuple[str | None, str | None]:
    return shutil.which("chromium"), shutil.which("chromedriver")


def ensure_chromium() -> tuple[str, str]:
    """(chromium, chromedriver) paths, installing Debian's packages when missing and root."""
    browser, driver = _binaries()
    if browser and driver:
        return browser, driver
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        _unavailable(f"needs {' and '.join(PACKAGES)} (apt-get install -y {' '.join(PACKAGES)})")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", *PACKAGES]):
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=900)
        if done.returncode != 0:
            _unavailable(f"`{' '.join(command)}` failed: {done.stderr[-2000:]}")
    browser, driver = _binaries()
    if not (browser and driver):
        _unavailable(f"{' and '.join(PACKAGES)} installed, but chromium or chromedriver is not on PATH")
    return browser, driver


def chrome(browser: str, driver: str) -> Any:
    """A headless Chromium session (selenium WebDriver)."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        _unavailable("needs selenium (the test extra: pip install -e '.[test]')")
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(argument)
    options.add_argument(f"--window-size={WINDOW}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(options=options, service=Service(driver))


def session() -> Iterator[Any]:
    """A browser for one module's tests (the fixture's body)."""
    browser, driver = ensure_chromium()
    driver_session = chrome(browser, driver)
    try:
        yield driver_session
    finally:
        driver_session.quit()
