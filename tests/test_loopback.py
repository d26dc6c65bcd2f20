"""Reader detection for the virtual camera: V4L2 structs as the kernel lays them out, inotify
counting against real open/close events on a real file, and card-label lookup in sysfs."""

from __future__ import annotations

import ctypes
import errno
import os
import struct
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from vcamseg.errors import OutputError
from vcamseg.io import v4l2
from vcamseg.io.inotify import IN_CLOSE_NOWRITE, IN_OPEN, IN_Q_OVERFLOW, parse_events
from vcamseg.io.loopback import (
    MODPROBE_HINT,
    CannotOpenNode,
    InotifyReaderMonitor,
    create_monitor,
    decode_event,
    holders,
    loopback_devices,
    loopback_module_version,
    modprobe_command,
    own_fd_count,
    read_client_usage,
    resolve_output_device,
    subscribe_client_usage,
    subscribed_fd,
    supports_client_usage,
)

pytestmark = pytest.mark.pure  # no ../shared, no TensorFlow

# --- struct layouts and ioctl numbers (x86-64 values from <linux/videodev2.h>) ---------------------


def test_ioctl_numbers_match_the_kernel_headers() -> None:
    assert v4l2.VIDIOC_SUBSCRIBE_EVENT == 0x4020565A
    assert v4l2.VIDIOC_DQEVENT == 0x80885659
    assert v4l2.VIDIOC_QUERYCAP == 0x80685600
    assert v4l2.VIDIOC_ENUM_FMT == 0xC0405602
    assert v4l2.VIDIOC_ENUM_FRAMESIZES == 0xC02C564A
    assert v4l2.VIDIOC_ENUM_FRAMEINTERVALS == 0xC034564B


def test_struct_sizes_and_offsets_match_the_kernel() -> None:
    assert ctypes.sizeof(v4l2.EventSubscription) == 32
    assert ctypes.sizeof(v4l2.Event) == 136
    # The union follows 4 bytes of padding (it is 8-byte aligned by v4l2_event_ctrl's __s64).
    assert v4l2.Event.u.offset == 8
    assert v4l2.Event.pending.offset == 72
    assert v4l2.Event.sequence.offset == 76
    assert v4l2.Event.timestamp.offset == 80
    assert v4l2.Event.id.offset == 96
    assert v4l2.Event.reserved.offset == 100
    assert ctypes.sizeof(v4l2.Capability) == 104
    assert ctypes.sizeof(v4l2.FmtDesc) == 64
    assert ctypes.sizeof(v4l2.FrmSizeEnum) == 44
    assert ctypes.sizeof(v4l2.FrmIvalEnum) == 52
    assert v4l2.EVENT_PRI_CLIENT_USAGE == 0x10E00001


def test_subscription_bytes_are_what_the_kernel_reads() -> None:
    sub = v4l2.EventSubscription(type=v4l2.EVENT_PRI_CLIENT_USAGE, id=0, flags=v4l2.EVENT_SUB_FL_SEND_INITIAL)
    assert bytes(sub) == struct.pack("<8I", 0x10E00001, 0, 1, 0, 0, 0, 0, 0)


def _kernel_event(kind: int, count: int, pending: int, sequence: int, sec: int, nsec: int, ident: int) -> bytes:
    """struct v4l2_event packed by hand, field by field, as the kernel writes it on x86-64."""
    head = struct.pack("<I4x", kind)  # type, then padding up to the 8-aligned union
    union = struct.pack("<I", count) + bytes(60)  # struct v4l2_event_client_usage in data[64]
    tail = struct.pack("<IIqqI8I4x", pending, sequence, sec, nsec, ident, *([0] * 8))
    raw = head + union + tail
    assert len(raw) == 136
    return raw


@pytest.mark.parametrize("count", [0, 1])
def test_client_usage_event_decodes_from_kernel_bytes(count: int) -> None:
    raw = _kernel_event(0x10E00001, count, pending=2, sequence=41, sec=1234, nsec=5678, ident=0)
    usage = decode_event(raw)
    assert (usage.type, usage.count, usage.pending, usage.sequence) == (0x10E00001, count, 2, 41)
    event = v4l2.Event.from_buffer_copy(raw)
    assert (event.timestamp.tv_sec, event.timestamp.tv_nsec) == (1234, 5678)


