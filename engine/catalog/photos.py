"""The photo tables: library roots, photos (one row per file) and the files skipped with their reason."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

from engine.catalog.connection import Connection
from engine.catalog.places import Place


@dataclass(frozen=True)
class PhotoMeta:
    """What decoding a photo tells about it (dimensions as displayed, after EXIF orientation)."""

    width: int
    height: int
    taken_at: str | None
    taken_at_source: str  # "exif" or "file"
    orientation: int | None
    camera: str | None
    duration: float | None = None  # seconds, for a video (or a Live Photo's motion part); None for a still
    latitude: float | None = None  # degrees north, from EXIF GPS (or a video's location); None when unknown
    longitude: float | None = None  # degrees east, in [-180, 180]
    utc_offset: int | None = None  # minutes east of UTC at capture (OffsetTimeOriginal, or GPS time)


KINDS = ("photo", "video", "live", "raw")
# The version of the GPS and time-zone reading stored with each photo (photos.geo_read): rows below it are
# read again from their file's metadata alone by the next scan (engine.index.indexer.read_locations).
GEO_READ = 1
COMPANION_ROLES = ("raw", "motion")


@dataclass(frozen=True)
class Companion:
    """Another file of one item: the RAW of a RAW+JPEG pair ('raw') or a Live Photo's MOV ('motion')."""

    path: bytes
    role: str
    size: int
    mtime_ns: int


@dataclass(frozen=True)
class FileState:
    """The catalog's memory of a file: enough to tell whether it changed since the last scan."""

    id: int
    size: int
    mtime_ns: int
    hash: str | None
    # (path, size, mtime_ns) of the item's other files, sorted by path: a change there is a change too.
    companions: tuple[tuple[bytes, int, int], ...] = ()


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
    kind: str = "photo"  # "photo", "video", "live" (a still with its motion) or "raw" (a RAW, alone or with its JPEG)
    duration: float | None = None  # seconds; None for stills
    companions: tuple[bytes, ...] = ()  # the item's other files (its RAW, its motion MOV), stored paths
    place: Place | None = None  # where it was taken (engine.catalog.places), None when unknown
    utc_offset: int | None = None  # minutes east of UTC at capture, None when unknown


