from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest

from engine.catalog import Catalog, PhotoMeta
from engine.catalog.migrations import SCHEMA_VERSION
from engine.errors import CatalogError

META = PhotoMeta(10, 20, "2020-01-02T03:04:05", "exif", 1, "Cam")


def test_new_catalog_is_migrated_to_current_schema_in_wal_mode(tmp_path: Path) -> None:
    with Catalog(tmp_path / "c.sqlite") as catalog:
        assert catalog.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert catalog.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert catalog.execute("PRAGMA foreign_keys").fetchone()[0] == 1


def test_catalog_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    Catalog(path).close()
    raw = sqlite3.connect(path)
    raw.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    raw.close()
    with pytest.raises(CatalogError, match="newer PhotoAtlas"):
        Catalog(path)


def test_failed_transaction_leaves_nothing(tmp_path: Path) -> None:
    with Catalog(tmp_path / "c.sqlite") as catalog:
        root = catalog.add_root(b"/photos")
        with pytest.raises(RuntimeError), catalog.transaction():
            catalog.insert_photo(root, b"/photos/a.jpg", 1, 1, "h1", META)
            raise RuntimeError("crash in the middle of a batch")
        assert catalog.count_photos() == 0


def test_embeddings_round_trip_as_float32_and_are_shared_by_copies(tmp_path: Path) -> None:
    with Catalog(tmp_path / "c.sqlite") as catalog:
        root = catalog.add_root(b"/photos")
        model = catalog.model_id("m|t", 3)
        assert catalog.model_id("m|t", 3) == model
        with catalog.transaction():
            a = catalog.insert_photo(root, b"/photos/a.jpg", 1, 1, "same", META)
            b = catalog.insert_photo(root, b"/photos/copy.jpg", 1, 1, "same", META)
            catalog.put_embeddings(model, [("same", np.array([0.6, 0.8, 0.0]))])
        ids, vectors = catalog.embeddings(model)
        assert ids.tolist() == [a, b]
        assert vectors.dtype == np.float32
        np.testing.assert_allclose(vectors, [[0.6, 0.8, 0.0]] * 2, rtol=1e-6)


def test_non_utf8_paths_round_trip(tmp_path: Path) -> None:
    with Catalog(tmp_path / "c.sqlite") as catalog:
        root = catalog.add_root(b"/photos")
        with catalog.transaction():
            catalog.insert_photo(root, b"/photos/caf\xe9.jpg", 1, 1, "h", META)
        assert catalog.photos()[0].path == b"/photos/caf\xe9.jpg"
