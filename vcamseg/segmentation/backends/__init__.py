"""Inference backends behind one contract (see `Backend`); ``create_backend`` picks one."""

from vcamseg.segmentation.backends.base import Backend, create_backend

__all__ = ["Backend", "create_backend"]