def test_a_file_without_the_event_falls_back_to_inotify(tmp_path: Path) -> None:
    node = tmp_path / "video10"
    node.write_bytes(b"")
    fd = os.open(node, os.O_RDONLY)
    try:
        with pytest.raises(OSError) as info:
            subscribe_client_usage(fd)
        assert info.value.errno in (errno.ENOTTY, errno.EINVAL)
    finally:
        os.close(fd)
    assert not supports_client_usage(str(node))
    assert isinstance(create_monitor(str(node), "auto"), InotifyReaderMonitor)
    assert create_monitor(str(node), "off").state is True


def test_the_subscribed_fd_is_closed_whatever_happens(tmp_path: Path) -> None:
    node = tmp_path / "video10"
    node.write_bytes(b"")
    with pytest.raises(OSError) as info, subscribed_fd(str(node)):
        pass
    assert info.value.errno in (errno.ENOTTY, errno.EINVAL) and not isinstance(info.value, CannotOpenNode)
    assert own_fd_count(str(node)) == 0, "the fd opened for the subscription is closed again"
    assert read_client_usage(str(node)) is None
    with pytest.raises(CannotOpenNode), subscribed_fd(str(tmp_path / "video11")):
        pass
    assert not supports_client_usage(str(tmp_path / "video11"))


# --- inotify parsing -----------------------------------------------------------------------------------


def test_inotify_events_parse_with_and_without_names() -> None:
    raw = (
        struct.pack("iIII", 1, IN_OPEN, 0, 0)
        + struct.pack("iIII", 1, IN_CLOSE_NOWRITE, 0, 16)
        + b"video10".ljust(16, b"\0")
        + struct.pack("iIII", -1, IN_Q_OVERFLOW, 0, 0)
    )
    events = parse_events(raw)
    assert [(e.wd, e.mask, e.name) for e in events] == [
        (1, IN_OPEN, ""),
        (1, IN_CLOSE_NOWRITE, "video10"),
        (-1, IN_Q_OVERFLOW, ""),
    ]


# --- inotify counting on a real file ----------------------------------------------------------------


