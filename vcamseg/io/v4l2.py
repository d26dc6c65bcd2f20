"""The few V4L2 ioctls vcamseg uses, laid out with ctypes exactly as <linux/videodev2.h> does on
x86-64 (and other LP64 Linux ABIs): device capabilities, format/frame-size/frame-interval
enumeration (``vcamseg devices``) and event subscription (loopback reader detection).

Struct sizes are part of the ioctl numbers, so a layout mistake shows up as ENOTTY, not as silent
garbage; tests check sizes and numbers against the values the kernel headers produce.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import os
from dataclasses import dataclass

from vcamseg.io.media import fourcc_text

# <asm-generic/ioctl.h>: dir(2) | size(14) | type(8) | nr(8)
_IOC_WRITE = 1
_IOC_READ = 2


def _ioc(direction: int, kind: str, nr: int, size: int) -> int:
    return (direction << 30) | (size << 16) | (ord(kind) << 8) | nr


def _ior(kind: str, nr: int, struct: type[ctypes.Structure]) -> int:
    return _ioc(_IOC_READ, kind, nr, ctypes.sizeof(struct))


def _iow(kind: str, nr: int, struct: type[ctypes.Structure]) -> int:
    return _ioc(_IOC_WRITE, kind, nr, ctypes.sizeof(struct))


def _iowr(kind: str, nr: int, struct: type[ctypes.Structure]) -> int:
    return _ioc(_IOC_READ | _IOC_WRITE, kind, nr, ctypes.sizeof(struct))


class Capability(ctypes.Structure):
    """struct v4l2_capability (104 bytes)."""

    _fields_ = [
        ("driver", ctypes.c_char * 16),
        ("card", ctypes.c_char * 32),
        ("bus_info", ctypes.c_char * 32),
        ("version", ctypes.c_uint32),
        ("capabilities", ctypes.c_uint32),
        ("device_caps", ctypes.c_uint32),
        ("reserved", ctypes.c_uint32 * 3),
    ]


class FmtDesc(ctypes.Structure):
    """struct v4l2_fmtdesc (64 bytes)."""

    _fields_ = [
        ("index", ctypes.c_uint32),
        ("type", ctypes.c_uint32),
        ("flags", ctypes.c_uint32),
        ("description", ctypes.c_char * 32),
        ("pixelformat", ctypes.c_uint32),
        ("mbus_code", ctypes.c_uint32),
        ("reserved", ctypes.c_uint32 * 3),
    ]


class _FrmSizeDiscrete(ctypes.Structure):
    _fields_ = [("width", ctypes.c_uint32), ("height", ctypes.c_uint32)]


class _FrmSizeStepwise(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_uint32)
        for name in ("min_width", "max_width", "step_width", "min_height", "max_height", "step_height")
    ]


class _FrmSizeUnion(ctypes.Union):
    _fields_ = [("discrete", _FrmSizeDiscrete), ("stepwise", _FrmSizeStepwise)]


class FrmSizeEnum(ctypes.Structure):
    """struct v4l2_frmsizeenum (44 bytes)."""

    _anonymous_ = ("u",)
    _fields_ = [
        ("index", ctypes.c_uint32),
        ("pixel_format", ctypes.c_uint32),
        ("type", ctypes.c_uint32),
        ("u", _FrmSizeUnion),
        ("reserved", ctypes.c_uint32 * 2),
    ]


class Fract(ctypes.Structure):
    _fields_ = [("numerator", ctypes.c_uint32), ("denominator", ctypes.c_uint32)]


class _OutputParm(ctypes.Structure):
    """struct v4l2_outputparm (40 bytes); v4l2_captureparm has the same layout where it matters."""

    _fields_ = [
        ("capability", ctypes.c_uint32),
        ("mode", ctypes.c_uint32),
        ("timeperframe", Fract),
        ("extendedmode", ctypes.c_uint32),
        ("buffers", ctypes.c_uint32),
        ("reserved", ctypes.c_uint32 * 4),
    ]


class _StreamParmUnion(ctypes.Union):
    _fields_ = [("output", _OutputParm), ("raw_data", ctypes.c_uint8 * 200)]


class StreamParm(ctypes.Structure):
    """struct v4l2_streamparm (204 bytes)."""

    _anonymous_ = ("parm",)
    _fields_ = [("type", ctypes.c_uint32), ("parm", _StreamParmUnion)]


class _FrmIvalStepwise(ctypes.Structure):
    _fields_ = [("min", Fract), ("max", Fract), ("step", Fract)]


class _FrmIvalUnion(ctypes.Union):
    _fields_ = [("discrete", Fract), ("stepwise", _FrmIvalStepwise)]


class FrmIvalEnum(ctypes.Structure):
    """struct v4l2_frmivalenum (52 bytes)."""

    _anonymous_ = ("u",)
    _fields_ = [
        ("index", ctypes.c_uint32),
        ("pixel_format", ctypes.c_uint32),
        ("width", ctypes.c_uint32),
        ("height", ctypes.c_uint32),
        ("type", ctypes.c_uint32),
        ("u", _FrmIvalUnion),
        ("reserved", ctypes.c_uint32 * 2),
    ]


class EventSubscription(ctypes.Structure):
    """struct v4l2_event_subscription (32 bytes)."""

    _fields_ = [
        ("type", ctypes.c_uint32),
        ("id", ctypes.c_uint32),
        ("flags", ctypes.c_uint32),
        ("reserved", ctypes.c_uint32 * 5),
    ]


class _EventUnion(ctypes.Union):
    # The kernel's union holds struct v4l2_event_ctrl, whose __s64 value makes the union 8-byte
    # aligned (so it starts at offset 8, after 4 bytes of padding); data[64] sets its size.
    _fields_ = [("data", ctypes.c_uint8 * 64), ("_align", ctypes.c_int64)]


class Timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


class Event(ctypes.Structure):
    """struct v4l2_event (136 bytes on x86-64: 132 plus tail padding to 8)."""

    _fields_ = [
        ("type", ctypes.c_uint32),
        ("u", _EventUnion),
        ("pending", ctypes.c_uint32),
        ("sequence", ctypes.c_uint32),
        ("timestamp", Timespec),
        ("id", ctypes.c_uint32),
        ("reserved", ctypes.c_uint32 * 8),
    ]


VIDIOC_QUERYCAP = _ior("V", 0, Capability)
VIDIOC_S_PARM = _iowr("V", 22, StreamParm)
VIDIOC_ENUM_FMT = _iowr("V", 2, FmtDesc)
VIDIOC_ENUM_FRAMESIZES = _iowr("V", 74, FrmSizeEnum)
VIDIOC_ENUM_FRAMEINTERVALS = _iowr("V", 75, FrmIvalEnum)
VIDIOC_DQEVENT = _ior("V", 89, Event)
VIDIOC_SUBSCRIBE_EVENT = _iow("V", 90, EventSubscription)

BUF_TYPE_VIDEO_CAPTURE = 1
BUF_TYPE_VIDEO_OUTPUT = 2
CAP_VIDEO_CAPTURE = 0x00000001
CAP_VIDEO_OUTPUT = 0x00000002
CAP_DEVICE_CAPS = 0x80000000
FRMSIZE_TYPE_DISCRETE = 1
FRMIVAL_TYPE_DISCRETE = 1

EVENT_SUB_FL_SEND_INITIAL = 1
EVENT_PRIVATE_START = 0x08000000
# v4l2loopback >= 0.13: V4L2_EVENT_PRIVATE_START + 0x08E00000 + 1; payload struct { __u32 count; }.
EVENT_PRI_CLIENT_USAGE = EVENT_PRIVATE_START + 0x08E00000 + 1
# Ubuntu's patched 0.12.x DKMS queued the same event under V4L2_EVENT_PRIVATE_START itself.
EVENT_PRI_CLIENT_USAGE_OLD = EVENT_PRIVATE_START

LOOPBACK_DRIVER = "v4l2 loopback"


def ioctl(fd: int, request: int, arg: ctypes.Structure) -> None:
    """ioctl with a ctypes struct, filled in place; raises OSError (EINTR is retried)."""
    while True:
        try:
            fcntl.ioctl(fd, request, arg, True)
            return
        except InterruptedError:
            continue


def set_frame_rate(path: str, fps: float, buffer_type: int = BUF_TYPE_VIDEO_OUTPUT) -> float:
    """Announce ``fps`` as the stream's frame rate (VIDIOC_S_PARM); returns what the driver kept.
    v4l2loopback passes the output's rate on to readers (ffmpeg, Chrome show it)."""
    fd = os.open(path, os.O_RDWR | os.O_NONBLOCK)
    try:
        parm = StreamParm(type=buffer_type)
        denominator = 1000
        parm.output.timeperframe = Fract(round(denominator / fps), denominator)
        ioctl(fd, VIDIOC_S_PARM, parm)
        tpf = parm.output.timeperframe
        return tpf.denominator / tpf.numerator if tpf.numerator else 0.0
    finally:
        os.close(fd)