class PhotoTables(Connection):
    """Owner of `roots`, `photos` and `skipped`; mixed into `Catalog`, which holds the connection."""

    # -- roots -----------------------------------------------------------------------------------

    def add_root(self, path: bytes) -> int:
        """The id of a library root, adding it if new."""
        with self.transaction() as db:
            db.execute("INSERT OR IGNORE INTO roots(path, added_at) VALUES(?, ?)", (path, time.time()))
            return db.execute("SELECT id FROM roots WHERE path=?", (path,)).fetchone()[0]

    def roots(self) -> list[tuple[int, bytes]]:
        return [(r[0], r[1]) for r in self._db.execute("SELECT id, path FROM roots ORDER BY id")]

    def remove_root(self, root_id: int) -> int:
        """Forget a root with its photos and skipped files (album placements, kept by content, stay); photos removed."""
        with self.transaction() as db:
            removed = db.execute("DELETE FROM photos WHERE root_id=?", (root_id,)).rowcount
            db.execute("DELETE FROM skipped WHERE root_id=?", (root_id,))
            db.execute("DELETE FROM roots WHERE id=?", (root_id,))
        return removed

    def mark_root_scanned(self, root_id: int) -> None:
        with self.transaction() as db:
            db.execute("UPDATE roots SET last_scan_at=? WHERE id=?", (time.time(), root_id))

    # -- photos ----------------------------------------------------------------------------------

    def photo_states(self, root_id: int) -> dict[bytes, FileState]:
        companions: dict[int, list[tuple[bytes, int, int]]] = {}
        for photo_id, path, size, mtime_ns in self._db.execute(
            "SELECT c.photo_id, c.path, c.size, c.mtime_ns FROM companions c JOIN photos p ON p.id=c.photo_id"
            " WHERE p.root_id=? ORDER BY c.path",
            (root_id,),
        ):
            companions.setdefault(photo_id, []).append((path, size, mtime_ns))
        rows = self._db.execute("SELECT path, id, size, mtime_ns, hash FROM photos WHERE root_id=?", (root_id,))
        return {r[0]: FileState(r[1], r[2], r[3], r[4], tuple(companions.get(r[1], ()))) for r in rows}

    def skipped_states(self, root_id: int) -> dict[bytes, SkippedState]:
        """Skipped files of a root, with what is needed to decide whether to read them again."""
        rows = self._db.execute(
            "SELECT path, size, mtime_ns, reason, permanent FROM skipped WHERE root_id=?", (root_id,)
        )
        return {r[0]: SkippedState(r[1], r[2], r[3], bool(r[4])) for r in rows}

    def insert_photo(
        self, root_id: int, path: bytes, size: int, mtime_ns: int, hash_: str, meta: PhotoMeta, kind: str = "photo"
    ) -> int:
        now = time.time()
        cur = self._db.execute(
            "INSERT INTO photos(root_id, path, size, mtime_ns, hash, width, height, taken_at, taken_at_source,"
            " orientation, camera, added_at, updated_at, kind, duration, latitude, longitude, utc_offset, geo_read)"
            " VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
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
                kind,
                meta.duration,
                meta.latitude,
                meta.longitude,
                meta.utc_offset,
                GEO_READ,
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
        kind: str | None = None,
    ) -> None:
        """Point an existing photo at a (possibly new) path and content; `meta` (`kind`) None keeps the old one."""
        self._db.execute(
            "UPDATE photos SET root_id=?, path=?, size=?, mtime_ns=?, hash=?, kind=COALESCE(?, kind), updated_at=?"
            " WHERE id=?",
            (root_id, path, size, mtime_ns, hash_, kind, time.time(), photo_id),
        )
        if meta is not None:
            self._db.execute(
                "UPDATE photos SET width=?, height=?, taken_at=?, taken_at_source=?, orientation=?, camera=?,"
                " duration=?, latitude=?, longitude=?, utc_offset=?, geo_read=? WHERE id=?",
                (
                    meta.width,
                    meta.height,
                    meta.taken_at,
                    meta.taken_at_source,
                    meta.orientation,
                    meta.camera,
                    meta.duration,
                    meta.latitude,
                    meta.longitude,
                    meta.utc_offset,
                    GEO_READ,
                    photo_id,
                ),
            )
        self._db.execute("DELETE FROM skipped WHERE path=?", (path,))

    def meta_for_hash(self, hash_: str) -> PhotoMeta | None:
        """Metadata of any photo with this content, to reuse for a copy or a moved file."""
        row = self._db.execute(
            "SELECT width, height, taken_at, taken_at_source, orientation, camera, duration, latitude, longitude,"
            " utc_offset FROM photos WHERE hash=? ORDER BY geo_read DESC LIMIT 1",
            (hash_,),
        ).fetchone()
        return PhotoMeta(*row) if row else None

    def locations_unread(self, root_ids: Iterable[int] | None = None) -> list[tuple[int, bytes, str, str | None]]:
        """(id, path, kind, capture time) of photos catalogued before GPS and time zones were read."""
        wanted = None if root_ids is None else set(root_ids)
        rows = self._db.execute(
            "SELECT id, path, kind, taken_at, root_id FROM photos WHERE geo_read<? ORDER BY id", (GEO_READ,)
        )
        return [(r[0], r[1], r[2], r[3]) for r in rows if wanted is None or r[4] in wanted]

    def set_locations(self, rows: Iterable[tuple[int, float | None, float | None, int | None]]) -> None:
        """Store (photo id, latitude, longitude, UTC offset) read from files, marking them read."""
        self._db.executemany(
            "UPDATE photos SET latitude=?, longitude=?, utc_offset=?, geo_read=? WHERE id=?",
            [(lat, lon, offset, GEO_READ, photo_id) for photo_id, lat, lon, offset in rows],
        )

    def set_companions(self, photo_id: int, companions: Iterable[Companion]) -> None:
        """The item's other files, replacing what it had; a file another item held moves to this one."""
        self._db.execute("DELETE FROM companions WHERE photo_id=?", (photo_id,))
        self._db.executemany(
            "INSERT OR REPLACE INTO companions(path, photo_id, role, size, mtime_ns) VALUES(?,?,?,?,?)",
            [(c.path, photo_id, c.role, c.size, c.mtime_ns) for c in companions],
        )

    def companions(self, photo_ids: Iterable[int]) -> dict[int, list[Companion]]:
        """Photo id → its other files (RAW, motion), for the given photos that have any."""
        wanted = set(photo_ids)
        out: dict[int, list[Companion]] = {}
        for photo_id, path, role, size, mtime_ns in self._db.execute(
            "SELECT photo_id, path, role, size, mtime_ns FROM companions ORDER BY path"
        ):
            if photo_id in wanted:
                out.setdefault(photo_id, []).append(Companion(path, role, size, mtime_ns))
        return out

    def delete_photos(self, ids: Iterable[int]) -> int:
        ids = list(ids)
        self._db.executemany("DELETE FROM photos WHERE id=?", [(i,) for i in ids])
        return len(ids)

    def photos_with_hash(self, hash_: str) -> list[tuple[int, int, bytes]]:
        """(id, root id, path) of every photo with this content."""
        rows = self._db.execute("SELECT id, root_id, path FROM photos WHERE hash=?", (hash_,))
        return [(r[0], r[1], r[2]) for r in rows]

    def photos(self, model_id: int | None = None) -> list[PhotoRow]:
        """Every photo, ordered by capture time then path; `embedded` refers to `model_id`."""
        companions: dict[int, list[bytes]] = {}
        for photo_id, path in self._db.execute("SELECT photo_id, path FROM companions ORDER BY path"):
            companions.setdefault(photo_id, []).append(path)
        rows = self._db.execute(
            "SELECT p.id, p.path, p.hash, p.size, p.taken_at, p.width, p.height, p.camera,"
            " EXISTS(SELECT 1 FROM embeddings e WHERE e.hash=p.hash AND e.model_id=?), p.kind, p.duration,"
            " g.city, g.region, g.country, g.country_code, p.utc_offset"
            " FROM photos p LEFT JOIN photo_places g ON g.photo_id=p.id AND g.latitude=p.latitude"
            " AND g.longitude=p.longitude ORDER BY p.taken_at IS NULL, p.taken_at, p.path",
            (model_id if model_id is not None else -1,),
        )
        return [
            PhotoRow(
                r[0],
                r[1],
                r[2],
                r[3],
                r[4],
                r[5],
                r[6],
                r[7],
                bool(r[8]),
                r[9],
                r[10],
                tuple(companions.get(r[0], ())),
                Place(r[11], r[12], r[13], r[14]) if (r[11] or r[13]) else None,
                r[15],
            )
            for r in rows
        ]

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

    def photo_paths(self, photo_ids: Iterable[int]) -> dict[int, bytes]:
        """Photo id → stored path (the OS's bytes) for the given photos that exist."""
        wanted = set(photo_ids)
        return {r[0]: r[1] for r in self._db.execute("SELECT id, path FROM photos") if r[0] in wanted}

    def capture_times(self) -> dict[str, str | None]:
        """Content hash → capture time (ISO 8601) of a photo with that content."""
        return dict(self._db.execute("SELECT hash, taken_at FROM photos").fetchall())

    def hash_of(self, photo_id: int) -> str | None:
        """A photo's content hash; None when there is no such photo."""
        row = self._db.execute("SELECT hash FROM photos WHERE id=?", (photo_id,)).fetchone()
        return row[0] if row else None

    def hashes_by_id(self) -> dict[int, str]:
        """Photo id → content hash, for every photo."""
        return dict(self._db.execute("SELECT id, hash FROM photos").fetchall())

    def count_photos(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM photos").fetchone()[0]

    def photos_state(self, model_id: int | None) -> str:
        """A digest that changes whenever a photo is added, changed or removed, or gets an embedding under
        `model_id` (every insert and update stamps `updated_at`): whether what was derived from the photos
        still holds, read without reading them."""
        photos = self._db.execute("SELECT COUNT(*), TOTAL(id), MAX(updated_at) FROM photos").fetchone()
        embedded = self._db.execute(
            "SELECT COUNT(*) FROM embeddings WHERE model_id=?", (model_id if model_id is not None else -1,)
        ).fetchone()[0]
        return f"{photos[0]}:{photos[1]:.0f}:{photos[2]}:{model_id}:{embedded}"

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

    def skipped_seen(self) -> list[tuple[bytes, str, str, float]]:
        """Every skipped file with its reason code, detail and when it was last tried (seconds since the epoch)."""
        rows = self._db.execute("SELECT path, reason, detail, seen_at FROM skipped ORDER BY path")
        return [(r[0], r[1], r[2], r[3]) for r in rows]

    def skipped(self) -> list[tuple[bytes, str, str]]:
        """Every skipped file with its reason code and detail."""
        return [(r[0], r[1], r[2]) for r in self._db.execute("SELECT path, reason, detail FROM skipped ORDER BY path")]
