"""The SQLite catalog of one library: the connection, its migrations, and the table owners.

`Catalog` is the photo and embedding tables (mixed in from `photos` and `embeddings`) plus the owners of
the album and clustering tables as `catalog.albums` and `catalog.clusterings`. One writer at a time: the
engine writes from one thread, inside explicit transactions, so a crash or kill at any moment leaves the
last committed batch and nothing half-written (SQLite WAL).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from engine.catalog.albums import AlbumTables
from engine.catalog.clusterings import ClusteringTables
from engine.catalog.embeddings import EmbeddingTables
from engine.catalog.migrations import MIGRATIONS, SCHEMA_VERSION
from engine.catalog.photos import Companion, FileState, PhotoMeta, PhotoRow, PhotoTables, SkippedState
from engine.catalog.places import PlaceTables
from engine.catalog.stacks import StackTables
from engine.errors import CatalogError

__all__ = ["CATALOG_FILE", "Catalog", "Companion", "FileState", "PhotoMeta", "PhotoRow", "SkippedState"]

CATALOG_FILE = "catalog.sqlite"


class Catalog(PhotoTables, EmbeddingTables):
    """A library's catalog database. Use as a context manager or call `close`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._migrate()
            self.clusterings = ClusteringTables(self)
            self.albums = AlbumTables(self, self.clusterings)
            self.places = PlaceTables(self)
            self.stacks = StackTables(self)
        except sqlite3.DatabaseError as exc:
            raise CatalogError(f"cannot open the catalog {path}: {exc}") from exc

    # -- lifecycle -------------------------------------------------------------------------------

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _migrate(self) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise CatalogError(
                f"the catalog {self.path} was written by a newer PhotoAtlas (schema {version}, this "
                f"version knows {SCHEMA_VERSION}); update PhotoAtlas to open it"
            )
        for target in range(version + 1, SCHEMA_VERSION + 1):
            with self.transaction():
                for statement in MIGRATIONS[target]:
                    self._db.execute(statement)
                self._db.execute(f"PRAGMA user_version={target}")

    def content_replaced(self, photo_id: int, old_hash: str, new_hash: str) -> None:
        """A photo's file was edited in place: a user placement (or a pinned album's hold) follows the new
        content; otherwise the clustering forgets the photo so that the next assignment weighs it again."""
        if not self.albums.follow_edit(old_hash, new_hash):
            self.clusterings.forget_photo(photo_id)

    # -- meta ------------------------------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT INTO meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                (key, value),
            )
