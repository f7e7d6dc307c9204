"""A re-cluster that fails or is cancelled anywhere leaves the albums and clusters exactly as they were."""

from __future__ import annotations

import random
import shutil
import sqlite3
from pathlib import Path

import pytest

import engine.albums.recluster
import engine.cluster
import engine.naming.album_names
from engine.errors import Cancelled
from engine.library import Library
from engine.progress import NullProgress
from tests.engine.albums.test_album_properties import FakeClusterer, fake_photos, use_fake_clusterer

TABLES = ("albums", "album_members", "album_actions", "clusterings", "cluster_members", "cluster_albums")


def state(library: Library) -> tuple[object, ...]:
    """Everything a re-cluster may change: the listings and the raw rows behind them."""
    rows = {t: library.catalog.execute(f"SELECT * FROM {t} ORDER BY 1, 2").fetchall() for t in TABLES}
    names = library.catalog.execute("SELECT * FROM cluster_names ORDER BY 1, 2").fetchall()
    return library.albums.albums(), library.clusters(), rows, names


@pytest.fixture
def edited(library, monkeypatch) -> Library:
    """A clustered library with the user's decisions in it and new photos waiting for a re-cluster."""
    use_fake_clusterer(monkeypatch)
    photos = fake_photos(library, seed=5, blobs=4)
    photos.add([i % 3 for i in range(36)])
    library.recluster(k=3)
    store = library.albums
    a, b, c = store.albums()
    store.rename(a.id, "Holidays")
    store.move(b.members[:2], a.id)
    store.split(c.members[:2], "Favourites")
    store.pin(c.id)
    store.merge([b.id], a.id)
    photos.add([3] * 8 + [0] * 4)  # a new blob: the next re-cluster makes a new album
    library.assign_new_photos()
    return library


def copy_of(library: Library, folder: Path) -> Library:
    """An independent copy of the library, to rehearse a re-cluster without touching the original."""
    library.catalog.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copytree(library.directory, folder)
    copy = Library(folder)
    copy.model_id()  # records which model the catalog's embeddings belong to, as the original already knows
    return copy


def raise_injected(*args: object, **kwargs: object) -> None:
    raise RuntimeError("injected failure")


class ExplodingClusterer(FakeClusterer):
    def fit(self, X, progress=None):
        raise RuntimeError("injected failure")


INJECTIONS = {
    "training": (engine.cluster, "CPPClusterer", ExplodingClusterer),
    "reuse check": (engine.albums.recluster, "_reuse_for_k", raise_injected),
    "reconcile plan": (engine.albums.recluster, "plan_reconcile", raise_injected),
    "final placement": (engine.albums.recluster, "_final_placement", raise_injected),
    "album names": (engine.albums.recluster, "album_names", raise_injected),
    "naming model": (engine.naming.album_names, "name_clusters", raise_injected),
    "serialising": (engine.albums.recluster, "serialise_estimator", raise_injected),
    "writing names (in the transaction)": (engine.albums.recluster, "write_album_names", raise_injected),
    "covers (in the transaction)": (engine.albums.recluster, "_refresh_covers", raise_injected),
    "storing the clustering (last in the transaction)": (engine.albums.recluster, "_store_clustering", raise_injected),
}


@pytest.mark.parametrize("point", list(INJECTIONS))
def test_a_failure_inside_recluster_changes_nothing(edited, monkeypatch, point: str) -> None:
    before = state(edited)
    module, name, replacement = INJECTIONS[point]
    monkeypatch.setattr(module, name, replacement)
    with pytest.raises(RuntimeError, match="injected"):
        edited.recluster()
    assert state(edited) == before
    monkeypatch.undo()
    use_fake_clusterer(monkeypatch)
    summary = edited.recluster()  # and the next attempt works
    assert summary.created and state(edited) != before


class FailingConnection:
    """The catalog's connection, failing the n-th statement of a transaction (as a full disk would)."""

    def __init__(self, real: sqlite3.Connection, fail_at: int | None, error: BaseException) -> None:
        self._real, self._fail_at, self._error = real, fail_at, error
        self.count = 0

    def _tick(self, sql: str) -> None:
        if self._real.in_transaction and sql.split()[0].upper() not in ("COMMIT", "ROLLBACK"):
            self.count += 1
            if self.count == self._fail_at:
                raise self._error

    def execute(self, sql: str, *args: object) -> sqlite3.Cursor:
        self._tick(sql)
        return self._real.execute(sql, *args)

    def executemany(self, sql: str, *args: object) -> sqlite3.Cursor:
        self._tick(sql)
        return self._real.executemany(sql, *args)

    def __getattr__(self, name: str) -> object:
        return getattr(self._real, name)