def query_capability(fd: int) -> Capability:
    cap = Capability()
    ioctl(fd, VIDIOC_QUERYCAP, cap)
    return cap


@dataclass(frozen=True)
class DeviceInfo:
    path: str
    driver: str
    card: str
    bus: str
    capture: bool  # the node announces VIDEO_CAPTURE now
    output: bool  # ... or VIDEO_OUTPUT (a loopback with exclusive_caps=1 and no writer)

    @property
    def is_loopback(self) -> bool:
        return self.driver == LOOPBACK_DRIVER


def device_info(path: str) -> DeviceInfo:
    """VIDIOC_QUERYCAP on ``path``; raises OSError when it is no V4L2 device."""
    fd = os.open(path, os.O_RDWR | os.O_NONBLOCK)
    try:
        cap = query_capability(fd)
    finally:
        os.close(fd)
    caps = cap.device_caps if cap.capabilities & CAP_DEVICE_CAPS else cap.capabilities
    return DeviceInfo(
        path,
        cap.driver.decode(errors="replace"),
        cap.card.decode(errors="replace"),
        cap.bus_info.decode(errors="replace"),
        bool(caps & CAP_VIDEO_CAPTURE),
        bool(caps & CAP_VIDEO_OUTPUT),
    )


@dataclass(frozen=True)
class CameraMode:
    fourcc: str
    description: str
    width: int
    height: int
    fps: tuple[float, ...]


