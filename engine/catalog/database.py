"""The SQLite catalog of one library: roots, photos, skipped files, models, embeddings, thumbnails.

One writer at a time: the engine writes from one thread, inside explicit transactions, so a crash or
kill at any moment leaves the last committed batch and nothing half-written (SQLite WAL).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.errors import CatalogError
from engine.catalog.migrations import MIGRATIONS, SCHEMA_VERSION

CATALOG_FILE = "catalog.sqlite"


@dataclass(frozen=True)
class PhotoMeta:
    """What decoding a photo tells about it (dimensions as displayed, after EXIF orientation)."""

    width: int
    height: int
    taken_at: str | None
    taken_at_source: str  # "exif" or "file"
    orientation: int | None
    camera: str | None


@dataclass(frozen=True)
class FileState:
    """The catalog's memory of a file: enough to tell whether it changed since the last scan."""

    id: int
    size: int
    mtime_ns: int
    hash: str | None


@dataclass(frozen=True)
class SkippedState:
    """A skipped file as last seen; `permanent` reasons are not retried until the file changes."""

    size: int
    mtime_ns: int
    reason: str
    permanent: bool


@dataclass(frozen=True)
class PhotoRow:
    """One photo as listed by `Catalog.photos`."""

    id: int
    path: bytes
    hash: str
    size: int
    taken_at: str | None
    width: int
    height: int
    camera: str | None
    embedded: bool


