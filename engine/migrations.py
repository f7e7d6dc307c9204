"""Forward migrations of the catalog schema, applied in order; `PRAGMA user_version` is the version."""

from __future__ import annotations

# Each version's statements run in one transaction. Never edit a released version: add the next one.
MIGRATIONS: dict[int, list[str]] = {
    1: [
        "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        "CREATE TABLE roots(id INTEGER PRIMARY KEY, path BLOB UNIQUE NOT NULL, added_at REAL NOT NULL,"
        " last_scan_at REAL)",
        # path: the OS's bytes (see engine.paths); hash: blake2b of the file's content, the photo's identity.
        "CREATE TABLE photos(id INTEGER PRIMARY KEY, root_id INTEGER NOT NULL REFERENCES roots(id),"
        " path BLOB UNIQUE NOT NULL, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, hash TEXT NOT NULL,"
        " width INTEGER NOT NULL, height INTEGER NOT NULL, taken_at TEXT, taken_at_source TEXT NOT NULL,"
        " orientation INTEGER, camera TEXT, added_at REAL NOT NULL, updated_at REAL NOT NULL)",
        "CREATE INDEX photos_hash ON photos(hash)",
        "CREATE INDEX photos_root ON photos(root_id)",
        "CREATE INDEX photos_taken ON photos(taken_at)",
        # permanent: the reason cannot change unless the file does (corrupt, not an image), so an
        # unchanged file is not re-read on the next scan; transient reasons are retried.
        "CREATE TABLE skipped(path BLOB PRIMARY KEY, root_id INTEGER NOT NULL REFERENCES roots(id),"
        " reason TEXT NOT NULL, detail TEXT NOT NULL, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,"
        " permanent INTEGER NOT NULL, seen_at REAL NOT NULL)",
        "CREATE INDEX skipped_root ON skipped(root_id)",
        "CREATE TABLE models(id INTEGER PRIMARY KEY, key TEXT UNIQUE NOT NULL, dim INTEGER NOT NULL,"
        " added_at REAL NOT NULL)",
        # Keyed by content, so copies share one embedding and a moved file keeps its own.
        "CREATE TABLE embeddings(hash TEXT NOT NULL, model_id INTEGER NOT NULL REFERENCES models(id),"
        " vector BLOB NOT NULL, PRIMARY KEY(hash, model_id))",
        "CREATE TABLE thumbnails(hash TEXT PRIMARY KEY, path TEXT NOT NULL, width INTEGER NOT NULL,"
        " height INTEGER NOT NULL, created_at REAL NOT NULL)",
    ],
    2: [
        # One clustering per run of `photoatlas cluster`: the k used, the whole coding-length curve (so
        # "fewer / more albums" needs no retraining) and the fitted estimator (for new photos).
        "CREATE TABLE clusterings(id INTEGER PRIMARY KEY, model_id INTEGER NOT NULL REFERENCES models(id),"
        " created_at REAL NOT NULL, requested_k INTEGER, k INTEGER NOT NULL, coding_lengths TEXT NOT NULL,"
        " estimator BLOB NOT NULL)",
        # cluster -1 is "Other": photos that fit no cluster well.
        "CREATE TABLE cluster_members(clustering_id INTEGER NOT NULL REFERENCES clusterings(id) ON DELETE CASCADE,"
        " photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE, cluster INTEGER NOT NULL,"
        " PRIMARY KEY(clustering_id, photo_id))",
        "CREATE INDEX cluster_members_cluster ON cluster_members(clustering_id, cluster)",
    ],
}

SCHEMA_VERSION = max(MIGRATIONS)