def _enumerate(fd: int, request: int, struct: ctypes.Structure) -> bool:
    try:
        ioctl(fd, request, struct)
    except OSError as exc:
        if exc.errno in (errno.EINVAL, errno.ENOTTY):  # end of the list / not supported
            return False
        raise
    return True


def camera_modes(path: str) -> list[CameraMode]:
    """Every (format, discrete size, frame rates) the capture device offers."""
    modes: list[CameraMode] = []
    fd = os.open(path, os.O_RDWR | os.O_NONBLOCK)
    try:
        fmt = FmtDesc(type=BUF_TYPE_VIDEO_CAPTURE)
        while _enumerate(fd, VIDIOC_ENUM_FMT, fmt):
            size = FrmSizeEnum(pixel_format=fmt.pixelformat)
            while _enumerate(fd, VIDIOC_ENUM_FRAMESIZES, size):
                if size.type != FRMSIZE_TYPE_DISCRETE:
                    sw = size.stepwise
                    modes.append(
                        CameraMode(
                            fourcc_text(fmt.pixelformat),
                            fmt.description.decode(errors="replace"),
                            sw.max_width,
                            sw.max_height,
                            (),
                        )
                    )
                    break
                w, h = size.discrete.width, size.discrete.height
                modes.append(
                    CameraMode(
                        fourcc_text(fmt.pixelformat),
                        fmt.description.decode(errors="replace"),
                        w,
                        h,
                        tuple(_frame_rates(fd, fmt.pixelformat, w, h)),
                    )
                )
                size.index += 1
            fmt.index += 1
    finally:
        os.close(fd)
    return modes


def _frame_rates(fd: int, pixel_format: int, width: int, height: int) -> list[float]:
    rates: list[float] = []
    ival = FrmIvalEnum(pixel_format=pixel_format, width=width, height=height)
    while _enumerate(fd, VIDIOC_ENUM_FRAMEINTERVALS, ival):
        frac = ival.discrete if ival.type == FRMIVAL_TYPE_DISCRETE else ival.stepwise.min
        if frac.numerator:
            rates.append(round(frac.denominator / frac.numerator, 2))
        if ival.type != FRMIVAL_TYPE_DISCRETE:
            break
        ival.index += 1
    return rates
