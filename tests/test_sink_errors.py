"""Errors when the virtual camera cannot be opened name the cause and the fix.

Opened through the public path (`VirtualCameraSink`) with a pyvirtualcam backend that fails the
way pyvirtualcam's own v4l2loopback backend does; and the text that diagnosis matches is checked
against the installed pyvirtualcam, so a rewording there fails here rather than in the field."""

from __future__ import annotations

from pathlib import Path

import pytest
import pyvirtualcam

from vcamseg.errors import OutputError
from vcamseg.io.sinks import PYVIRTUALCAM_NOT_AN_OUTPUT, VirtualCameraSink, vcam

BACKEND = "vcamseg-refuses-writer"


class RefusingBackend:
    """What pyvirtualcam's v4l2loopback backend raises when the node does not take a new writer
    (v4l2loopback < 0.13 with exclusive_caps=1, after the previous writer closed)."""

    def __init__(self, *, device: str | None, **kw: object) -> None:
        raise RuntimeError(f"Device {device} is not a video output device.")


@pytest.fixture
def open_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    pyvirtualcam.register_backend(BACKEND, RefusingBackend)
    node = tmp_path / "video10"
    node.write_bytes(b"")

    def opened_with(version: tuple[int, ...] | None) -> OutputError:
        monkeypatch.setattr(vcam, "loopback_module_version", lambda: version)
        with pytest.raises(OutputError) as info:
            VirtualCameraSink(str(node), 64, 48, 30.0, backend=BACKEND)
        assert str(node) in info.value.message
        return info.value

    return opened_with


def test_module_limitation_before_0_13_is_explained(open_error) -> None:
    err = open_error((0, 12, 7))
    text = str(err)
    assert "v4l2loopback 0.12.7" in text and "#442" in text
    assert "modprobe -r v4l2loopback" in err.fix and ">= 0.13" in err.fix


def test_other_open_failures_get_the_generic_fix(open_error) -> None:
    err = open_error((0, 13, 2))
    assert "#442" not in str(err) and "no other program writes" in err.fix


def test_unknown_version_counts_as_before_0_13(open_error) -> None:
    assert "v4l2loopback < 0.13" in str(open_error(None))


def test_pyvirtualcam_still_says_what_the_diagnosis_matches() -> None:
    """The message comes from pyvirtualcam's native v4l2loopback backend (a compiled module)."""
    native = list(Path(pyvirtualcam.__file__).parent.glob("_native_linux_v4l2loopback*.so"))
    assert native, "pyvirtualcam's v4l2loopback backend is missing"
    assert PYVIRTUALCAM_NOT_AN_OUTPUT.encode() in native[0].read_bytes()