def _wait_for(predicate: Callable[[], bool], timeout: float = 3.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def _hold(path: Path, seconds: float) -> subprocess.Popen[bytes]:
    """Another process that opens ``path`` and keeps it open (an application reading the camera)."""
    return subprocess.Popen(["bash", "-c", f'exec 3<"{path}"; sleep {seconds}'])


@pytest.fixture
def node(tmp_path: Path) -> Path:
    path = tmp_path / "video10"
    path.write_bytes(b"\0" * 16)
    return path


@pytest.fixture
def monitor(node: Path):
    changes: list[bool | None] = []
    mon = InotifyReaderMonitor(str(node), min_hold_s=0.4, on_change=changes.append)
    mon.changes = changes  # type: ignore[attr-defined]
    mon.start()
    assert _wait_for(lambda: mon.state is False), "nobody has the file open: not in use"
    yield mon
    mon.stop()


def test_own_fds_are_not_readers(node: Path, monitor: InotifyReaderMonitor) -> None:
    opened = threading.Event()
    release = threading.Event()

    def open_in_thread() -> None:
        with node.open("rb"):
            opened.set()
            release.wait(5)

    thread = threading.Thread(target=open_in_thread)
    thread.start()
    assert opened.wait(2)
    assert own_fd_count(str(node)) == 1
    time.sleep(monitor.min_hold_s + 0.4)  # long past the hold time
    assert monitor.state is False
    release.set()
    thread.join()
    assert True not in monitor.changes  # type: ignore[attr-defined]


def test_a_reader_holding_the_device_counts_and_its_close_ends_it(node: Path, monitor: InotifyReaderMonitor) -> None:
    reader = _hold(node, 1.5)
    try:
        assert _wait_for(lambda: monitor.state is True, 2.0)
        assert len(holders(str(node))) == 1, "the /proc scan (diagnostics) sees the other process too"
    finally:
        reader.wait(5)
    assert _wait_for(lambda: monitor.state is False, 2.0)


def test_short_probes_are_not_counted(node: Path, monitor: InotifyReaderMonitor) -> None:
    for _ in range(5):  # like Chrome/Discord/WirePlumber enumerating devices
        subprocess.run(["bash", "-c", f'exec 3<"{node}"; exec 3<&-'], check=True)
    time.sleep(monitor.min_hold_s + 0.3)
    assert monitor.state is False
    assert True not in monitor.changes  # type: ignore[attr-defined]


def test_a_reader_that_opened_before_the_watch_is_found_in_proc(node: Path) -> None:
    reader = _hold(node, 2.0)
    try:
        assert _wait_for(lambda: len(holders(str(node))) == 1)
        mon = InotifyReaderMonitor(str(node), min_hold_s=0.2)
        mon.start()
        try:
            assert _wait_for(lambda: mon.state is True, 1.5)
        finally:
            mon.stop()
    finally:
        reader.kill()
        reader.wait()


def test_a_deleted_node_makes_the_state_unknown(node: Path, monitor: InotifyReaderMonitor) -> None:
    node.unlink()
    assert _wait_for(lambda: monitor.state is None, 2.0), "unknown is treated as in use"


def test_a_monitor_may_be_stopped_twice_and_without_a_start(node: Path) -> None:
    started = InotifyReaderMonitor(str(node), min_hold_s=0.2)
    started.start()
    started.stop()
    # The first stop closed its wake-up pipe; a new pipe now likely gets the same fd numbers,
    # and the second stop must not write to or close them.
    read_fd, write_fd = os.pipe()
    try:
        started.stop()
        os.write(write_fd, b"y")
        assert os.read(read_fd, 8) == b"y"
    finally:
        os.close(read_fd)
        os.close(write_fd)
    InotifyReaderMonitor(str(node)).stop()


# --- finding the device ------------------------------------------------------------------------------


def _fake_sysfs(root: Path, nodes: dict[str, str]) -> Path:
    for name, label in nodes.items():
        (root / name).mkdir(parents=True)
        (root / name / "name").write_text(label + "\n")
    return root


def test_loopback_devices_are_found_by_card_label(tmp_path: Path) -> None:
    sysfs = _fake_sysfs(tmp_path / "video4linux", {"video10": "vcamseg", "video2": "OBS Cam"})
    assert [(d.path, d.label) for d in loopback_devices(str(sysfs))] == [
        ("/dev/video2", "OBS Cam"),
        ("/dev/video10", "vcamseg"),
    ]
    assert resolve_output_device("label:vcamseg", str(sysfs)) == "/dev/video10"


def test_missing_label_says_how_to_load_the_module(tmp_path: Path) -> None:
    sysfs = _fake_sysfs(tmp_path / "video4linux", {"video2": "OBS Cam"})
    with pytest.raises(OutputError) as info:
        resolve_output_device("label:vcamseg", str(sysfs))
    assert "vcamseg" in str(info.value) and "OBS Cam" in str(info.value)
    assert MODPROBE_HINT in info.value.fix


def test_missing_device_path_says_how_to_load_the_module() -> None:
    with pytest.raises(OutputError) as info:
        resolve_output_device("/dev/video99")
    assert "modprobe v4l2loopback" in info.value.fix and "exclusive_caps=1" in info.value.fix


def test_the_hint_for_another_label_changes_only_the_label() -> None:
    assert modprobe_command() == MODPROBE_HINT
    assert modprobe_command("OBS") == MODPROBE_HINT.replace("card_label=vcamseg", "card_label=OBS")


def test_the_module_version_comes_from_sysfs(tmp_path: Path) -> None:
    version = tmp_path / "version"
    version.write_text("0.13.2\n")
    assert loopback_module_version(str(version)) == (0, 13, 2)
    assert loopback_module_version(str(tmp_path / "missing")) is None, "before 0.13 the file does not exist"
