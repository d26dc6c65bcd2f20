"""Logging for every entry point (the CLI, the daemon, the benchmarks): journald-aware formatting
and the live log level. Part of the base layer: it imports nothing from vcamseg."""

from __future__ import annotations

import logging
import os
import sys


class _Formatter(logging.Formatter):
    """journald-friendly: no colours unless on a terminal; systemd adds its own timestamps. Under
    journald each line starts with its syslog priority (<3> error ... <7> debug), which journald
    turns into the entry's priority (`journalctl -p warning`) and strips from the text."""

    def __init__(self, tty: bool, journal: bool) -> None:
        fmt = "%(asctime)s %(levelname)-7s %(name)s: %(message)s" if tty else "%(levelname)s %(name)s: %(message)s"
        super().__init__(fmt, datefmt="%H:%M:%S")
        self.tty = tty
        self.journal = journal

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        if self.journal:
            # journald reads one entry per line: continuation lines (tracebacks) stay in the entry.
            return f"<{_syslog_priority(record.levelno)}>" + text.replace("\n", "\n  ")
        if self.tty and record.levelno >= logging.WARNING:
            colour = "\033[31m" if record.levelno >= logging.ERROR else "\033[33m"
            return f"{colour}{text}\033[0m"
        return text


def _syslog_priority(levelno: int) -> int:
    if levelno >= logging.CRITICAL:
        return 2
    if levelno >= logging.ERROR:
        return 3
    if levelno >= logging.WARNING:
        return 4
    return 6 if levelno >= logging.INFO else 7


def stderr_is_journal() -> bool:
    """True when stderr is connected to journald (systemd sets JOURNAL_STREAM=device:inode of it)."""
    device, _, inode = os.environ.get("JOURNAL_STREAM", "").partition(":")
    try:
        info = os.fstat(sys.stderr.fileno())
    except (OSError, ValueError):
        return False
    return device.isdigit() and inode.isdigit() and (info.st_dev, info.st_ino) == (int(device), int(inode))


def setup_logging(level: str = "INFO") -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    journal = stderr_is_journal()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Formatter(sys.stderr.isatty() and "JOURNAL_STREAM" not in os.environ, journal))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    set_log_level(level)


def set_log_level(level: str) -> None:
    """Change the verbosity (also while running: `service.log_level` applies live)."""
    root = logging.getLogger()
    root.setLevel(level.upper())
    for noisy in ("tensorflow", "absl", "h5py", "urllib3", "watchfiles"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
