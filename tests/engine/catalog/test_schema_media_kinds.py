"""Schema 7: every item has a kind and a duration, and an item's other files (RAW, motion) are its companions."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from engine.catalog import CATALOG_FILE, Catalog, Companion, PhotoMeta
from engine.catalog.migrations import SCHEMA_VERSION

DATA = Path(__file__).resolve().parents[2] / "data"


def test_an_old_catalog_is_upgraded_and_its_photos_are_photos(tmp_path: Path) -> None:
    shutil.copy(DATA / "catalog-0.1.0.sqlite", tmp_path / CATALOG_FILE)
    with Catalog(tmp_path / CATALOG_FILE) as catalog:
        rows = catalog.photos()
        assert rows and all(r.kind == "photo" and r.duration is None and r.companions == () for r in rows)
    db = sqlite3.connect(tmp_path / CATALOG_FILE)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION >= 7
    assert db.execute("SELECT COUNT(*) FROM companions").fetchone()[0] == 0
    db.close()


def test_companions_belong_to_one_item_and_go_with_it(tmp_path: Path) -> None:
    with Catalog(tmp_path / CATALOG_FILE) as catalog:
        root = catalog.add_root(b"/photos")
        with catalog.transaction():
            still = catalog.insert_photo(
                root, b"/photos/IMG_1.HEIC", 10, 1, "h1", PhotoMeta(4, 3, None, "file", None, None, 2.5), "live"
            )
            catalog.set_companions(still, [Companion(b"/photos/IMG_1.MOV", "motion", 99, 7)])
            clip = catalog.insert_photo(
                root, b"/photos/clip.mp4", 10, 1, "h2", PhotoMeta(4, 3, None, "file", None, None, 12.0), "video"
            )
        rows = {r.id: r for r in catalog.photos()}
        assert (rows[still].kind, rows[still].duration, rows[still].companions) == (
            "live",
            2.5,
            (b"/photos/IMG_1.MOV",),
        )
        assert (rows[clip].kind, rows[clip].duration, rows[clip].companions) == ("video", 12.0, ())
        assert catalog.photo_states(root)[b"/photos/IMG_1.HEIC"].companions == ((b"/photos/IMG_1.MOV", 99, 7),)
        assert catalog.meta_for_hash("h2").duration == 12.0
        with catalog.transaction():
            catalog.update_photo(
                still,
                root_id=root,
                path=b"/photos/IMG_1.HEIC",
                size=10,
                mtime_ns=1,
                hash_="h1",
                meta=None,
                kind="photo",
            )
            catalog.set_companions(still, [])
        assert catalog.photos()[0].kind in ("photo", "video") and catalog.companions([still]) == {}
        with catalog.transaction():
            catalog.set_companions(still, [Companion(b"/photos/IMG_1.DNG", "raw", 5, 5)])
            catalog.delete_photos([still])
        assert catalog.companions([still]) == {}  # gone with its item