def test_a_database_failure_at_any_statement_of_the_transaction_changes_nothing(
    edited, monkeypatch, tmp_path: Path
) -> None:
    # Rehearse on a copy to count the statements the re-cluster's transactions run.
    rehearsal = copy_of(edited, tmp_path / "rehearsal")
    counter = FailingConnection(rehearsal.catalog._db, None, RuntimeError())
    monkeypatch.setattr(rehearsal, "_naming", lambda progress: None)  # no naming pass after the commit
    rehearsal.catalog._db = counter
    rehearsal.recluster()
    rehearsal.catalog._db = counter._real
    rehearsal.close()
    total = counter.count
    assert total > 20

    monkeypatch.setattr(edited, "_naming", lambda progress: None)
    before = state(edited)
    real = edited.catalog._db
    points = sorted({1, 2, total - 1, total, *random.Random(1).sample(range(3, total - 1), 12)})
    for n in points:
        error = KeyboardInterrupt() if n % 3 == 0 else sqlite3.OperationalError("database or disk is full")
        edited.catalog._db = FailingConnection(real, n, error)
        try:
            with pytest.raises(type(error)):
                edited.recluster()
        finally:
            edited.catalog._db = real
        assert state(edited) == before, f"statement {n} of {total} left a change behind"


class CancelAt(NullProgress):
    """Asks to stop from its n-th `is_cancelled` call on."""

    def __init__(self, n: int | None, on_call=None) -> None:
        self.n, self.calls, self.on_call = n, 0, on_call

    def is_cancelled(self) -> bool:
        self.calls += 1
        if self.on_call is not None:
            self.on_call()
        return self.n is not None and self.calls >= self.n


def test_cancelling_at_any_point_is_all_or_nothing(edited, tmp_path: Path) -> None:
    """Cancelled before the commit: nothing changed. `Library.recluster` then names the clusters in its own
    transactions; a cancel there keeps the committed re-cluster whole (never part of it)."""
    rehearsal = copy_of(edited, tmp_path / "rehearsal")
    first = rehearsal.catalog.execute("SELECT created_at FROM clusterings WHERE active=1").fetchone()
    committed_at: list[int] = []

    def watch() -> None:
        if (
            not committed_at
            and rehearsal.catalog.execute("SELECT created_at FROM clusterings WHERE active=1").fetchone() != first
        ):
            committed_at.append(progress.calls)

    progress = CancelAt(None, watch)
    rehearsal.recluster(progress=progress)
    complete = rehearsal.albums.albums()
    rehearsal.close()
    total = progress.calls
    before_commit = committed_at[0] - 1 if committed_at else total
    assert before_commit >= 2

    before = state(edited)
    for n in range(1, total + 1):
        with pytest.raises(Cancelled):
            edited.recluster(progress=CancelAt(n))
        if n <= before_commit:
            assert state(edited) == before, f"cancel at check {n} left a change behind"
        else:
            assert edited.albums.albums() == complete, f"cancel at check {n} left a partial re-cluster"
            break


def test_engine_recluster_cancelled_at_each_check_changes_nothing(edited) -> None:
    """The re-cluster verb itself (no naming pass after it): every cancellation point is before its commit."""
    model_id = edited.model_id()
    naming = edited._naming(None)
    before = state(edited)
    snapshot = edited.catalog.execute("SELECT created_at FROM clusterings WHERE active=1").fetchone()
    for n in range(1, 50):
        progress = CancelAt(n)
        try:
            engine.albums.recluster.recluster(edited.catalog, model_id, None, "cpu", naming, progress)
        except Cancelled:
            assert state(edited) == before, f"cancel at check {n} left a change behind"
            continue
        assert (
            n > 2 and edited.catalog.execute("SELECT created_at FROM clusterings WHERE active=1").fetchone() != snapshot
        )
        break
    else:
        pytest.fail("the re-cluster never completed")
