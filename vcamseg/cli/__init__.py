"""The ``vcamseg`` command: one module per command family, each with ``register(subparsers)``."""

from vcamseg.cli.main import main

__all__ = ["main"]
