"""A catalog written by PhotoAtlas 0.1.0 opens, migrates once and keeps its albums, names and history; the
fitted estimator it pickled becomes data, and a crafted pickle in its place is never run.

`tests/data/catalog-0.1.0.sqlite` was made by the 0.1.0 release itself (36 generated photos in three colours,
the tiny test model, a re-cluster into 3 albums, then a rename, a move and a pin);
`catalog-0.1.0.json` beside it holds what 0.1.0 showed for it, including its estimator's predictions.
"""

from __future__ import annotations

import io
import json
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from engine.albums.clusters import LEGACY_DROPPED, stored_estimator
from engine.albums.new_photos import assign_new_photos
from engine.catalog import CATALOG_FILE, PhotoMeta
from engine.catalog.migrations import SCHEMA_VERSION
from engine.library import Library

DATA = Path(__file__).resolve().parents[2] / "data"
EXPECTED = json.loads((DATA / "catalog-0.1.0.json").read_text())


@pytest.fixture
def old_library(tmp_path: Path) -> Path:
    """A library folder holding a copy of the 0.1.0 catalog."""
    folder = tmp_path / "library"
    folder.mkdir()
    shutil.copy(DATA / "catalog-0.1.0.sqlite", folder / CATALOG_FILE)
    return folder


def _albums(library: Library) -> list[dict[str, object]]:
    return [
        {
            "id": a.id,
            "name": a.name,
            "user_named": a.user_named,
            "pinned": a.pinned,
            "members": a.members,
            "user_members": a.user_members,
        }
        for a in library.albums.albums()
    ]


def _schema(folder: Path) -> tuple[int, list[str], int]:
    db = sqlite3.connect(folder / CATALOG_FILE)
    try:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        columns = [r[1] for r in db.execute("PRAGMA table_info(clusterings)")]
        legacy = db.execute("SELECT COUNT(*) FROM legacy_estimators").fetchone()[0]
    finally:
        db.close()
    return version, columns, legacy


def test_the_fixture_is_a_0_1_0_catalog() -> None:
    db = sqlite3.connect(DATA / "catalog-0.1.0.sqlite")
    try:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 4
        blob = db.execute("SELECT estimator FROM clusterings").fetchone()[0]
    finally:
        db.close()
    assert blob[:2] == b"PK"  # torch.save's zip of a pickled CPPClusterer


def test_a_0_1_0_catalog_migrates_once_and_keeps_albums_names_history_and_model(old_library: Path) -> None:
    with Library(old_library) as library:
        assert _albums(library) == EXPECTED["albums"]
        assert [[h.id, h.description, h.undone] for h in library.history()] == EXPECTED["history"]
        assert [{"id": c.id, "name": c.name, "size": c.size} for c in library.clusters()] == EXPECTED["clusters"]
        assert library.notices == []
        estimator = stored_estimator(library.catalog)
        assert estimator is not None
        ids, x = library.catalog.embeddings(library.catalog.clusterings.current().model_id)
        assert ids.tolist() == EXPECTED["predict"]["photo_ids"]
        assert estimator.predict(x).tolist() == EXPECTED["predict"]["labels"]
        assert int(estimator.n_clusters_) == EXPECTED["n_clusters"]
        assert {str(k): v for k, v in estimator.coding_lengths_.items()} == EXPECTED["coding_lengths"]
    version, columns, legacy = _schema(old_library)
    assert version == SCHEMA_VERSION
    assert "estimator" not in columns and {"estimator_tensors", "estimator_json"} <= set(columns)
    assert legacy == 0  # converted, and the pickle is gone
    with Library(old_library) as again:  # the second opening has nothing left to convert
        assert again.notices == []
        assert _albums(again) == EXPECTED["albums"]


def _crafted_pickle(marker: Path) -> bytes:
    """What an attacker would put in a shared catalog: a pickle whose loading runs a command."""
    import os

    import torch

    class Payload:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return os.system, (f"touch {marker}",)

    buffer = io.BytesIO()
    torch.save({"estimator": Payload()}, buffer)
    return buffer.getvalue()


def test_a_crafted_pickle_in_an_old_catalog_is_set_aside_never_run(old_library: Path, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    db = sqlite3.connect(old_library / CATALOG_FILE)
    with db:
        db.execute("UPDATE clusterings SET estimator=?", (_crafted_pickle(marker),))
    db.close()
    with Library(old_library) as library:
        assert not marker.exists()
        assert library.notices == [LEGACY_DROPPED]
        assert library.status().notices == (LEGACY_DROPPED,)
        assert stored_estimator(library.catalog) is None
        assert _albums(library) == EXPECTED["albums"]  # the albums themselves are untouched
        # A new photo now waits in Other (no model to place it with) instead of failing.
        catalog = library.catalog
        model_id = catalog.clusterings.current().model_id
        with catalog.transaction():
            root = catalog.roots()[0][0]
            meta = PhotoMeta(64, 48, None, "file", None, None)
            photo = catalog.insert_photo(root, b"/nowhere/new.png", 1, 1, "new-content", meta)
            catalog.put_embeddings(model_id, [("new-content", np.ones(32, dtype=np.float32) / np.sqrt(32))])
        assert assign_new_photos(catalog, model_id) is None
        assert photo in library.albums.albums()[-1].members  # "Other"
    assert _schema(old_library)[2] == 0
    assert not marker.exists()


def test_an_estimator_the_catalog_cannot_read_means_no_estimator(old_library: Path) -> None:
    with Library(old_library) as library:
        db = library.catalog
        with db.transaction():
            db.execute(
                "UPDATE clusterings SET estimator_json=?", ('{"format": "photoatlas.estimator", "version": 99}',)
            )
        assert stored_estimator(library.catalog) is None
        assert np.asarray(library.catalog.embeddings(1)[0]).size == 36
