"""Errors that reach the user carry what is wrong and how to fix it."""

from __future__ import annotations


class VcamsegError(Exception):
    """Base class: ``str(err)`` is the problem, ``err.fix`` the remedy (may be empty)."""

    def __init__(self, message: str, *, fix: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix

    def __str__(self) -> str:
        return f"{self.message}\n  fix: {self.fix}" if self.fix else self.message


class ConfigError(VcamsegError):
    """The configuration (file, --set, socket) is invalid."""


class ModelError(VcamsegError):
    """A model file is missing, damaged or of the wrong kind."""


class DownloadError(ModelError):
    """A model could not be downloaded or failed verification."""


class InputError(VcamsegError):
    """An input image, video or device cannot be read."""


class OutputError(VcamsegError):
    """An output (virtual camera, file) cannot be opened or written."""


def one_line(error: BaseException) -> str:
    """An error (with its fix) as one line: for logs under journald, which makes one entry per line."""
    return "; ".join(line.strip() for line in str(error).splitlines() if line.strip())
