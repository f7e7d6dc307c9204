"""PhotoAtlas engine: everything headless (catalog, scan, decode, embed, cluster, CLI).

The public API is small: `Library` and its verbs, the settings, the errors and the progress protocol.
Heavy modules (torch, open_clip, scikit-learn) load only when first needed, so that importing the
engine, and with it opening the window, stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.errors import (
    Cancelled,
    CatalogError,
    InvalidInputError,
    ModelUnavailableError,
    NotFittedError,
    PhotoAtlasError,
)
from engine.progress import NullProgress, ProgressReporter
from engine.settings import LibrarySettings, ModelSpec

if TYPE_CHECKING:
    from engine.cluster import CPPClusterer
    from engine.cluster.dac import DACRefiner
    from engine.library import Library

__all__ = [
    "CPPClusterer",
    "Cancelled",
    "CatalogError",
    "DACRefiner",
    "InvalidInputError",
    "Library",
    "LibrarySettings",
    "ModelSpec",
    "ModelUnavailableError",
    "NotFittedError",
    "NullProgress",
    "PhotoAtlasError",
    "ProgressReporter",
]

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    # Lazy exports: `from engine import CPPClusterer` must not cost a torch import at `import engine`.
    if name == "CPPClusterer":
        from engine.cluster import CPPClusterer

        return CPPClusterer
    if name == "DACRefiner":
        from engine.cluster.dac import DACRefiner

        return DACRefiner
    if name == "Library":
        from engine.library import Library

        return Library
    raise AttributeError(f"module 'engine' has no attribute {name!r}")
