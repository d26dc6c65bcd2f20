"""`source:` and `output:` — where frames come from, where they go, and when to idle."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field, field_validator

from vcamseg.config.base import Section, home_checked
from vcamseg.config.live import Live, marked


class SourceConfig(Section):
    """The camera (or a stand-in). ``device``: a V4L2 path (/dev/video0), an index (0), a video or
    image path, or ``test`` (a synthetic test pattern)."""

    device: Annotated[str, AfterValidator(home_checked)] = Field(
        "/dev/video0", description="/dev/videoN, an index, a video/image file, or 'test'."
    )
    width: int = Field(1280, ge=16, le=7680, description="Capture width asked of the camera.")
    height: int = Field(720, ge=16, le=4320, description="Capture height asked of the camera.")
    fps: float = Field(
        30.0,
        gt=0,
        le=240,
        description="Capture frame rate asked of the camera (images and the test "
        "pattern are repeated at this rate; video files play at their own rate).",
    )
    fourcc: Literal["MJPG", "YUYV", "auto"] = Field(
        "MJPG",
        description="Camera pixel format: MJPG gets HD at full rate from most USB cameras; YUYV is "
        "uncompressed; auto keeps the camera's current one.",
    )
    loop: bool = Field(True, description="Video files: start again at the end.")
    retry_interval_s: float = Field(
        1.0,
        gt=0,
        le=60,
        json_schema_extra=marked(Live.AT_ONCE),
        description="A lost camera is retried this often (the output shows a placeholder meanwhile).",
    )
    stall_timeout_s: float = Field(
        2.0,
        gt=0,
        le=60,
        json_schema_extra=marked(Live.AT_ONCE),
        description="No frame from the source for this long counts as a lost camera: the output "
        "switches to the placeholder (a read can block for seconds when a camera is unplugged).",
    )
    warmup_frames: int = Field(
        5,
        ge=0,
        le=300,
        description="Cameras: frames thrown away after opening (auto exposure settles; some cameras "
        "send black or half-decoded frames first). Also what `vcamseg snapshot` skips.",
    )

    @field_validator("device", mode="before")
    @classmethod
    def _device(cls, value: object) -> object:
        return str(value) if isinstance(value, int) else value


class IdleConfig(Section):
    """Idling while no application reads the virtual camera: the webcam is released (its LED goes off),
    inference stops, and the output gets a cheap idle picture so the camera stays listed in apps."""

    detection: Literal["auto", "event", "inotify", "off"] = Field(
        "auto",
        description="How readers of the loopback device are detected: 'event' (v4l2loopback >= 0.13 client-"
        "usage event, exact), 'inotify' (open/close counting on the node, debounced), 'auto' (event, else inotify), "
        "'off' (never idle). File and null outputs never idle.",
    )
    grace_s: float = Field(
        5.0,
        ge=0,
        le=3600,
        json_schema_extra=marked(Live.AT_ONCE),
        description="Seconds without a reader before going idle (a browser closes and reopens "
        "the camera while negotiating; this keeps the webcam from bouncing).",
    )
    fps: float = Field(
        2.0, gt=0, le=60, json_schema_extra=marked(Live.AT_ONCE), description="Frame rate of the idle picture."
    )
    min_reader_hold_s: float = Field(
        0.7,
        ge=0,
        le=10,
        description="inotify detection: an open must last this long to count as a reader "
        "(Chrome, Discord and WirePlumber probe devices with short open/close pairs).",
    )
    resync_interval_s: float = Field(
        10.0,
        gt=0,
        le=600,
        description="event detection: re-read the reader state through a fresh file descriptor "
        "this often (the event is edge-triggered; a missed edge would otherwise latch).",
    )


class OutputConfig(Section):
    """The virtual camera (or a file)."""

    device: Annotated[str, AfterValidator(home_checked)] = Field(
        "label:vcamseg",
        description="A loopback device (/dev/video10), 'label:NAME' (found by its "
        "v4l2loopback card_label), a video file path (.mp4, .avi, .mkv), an image path (last frame), or 'null'.",
    )
    width: int | None = Field(None, ge=16, le=7680, description="Output width; default: the source's.")
    height: int | None = Field(None, ge=16, le=4320, description="Output height; default: the source's.")
    fps: float | None = Field(None, gt=0, le=240, description="Output frame rate; default: the source's.")
    pixel_format: Literal["I420", "YUYV"] = Field(
        "I420",
        description="Virtual camera pixel format: I420 (pyvirtualcam converts BGR with libyuv; Chrome, Zoom, "
        "Teams accept it) or YUYV (converted here; the safest for picky apps such as older Skype or Firefox).",
    )
    codec: str = Field(
        "auto",
        min_length=3,
        max_length=4,
        description="Video file outputs: FourCC for cv2.VideoWriter ('auto': "
        "mp4v for .mp4/.mov, MJPG for .avi, XVID for .mkv).",
    )
    preview: bool = Field(
        False, description="Show the output in a window too (only when $DISPLAY or $WAYLAND_DISPLAY is set)."
    )
    retry_interval_s: float = Field(
        2.0,
        gt=0,
        le=60,
        json_schema_extra=marked(Live.AT_ONCE),
        description="A virtual camera that disappeared (module unloaded) is reopened this often.",
    )
    idle: IdleConfig = Field(default_factory=IdleConfig)
