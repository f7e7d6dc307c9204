"""The one exception hierarchy of the engine.

Bad files are never exceptions: they become records in the catalog's skipped table. These errors are
for conditions the caller (CLI or window) must show to the user.
"""

from __future__ import annotations


class PhotoAtlasError(Exception):
    """Base of every error the engine raises on purpose; its message is meant for the user."""


class Cancelled(PhotoAtlasError):
    """A long operation was cancelled through its progress reporter; committed work is kept."""


class ModelUnavailableError(PhotoAtlasError):
    """The CLIP model or its weights could not be loaded (offline, unknown tag, corrupt file)."""


class CatalogError(PhotoAtlasError):
    """The catalog is missing, from a newer PhotoAtlas, or otherwise unusable."""


class InvalidInputError(PhotoAtlasError, ValueError):
    """Arguments or data given to an engine function cannot be used (empty, NaN, wrong shape...)."""


class NotFittedError(PhotoAtlasError, AttributeError):
    """An estimator was used before `fit`."""
