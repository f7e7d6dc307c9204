"""New photos join their album at index time, without a re-cluster; poor fits wait in "Other"."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine.albums.new_photos import SUGGEST_OTHER_SHARE
from engine.catalog import PhotoMeta
from engine.naming.vocabulary import VocabularyChoice
from tests.engine.albums.test_album_properties import (
    VOCABULARY,
    FakePhotos,
    album_of,
    fake_photos,
    use_fake_clusterer,
)


@pytest.fixture
def clustered(library, monkeypatch) -> tuple[object, FakePhotos, dict[int, int]]:
    """Three albums of twelve photos, one per blob; returns (library, photos, blob → album)."""
    use_fake_clusterer(monkeypatch)
    photos = fake_photos(library, seed=4, blobs=3)
    ids = photos.add([i % 3 for i in range(36)])
    library.recluster(k=3)
    where = album_of(library.albums.albums())
    blob_album = {blob: where[ids[blob]] for blob in range(3)}
    assert all(where[photo_id] == blob_album[i % 3] for i, photo_id in enumerate(ids)), "one album per blob"
    return library, photos, blob_album


def test_no_clustering_yet_assigns_nothing(library) -> None:
    photos = fake_photos(library)
    photos.add([0, 1])
    assert library.assign_new_photos() is None
    assert library.albums.albums()[-1].id is None and library.albums.albums()[-1].size == 2


def test_similar_new_photos_join_their_album(clustered) -> None:
    library, photos, blob_album = clustered
    new = photos.add([0, 0, 1, 2, 2, 2])
    summary = library.assign_new_photos()
    assert summary.assigned == 6 and summary.to_other == 0 and not summary.suggest_recluster
    where = album_of(library.albums.albums())
    assert [where[p] for p in new] == [blob_album[b] for b in [0, 0, 1, 2, 2, 2]]
    assert summary.lines() == ["new photos: 6 joined albums, 0 wait in Other"]


def test_an_outlier_waits_in_other(clustered) -> None:
    library, photos, _ = clustered
    (outlier,) = photos.add_vectors(np.ones((1, 32), dtype=np.float32) / np.sqrt(32))
    summary = library.assign_new_photos()
    assert summary.assigned == 0 and summary.to_other == 1
    albums = library.albums.albums()
    assert albums[-1].id is None and albums[-1].members == [outlier]


def test_a_pinned_album_receives_no_new_photos(clustered) -> None:
    library, photos, blob_album = clustered
    library.albums.pin(blob_album[0])
    pinned = library.albums.albums()
    new = photos.add([0, 0, 1])
    summary = library.assign_new_photos()
    assert summary.assigned == 1 and summary.to_other == 2
    where = album_of(library.albums.albums())
    assert [where[p] for p in new] == [None, None, blob_album[1]]
    assert {a.id: a.members for a in library.albums.albums() if a.pinned} == {
        a.id: a.members for a in pinned if a.pinned
    }


def test_assigning_again_changes_nothing(clustered) -> None:
    library, photos, blob_album = clustered
    joined, waiting = photos.add([1, 1])
    library.assign_new_photos()
    # The user takes one back out; the other joined; an outlier waits.
    library.albums.remove([joined])
    photos.add_vectors(-np.ones((1, 32), dtype=np.float32) / np.sqrt(32))
    library.assign_new_photos()
    before = library.albums.albums()
    summary = library.assign_new_photos()
    assert (summary.assigned, summary.to_other) == (0, 0) and summary.lines() == []
    assert library.albums.albums() == before
    where = album_of(before)
    assert where[joined] is None and where[waiting] == blob_album[1]


def test_a_new_copy_of_a_photo_is_in_its_album_at_once(clustered) -> None:
    library, photos, _ = clustered
    original = next(iter(photos.hash_of))
    row = library.catalog.execute("SELECT root_id, hash FROM photos WHERE id=?", (original,)).fetchone()
    with library.catalog.transaction():
        copy = library.catalog.insert_photo(
            row[0], bytes(photos.root / "copy.jpg"), 1, 1, row[1], PhotoMeta(64, 48, None, "file", None, None)
        )
    summary = library.assign_new_photos()
    assert summary.assigned == 0 and summary.to_other == 0
    where = album_of(library.albums.albums())
    assert where[copy] == where[original]


def test_many_photos_in_other_suggest_a_recluster(clustered) -> None:
    library, photos, _ = clustered
    rng = np.random.default_rng(0)
    # A new subject the clustering has never seen: far from every album.
    centre = rng.normal(size=32)
    vectors = centre + 0.05 * rng.normal(size=(12, 32))
    photos.add_vectors((vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32))
    summary = library.assign_new_photos()
    assert summary.to_other == 12 and summary.other_share >= SUGGEST_OTHER_SHARE and summary.suggest_recluster
    assert any("photoatlas recluster" in line for line in summary.lines())
    # The re-cluster it suggests gives them an album of their own.
    created = library.recluster().created
    assert len(created) == 1 and library.albums.albums()[-1].id is not None


def test_photos_already_left_in_other_do_not_ask_for_another_recluster(clustered) -> None:
    library, photos, _ = clustered
    # A third of the library goes to Other by the user's hand (a re-cluster's diffuse photos would sit there the
    # same way): another re-cluster would keep them there, so it must not be suggested for them.
    library.albums.remove(library.albums.albums()[0].members)
    photos.add([-1])
    summary = library.assign_new_photos()
    assert summary.to_other == 1
    assert summary.other_share == pytest.approx(1 / 37)
    assert not summary.suggest_recluster


def test_new_photos_follow_a_merge(clustered) -> None:
    library, photos, blob_album = clustered
    library.albums.merge([blob_album[0]], blob_album[1])
    new = photos.add([0, 1])
    summary = library.assign_new_photos()
    where = album_of(library.albums.albums())
    assert [where[p] for p in new] == [blob_album[1], blob_album[1]], "the merge stays merged for new photos"
    assert summary.assigned == 2


def test_indexing_assigns_new_photos(library, monkeypatch, tmp_path: Path, make_photo) -> None:
    """Through `Library.index` with the tiny model: new photos are placed at index time, once."""
    use_fake_clusterer(monkeypatch)
    library.set_vocabulary(VocabularyChoice(replacement=VOCABULARY))
    folder = tmp_path / "photos"
    colours = [(230, 20, 20), (20, 20, 230)]
    for i in range(24):
        base = colours[i % 2]
        make_photo(folder / f"p{i:02d}.jpg", color=tuple(min(255, c + i) for c in base))
    library.index([folder])
    library.recluster(k=2)
    before = album_of(library.albums.albums())
    make_photo(folder / "new" / "red.jpg", color=(232, 22, 22))
    make_photo(folder / "new" / "blue.jpg", color=(22, 22, 232))
    summary = library.index()
    assert summary.albums and summary.albums[0].startswith("new photos:")
    after = album_of(library.albums.albums())
    assert {p: a for p, a in after.items() if p in before} == before, "indexing never moves known photos"
    assert len(after) == 26
    again = library.index()
    assert not again.albums, "nothing new: nothing assigned"
    assert album_of(library.albums.albums()) == after
