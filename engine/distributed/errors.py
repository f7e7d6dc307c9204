"""The one error type of the distributed room."""

from __future__ import annotations

from engine.errors import PhotoAtlasError


class ComputeClusterError(PhotoAtlasError):
    """The compute cluster cannot be used: Ray is not installed, nothing answers at the address, or the
    cluster went away during a run (finished work is saved; the message says how to continue)."""
