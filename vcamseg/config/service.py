"""`service:` — how the daemon runs: logging, the control socket, live reload, systemd status."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BeforeValidator, Field

from vcamseg.config.base import Section, UserPath
from vcamseg.config.live import Live, marked

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]


def _upper(value: object) -> object:
    return value.strip().upper() if isinstance(value, str) else value


class UiConfig(Section):
    """The settings page (`vcamseg ui`) started with the daemon. Off by default: then nothing listens."""

    enabled: bool = Field(
        False,
        description="Start the settings page with the daemon, as its own process listening on 127.0.0.1 "
        "(`vcamseg ui --no-browser`); its address, with the token of this start, is logged. Needs control_socket.",
    )
    port: int = Field(0, ge=0, le=65535, description="Its port on 127.0.0.1; 0: any free one (see the log).")


class ServiceConfig(Section):
    """The daemon (`vcamseg run`, the systemd user service): logs, control socket, live reload.
    The systemd watchdog interval is the unit's WatchdogSec (systemd passes it on)."""

    log_level: Annotated[LogLevel, BeforeValidator(_upper)] = Field(
        "INFO",
        json_schema_extra=marked(Live.AT_ONCE),
        description="Log verbosity on stderr (the journal under systemd): DEBUG, INFO, WARNING or ERROR. "
        "The command line's --log-level wins. Applied live.",
    )
    control_socket: bool = Field(
        True,
        description="Serve `vcamseg status`, `vcamseg set` and `vcamseg snapshot` on a Unix socket (only this "
        "user may connect; never TCP). Off: those commands cannot reach the daemon, and nothing stops a second daemon.",
    )
    control_socket_path: UserPath | None = Field(
        None,
        description="The control socket (default $XDG_RUNTIME_DIR/vcamseg/control.sock). One daemon per "
        "socket: give a second daemon (a second virtual camera) its own.",
    )
    watch_config: bool = Field(
        True,
        description="Reload the config file when it changes (editors that save by rename included); SIGHUP "
        "(`systemctl --user reload vcamseg`) reloads it either way.",
    )
    reload_debounce_ms: int = Field(
        300,
        ge=0,
        le=10000,
        description="Quiet time after the last change to the file before it is reloaded "
        "(editors write a file in several steps).",
    )
    notify_status_interval_s: float = Field(
        5.0,
        gt=0,
        le=3600,
        json_schema_extra=marked(Live.AT_ONCE),
        description="How often the status line systemd shows (`systemctl --user status "
        "vcamseg`) is updated: fps, drops, idle state.",
    )
    ui: UiConfig = Field(default_factory=UiConfig, description="The settings page (`vcamseg ui`) with the daemon.")
