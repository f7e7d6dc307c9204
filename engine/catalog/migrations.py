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
    3: [
        # A vocabulary term's text embedding (its prompt ensemble, averaged), keyed by a digest of the
        # prompts: adding one term embeds one term, and a changed template re-embeds only what it touches.
        "CREATE TABLE term_embeddings(model_id INTEGER NOT NULL REFERENCES models(id), prompt_key TEXT NOT NULL,"
        " vector BLOB NOT NULL, PRIMARY KEY(model_id, prompt_key))",
        # Names of the current clustering's clusters; vocab_version tells when they are stale.
        "CREATE TABLE cluster_names(clustering_id INTEGER NOT NULL REFERENCES clusterings(id) ON DELETE CASCADE,"
        " cluster INTEGER NOT NULL, name TEXT NOT NULL, confidence REAL NOT NULL, generic INTEGER NOT NULL,"
        " date_from TEXT, date_to TEXT, alternatives TEXT NOT NULL, vocab_version TEXT NOT NULL,"
        " PRIMARY KEY(clustering_id, cluster))",
    ],
    4: [
        # Albums are the user's; clusters are the machine's proposal. AUTOINCREMENT: a retired album's id
        # is never reused, so an id the user scripted against keeps meaning one album.
        "CREATE TABLE albums(id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL,"
        " user_named INTEGER NOT NULL DEFAULT 0, cover_hash TEXT, cover_user INTEGER NOT NULL DEFAULT 0,"
        " pinned INTEGER NOT NULL DEFAULT 0, merged INTEGER NOT NULL DEFAULT 0, confidence REAL,"
        " generic INTEGER NOT NULL DEFAULT 0, alternatives TEXT NOT NULL DEFAULT '[]',"
        " created_at REAL NOT NULL, updated_at REAL NOT NULL, retired_at REAL)",
        # Membership by content hash: a deleted photo that comes back (same content) finds its album again,
        # and photo ids are never part of the user's decisions. album_id NULL is "Other"; source 'user'
        # marks a placement the user made (never changed by the machine), 'auto' one the machine made.
        "CREATE TABLE album_members(hash TEXT PRIMARY KEY, album_id INTEGER REFERENCES albums(id),"
        " source TEXT NOT NULL CHECK(source IN ('auto', 'user')), updated_at REAL NOT NULL)",
        "CREATE INDEX album_members_album ON album_members(album_id)",
        # Which album each cluster of the current clustering feeds, for assigning new photos at once.
        "CREATE TABLE cluster_albums(clustering_id INTEGER NOT NULL REFERENCES clusterings(id) ON DELETE CASCADE,"
        " cluster INTEGER NOT NULL, album_id INTEGER NOT NULL REFERENCES albums(id),"
        " PRIMARY KEY(clustering_id, cluster))",
        # The user's actions, newest last, each with what undoing it restores.
        "CREATE TABLE album_actions(id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL,"
        " description TEXT NOT NULL, undo TEXT NOT NULL, created_at REAL NOT NULL,"
        " undone INTEGER NOT NULL DEFAULT 0)",
    ],
    5: [
        # The fitted estimator as data, never a pickle: its arrays as safetensors and a JSON description
        # (engine.cluster.persist), so opening a catalog someone else made cannot run code.
        "ALTER TABLE clusterings ADD COLUMN estimator_tensors BLOB",
        "ALTER TABLE clusterings ADD COLUMN estimator_json TEXT",
        # The pickles written by 0.1.0 wait here until the library converts them with an unpickler that
        # accepts only the estimator's own classes (engine.albums.clusters.convert_legacy_estimator); one
        # that holds anything else is dropped, and the next re-cluster fits afresh.
        "CREATE TABLE legacy_estimators(clustering_id INTEGER PRIMARY KEY REFERENCES clusterings(id)"
        " ON DELETE CASCADE, pickle BLOB NOT NULL)",
        "INSERT INTO legacy_estimators(clustering_id, pickle) SELECT id, estimator FROM clusterings",
        "ALTER TABLE clusterings DROP COLUMN estimator",
    ],
    6: [
        # An album the user named, merged into, created or pinned is the user's: the machine never takes a
        # photo out of it, retires or renames it. Sticky (unpinning does not hand it back), undone with the
        # action that set it.
        "ALTER TABLE albums ADD COLUMN user_owned INTEGER NOT NULL DEFAULT 0",
        "UPDATE albums SET user_owned=1 WHERE user_named=1 OR merged=1 OR pinned=1",
        "UPDATE albums SET user_owned=1 WHERE id IN (SELECT j.value FROM album_actions a,"
        " json_each(a.undo, '$.created') j WHERE a.kind='split' AND a.undone=0)",
        # What redoing an action puts back (the state right after it); NULL for actions of older versions.
        # undone: 0 done, 1 undone and redoable, 2 undone and superseded by a newer action.
        "ALTER TABLE album_actions ADD COLUMN redo TEXT",
        "UPDATE album_actions SET undone=2 WHERE undone=1",
        # Clusterings are kept (the latest few) so that undoing a re-cluster brings its predecessor back;
        # one is active, the current one.
        "ALTER TABLE clusterings ADD COLUMN active INTEGER NOT NULL DEFAULT 1",
    ],
    7: [
        # Videos, RAW photos and Live Photos are items like photos: kind says which ('photo', 'video', 'live',
        # 'raw'); duration is a video's (or a Live Photo's motion part's) length in seconds, NULL for stills.
        # Rows written before are all still photos, which the default says.
        "ALTER TABLE photos ADD COLUMN kind TEXT NOT NULL DEFAULT 'photo'",
        "ALTER TABLE photos ADD COLUMN duration REAL",
        # The other files of one item: the RAW of a RAW+JPEG pair ('raw') or the MOV of a Live Photo
        # ('motion'). They belong to the photo row of the file shown (the JPEG or HEIC), are never items of
        # their own, and go with it when it is deleted; size and mtime tell a scan whether they changed.
        "CREATE TABLE companions(path BLOB PRIMARY KEY, photo_id INTEGER NOT NULL REFERENCES photos(id)"
        " ON DELETE CASCADE, role TEXT NOT NULL CHECK(role IN ('raw', 'motion')), size INTEGER NOT NULL,"
        " mtime_ns INTEGER NOT NULL)",
        "CREATE INDEX companions_photo ON companions(photo_id)",
    ],
    8: [
        # Where and in which time zone a photo was taken, from its EXIF GPS and OffsetTimeOriginal (or GPS
        # time): degrees (north, east positive) and minutes east of UTC, NULL when the file does not say.
        # geo_read is the version of that reading: rows written before are 0, so the next scan reads their
        # GPS again from the file's metadata alone (no decode, no re-embedding).
        "ALTER TABLE photos ADD COLUMN latitude REAL",
        "ALTER TABLE photos ADD COLUMN longitude REAL",
        "ALTER TABLE photos ADD COLUMN utc_offset INTEGER",
        "ALTER TABLE photos ADD COLUMN geo_read INTEGER NOT NULL DEFAULT 0",
        # The place of a located photo, from the offline geocoder named in `geocoder`; the coordinates it was
        # computed for tell when it is stale (the file changed, or a newer geocoder). city NULL: at sea or
        # far from any town, where only a region or country (or nothing) is named. Owner: catalog.places.
        "CREATE TABLE photo_places(photo_id INTEGER PRIMARY KEY REFERENCES photos(id) ON DELETE CASCADE,"
        " latitude REAL NOT NULL, longitude REAL NOT NULL, city TEXT, region TEXT, country TEXT,"
        " country_code TEXT, geocoder TEXT NOT NULL)",
        "CREATE INDEX photo_places_place ON photo_places(country, city)",
    ],
    9: [
        # Stacks: bursts and copies of one picture, folded into one tile (owner: catalog.stacks). The machine's
        # output, recomputed after indexing: a stack's members by content hash, with the copy group (members
        # sharing it are the same picture: exact or resized/re-encoded copies). AUTOINCREMENT: an id the user
        # scripted against keeps meaning one stack, and a recomputed stack keeps its id.
        "CREATE TABLE stacks(id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL"
        " CHECK(kind IN ('burst', 'duplicate')), cover_hash TEXT NOT NULL, updated_at REAL NOT NULL)",
        "CREATE TABLE stack_members(hash TEXT PRIMARY KEY, stack_id INTEGER NOT NULL REFERENCES stacks(id)"
        " ON DELETE CASCADE, copy_group INTEGER NOT NULL)",
        "CREATE INDEX stack_members_stack ON stack_members(stack_id)",
        # What the rules read from each content's thumbnail (a 16×16 colour signature, float32, and the
        # variance of the Laplacian), so that a recompute decodes only new thumbnails.
        "CREATE TABLE stack_features(hash TEXT PRIMARY KEY, signature BLOB NOT NULL, sharpness REAL NOT NULL)",
        # The user's decisions, apart from the machine's output so that a recompute never overrides them:
        # apart (taken out of its stack: joins none), cover_at (chosen as its stack's cover, when).
        "CREATE TABLE stack_choices(hash TEXT PRIMARY KEY, apart INTEGER NOT NULL DEFAULT 0, cover_at REAL)",
        # The user's stack actions, with what undoing and redoing them put back (stack_choices rows as JSON);
        # undone as album_actions: 0 done, 1 undone and redoable, 2 undone and superseded.
        "CREATE TABLE stack_actions(id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL,"
        " description TEXT NOT NULL, undo TEXT NOT NULL, redo TEXT NOT NULL, created_at REAL NOT NULL,"
        " undone INTEGER NOT NULL DEFAULT 0)",
    ],
}

SCHEMA_VERSION = max(MIGRATIONS)
