"""v4l2loopback, the kernel module behind the virtual camera: its devices (`devices`: sysfs,
resolving ``label:NAME``, the module version, THE modprobe line), who holds a node open
(`procfs`), the client-usage event (`events`) and the reader monitors built on them (`monitors`).

The names importers need are re-exported here; import them from ``vcamseg.io.loopback``.
"""

from __future__ import annotations

from vcamseg.io.loopback.devices import (
    CARD_LABEL,
    DEFAULT_DEVICE,
    MODPROBE_HINT,
    MODPROBE_OPTIONS,
    MODULE,
    SYSFS_VIDEO4LINUX,
    VIDEO_NR,
    LoopbackDevice,
    loopback_devices,
    loopback_module_version,
    modprobe_command,
    modprobe_options,
    resolve_output_device,
)
from vcamseg.io.loopback.events import (
    CannotOpenNode,
    ClientUsage,
    decode_event,
    drain_events,
    read_client_usage,
    subscribe_client_usage,
    subscribed_fd,
    supports_client_usage,
)
from vcamseg.io.loopback.monitors import (
    DISTRUST_AFTER_OVERFLOW_S,
    AlwaysWatched,
    EventReaderMonitor,
    InotifyReaderMonitor,
    ReaderMonitor,
    ReaderState,
    create_monitor,
)
from vcamseg.io.loopback.procfs import Holder, holders, own_fd_count

__all__ = [
    "CARD_LABEL",
    "DEFAULT_DEVICE",
    "DISTRUST_AFTER_OVERFLOW_S",
    "MODPROBE_HINT",
    "MODPROBE_OPTIONS",
    "MODULE",
    "SYSFS_VIDEO4LINUX",
    "VIDEO_NR",
    "AlwaysWatched",
    "CannotOpenNode",
    "ClientUsage",
    "EventReaderMonitor",
    "Holder",
    "InotifyReaderMonitor",
    "LoopbackDevice",
    "ReaderMonitor",
    "ReaderState",
    "create_monitor",
    "decode_event",
    "drain_events",
    "holders",
    "loopback_devices",
    "loopback_module_version",
    "modprobe_command",
    "modprobe_options",
    "own_fd_count",
    "read_client_usage",
    "resolve_output_device",
    "subscribe_client_usage",
    "subscribed_fd",
    "supports_client_usage",
]