class Catalog:
    """A library's catalog database. Use as a context manager or call `close`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._migrate()
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

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic batch: everything inside commits together or not at all."""
        if self._db.in_transaction:  # nested use joins the outer transaction
            yield self._db
            return
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def execute(self, sql: str, params: Iterable[object] = ()) -> sqlite3.Cursor:
        """Run one statement (for reads; writes belong inside `transaction`)."""
        return self._db.execute(sql, tuple(params))

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

    # -- roots -----------------------------------------------------------------------------------

    def add_root(self, path: bytes) -> int:
        """The id of a library root, adding it if new."""
        with self.transaction() as db:
            db.execute("INSERT OR IGNORE INTO roots(path, added_at) VALUES(?, ?)", (path, time.time()))
            return db.execute("SELECT id FROM roots WHERE path=?", (path,)).fetchone()[0]

    def roots(self) -> list[tuple[int, bytes]]:
        return [(r[0], r[1]) for r in self._db.execute("SELECT id, path FROM roots ORDER BY id")]

    def mark_root_scanned(self, root_id: int) -> None:
        with self.transaction() as db:
            db.execute("UPDATE roots SET last_scan_at=? WHERE id=?", (time.time(), root_id))

    # -- photos ----------------------------------------------------------------------------------

    def photo_states(self, root_id: int) -> dict[bytes, FileState]:
        rows = self._db.execute("SELECT path, id, size, mtime_ns, hash FROM photos WHERE root_id=?", (root_id,))
        return {r[0]: FileState(r[1], r[2], r[3], r[4]) for r in rows}

    def skipped_states(self, root_id: int) -> dict[bytes, SkippedState]:
        """Skipped files of a root, with what is needed to decide whether to read them again."""
        rows = self._db.execute(
            "SELECT path, size, mtime_ns, reason, permanent FROM skipped WHERE root_id=?", (root_id,)
        )
        return {r[0]: SkippedState(r[1], r[2], r[3], bool(r[4])) for r in rows}

    def insert_photo(self, root_id: int, path: bytes, size: int, mtime_ns: int, hash_: str, meta: PhotoMeta) -> int:
        now = time.time()
        cur = self._db.execute(
            "INSERT INTO photos(root_id, path, size, mtime_ns, hash, width, height, taken_at, taken_at_source,"
            " orientation, camera, added_at, updated_at) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                root_id,
                path,
                size,
                mtime_ns,
                hash_,
                meta.width,
                meta.height,
                meta.taken_at,
                meta.taken_at_source,
                meta.orientation,
                meta.camera,
                now,
                now,
            ),
        )
        self._db.execute("DELETE FROM skipped WHERE path=?", (path,))
        return int(cur.lastrowid)

    def update_photo(
        self,
        photo_id: int,
        *,
        root_id: int,
        path: bytes,
        size: int,
        mtime_ns: int,
        hash_: str,
        meta: PhotoMeta | None,
    ) -> None:
        """Point an existing photo at a (possibly new) path and content; `meta` None keeps the old metadata."""
        self._db.execute(
            "UPDATE photos SET root_id=?, path=?, size=?, mtime_ns=?, hash=?, updated_at=? WHERE id=?",
            (root_id, path, size, mtime_ns, hash_, time.time(), photo_id),
        )
        if meta is not None:
            self._db.execute(
                "UPDATE photos SET width=?, height=?, taken_at=?, taken_at_source=?, orientation=?, camera=?"
                " WHERE id=?",
                (
                    meta.width,
                    meta.height,
                    meta.taken_at,
                    meta.taken_at_source,
                    meta.orientation,
                    meta.camera,
                    photo_id,
                ),
            )
        self._db.execute("DELETE FROM skipped WHERE path=?", (path,))

    def meta_for_hash(self, hash_: str) -> PhotoMeta | None:
        """Metadata of any photo with this content, to reuse for a copy or a moved file."""
        row = self._db.execute(
            "SELECT width, height, taken_at, taken_at_source, orientation, camera FROM photos WHERE hash=? LIMIT 1",
            (hash_,),
        ).fetchone()
        return PhotoMeta(*row) if row else None

    def delete_photos(self, ids: Iterable[int]) -> int:
        ids = list(ids)
        self._db.executemany("DELETE FROM photos WHERE id=?", [(i,) for i in ids])
        return len(ids)

    def photos_with_hash(self, hash_: str) -> list[tuple[int, int, bytes]]:
        """(id, root id, path) of every photo with this content."""
        rows = self._db.execute("SELECT id, root_id, path FROM photos WHERE hash=?", (hash_,))
        return [(r[0], r[1], r[2]) for r in rows]

    def content_replaced(self, photo_id: int, old_hash: str, new_hash: str) -> None:
        """A photo's file was edited in place: the user's placement of it (or a pinned album's hold on it)
        follows the new content; a machine placement does not, so the next assignment weighs it again.
        The old content's placement stays, as for a deleted photo, in case that content comes back."""
        row = self._db.execute(
            "SELECT m.album_id, m.source, COALESCE(a.pinned, 0) FROM album_members m"
            " LEFT JOIN albums a ON a.id = m.album_id WHERE m.hash=?",
            (old_hash,),
        ).fetchone()
        if row is not None and (row[1] == "user" or row[2]):
            self._db.execute(
                "INSERT OR IGNORE INTO album_members(hash, album_id, source, updated_at) VALUES(?,?,?,?)",
                (new_hash, row[0], row[1], time.time()),
            )
        else:
            self._db.execute("DELETE FROM cluster_members WHERE photo_id=?", (photo_id,))

    def photos(self, model_id: int | None = None) -> list[PhotoRow]:
        """Every photo, ordered by capture time then path; `embedded` refers to `model_id`."""
        rows = self._db.execute(
            "SELECT p.id, p.path, p.hash, p.size, p.taken_at, p.width, p.height, p.camera,"
            " EXISTS(SELECT 1 FROM embeddings e WHERE e.hash=p.hash AND e.model_id=?)"
            " FROM photos p ORDER BY p.taken_at IS NULL, p.taken_at, p.path",
            (model_id if model_id is not None else -1,),
        )
        return [PhotoRow(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], bool(r[8])) for r in rows]

    def complete_hashes(self, model_id: int | None) -> set[str]:
        """Contents with a photo row, a thumbnail and (when a model is given) an embedding: nothing to redo."""
        if model_id is None:
            rows = self._db.execute("SELECT DISTINCT p.hash FROM photos p JOIN thumbnails t ON t.hash=p.hash")
        else:
            rows = self._db.execute(
                "SELECT DISTINCT p.hash FROM photos p JOIN thumbnails t ON t.hash=p.hash"
                " JOIN embeddings e ON e.hash=p.hash AND e.model_id=?",
                (model_id,),
            )
        return {r[0] for r in rows}

    def count_photos(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM photos").fetchone()[0]

    # -- skipped ---------------------------------------------------------------------------------

    def record_skipped(
        self, root_id: int, path: bytes, reason: str, detail: str, size: int, mtime_ns: int, permanent: bool
    ) -> None:
        self._db.execute(
            "INSERT INTO skipped(path, root_id, reason, detail, size, mtime_ns, permanent, seen_at)"
            " VALUES(?,?,?,?,?,?,?,?) ON CONFLICT(path) DO UPDATE SET root_id=excluded.root_id,"
            " reason=excluded.reason, detail=excluded.detail, size=excluded.size, mtime_ns=excluded.mtime_ns,"
            " permanent=excluded.permanent, seen_at=excluded.seen_at",
            (path, root_id, reason, detail, size, mtime_ns, int(permanent), time.time()),
        )

    def forget_skipped(self, paths: Iterable[bytes]) -> None:
        self._db.executemany("DELETE FROM skipped WHERE path=?", [(p,) for p in paths])

    def skipped(self) -> list[tuple[bytes, str, str]]:
        """Every skipped file with its reason code and detail."""
        return [(r[0], r[1], r[2]) for r in self._db.execute("SELECT path, reason, detail FROM skipped ORDER BY path")]

    # -- models and embeddings -------------------------------------------------------------------

    def model_id(self, key: str, dim: int) -> int:
        """The id of a model by its identity key, registering it if new."""
        with self.transaction() as db:
            db.execute("INSERT OR IGNORE INTO models(key, dim, added_at) VALUES(?,?,?)", (key, dim, time.time()))
            return db.execute("SELECT id FROM models WHERE key=?", (key,)).fetchone()[0]

    def find_model_id(self, key: str) -> int | None:
        row = self._db.execute("SELECT id FROM models WHERE key=?", (key,)).fetchone()
        return row[0] if row else None

    def put_embeddings(self, model_id: int, items: Iterable[tuple[str, np.ndarray]]) -> None:
        self._db.executemany(
            "INSERT OR REPLACE INTO embeddings(hash, model_id, vector) VALUES(?,?,?)",
            [(h, model_id, np.asarray(v, dtype="<f4").tobytes()) for h, v in items],
        )

    def embedded_hashes(self, model_id: int | None) -> set[str]:
        if model_id is None:
            return set()
        return {r[0] for r in self._db.execute("SELECT hash FROM embeddings WHERE model_id=?", (model_id,))}

    def embeddings(self, model_id: int) -> tuple[np.ndarray, np.ndarray]:
        """Photo ids and their embeddings (rows aligned) for every embedded photo."""
        rows = self._db.execute(
            "SELECT p.id, e.vector FROM photos p JOIN embeddings e ON e.hash=p.hash AND e.model_id=? ORDER BY p.id",
            (model_id,),
        ).fetchall()
        ids = np.array([r[0] for r in rows], dtype=np.int64)
        if not rows:
            return ids, np.zeros((0, 0), dtype=np.float32)
        return ids, np.stack([np.frombuffer(r[1], dtype="<f4") for r in rows]).astype(np.float32)

    # -- thumbnails ------------------------------------------------------------------------------

    def put_thumbnail(self, hash_: str, relpath: str, width: int, height: int) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO thumbnails(hash, path, width, height, created_at) VALUES(?,?,?,?,?)",
            (hash_, relpath, width, height, time.time()),
        )

    def thumbnail_hashes(self) -> set[str]:
        return {r[0] for r in self._db.execute("SELECT hash FROM thumbnails")}

    def thumbnail_path(self, hash_: str) -> str | None:
        row = self._db.execute("SELECT path FROM thumbnails WHERE hash=?", (hash_,)).fetchone()
        return row[0] if row else None
