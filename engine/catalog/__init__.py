"""The catalog room: the library's SQLite database, its migrations, and the only SQL in the engine.

One module per group of tables; every other room reads and writes the catalog through these methods.
"""

from __future__ import annotations

from engine.catalog.database import CATALOG_FILE, Catalog, Companion, FileState, PhotoMeta, PhotoRow, SkippedState

__all__ = ["CATALOG_FILE", "Catalog", "Companion", "FileState", "PhotoMeta", "PhotoRow", "SkippedState"]
