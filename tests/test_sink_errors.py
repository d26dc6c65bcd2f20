"""Errors when the virtual camera cannot be opened name the cause and the fix."""

from __future__ import annotations

import pytest

from vcamseg.io import sinks

PYVIRTUALCAM_SAYS = RuntimeError("'v4l2loopback' backend: Device /dev/video10 is not a video output device.")


def test_module_limitation_before_0_13_is_explained(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sinks, "loopback_module_version", lambda: (0, 12, 7))
    err = sinks._open_error("/dev/video10", PYVIRTUALCAM_SAYS)
    text = str(err)
    assert "v4l2loopback 0.12.7" in text and "#442" in text
    assert "modprobe -r v4l2loopback" in err.fix and ">= 0.13" in err.fix


def test_other_open_failures_get_the_generic_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sinks, "loopback_module_version", lambda: (0, 13, 2))
    err = sinks._open_error("/dev/video10", PYVIRTUALCAM_SAYS)
    assert "#442" not in str(err) and "no other program writes" in err.fix


def test_unknown_version_counts_as_before_0_13(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sinks, "loopback_module_version", lambda: None)
    assert "v4l2loopback < 0.13" in str(sinks._open_error("/dev/video10", PYVIRTUALCAM_SAYS))
