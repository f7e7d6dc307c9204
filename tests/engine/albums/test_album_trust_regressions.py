"""Album trust: the shortest cases the state machine (test_album_trust_stateful.py) found, one rule each."""

from __future__ import annotations

import pytest

from engine.library import Library
from tests.engine.albums.test_album_properties import FakePhotos, fake_photos, use_fake_clusterer
from tests.engine.albums.test_album_trust_stateful import difference, read_state, same

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture
def clustered(library, monkeypatch) -> tuple[Library, FakePhotos]:
    """Four blobs of fake photos (and two outliers), clustered with k chosen by the coding length (4)."""
    use_fake_clusterer(monkeypatch)
    photos = fake_photos(library, seed=0, blobs=4)
    photos.add([i % 4 for i in range(36)] + [-1, -1])
    assert library.recluster().k == 4
    return library, photos


def test_refine_is_one_action_and_undo_reverts_it_whole(clustered) -> None:
    """Ctrl+Z after a refinement reverts the refinement, not only the naming that followed it."""
    library, _ = clustered
    before = read_state(library)
    latest = library.albums.history(1)[0].id
    library.refine(epochs=2)
    new = [(e.kind, e.description) for e in library.albums.history(10) if e.id > latest]
    assert [kind for kind, _ in new] == ["refine"], new
    assert library.albums.undo() == new[0][1]
    now = read_state(library)
    assert same(before, now), difference(before, now)


def test_fewer_works_after_a_count_beyond_the_fitted_curve(clustered) -> None:
    """`recluster --k N` with N past the curve the fit reads out (here the stand-in's 2..6; the real estimator's
    stops at 60 or n/2) fits N alone; "fewer albums" must still work from there ("from any state")."""
    library, _ = clustered
    assert library.recluster(k=7).k == 7
    assert library.recluster(fewer=True).k < 7


def test_albums_whose_photos_were_deleted_leave_no_empty_album_nor_a_doubled_name(clustered) -> None:
    """Two photos' files vanish, then a re-cluster into 2 albums empties two automatic albums: they are retired
    as when no photo was deleted (the deleted photos' placements, kept for their return, do not hold them
    open), and no two albums end up with the same name."""
    library, _ = clustered
    with library.catalog.transaction():
        library.catalog.delete_photos([30, 12])
    summary = library.recluster(k=2)
    albums = [a for a in library.albums.albums() if a.id is not None]
    assert all(a.members for a in albums), [(a.id, a.name, a.size) for a in albums]
    assert len(summary.retired) == 2
    names = [a.name.casefold() for a in albums]
    assert len(set(names)) == len(names), names


def test_naming_does_not_give_an_emptied_albums_name_to_another(clustered) -> None:
    """The user moves every photo out of an automatic album (it stays, empty, until the next re-cluster);
    naming then must not give its name to another album."""
    library, _ = clustered
    first, second = [a for a in library.albums.albums() if a.id is not None][:2]
    library.albums.move(first.members, second.id)
    library.name()
    names = [a.name.casefold() for a in library.albums.albums() if a.id is not None]
    assert len(set(names)) == len(names), names


def test_undoing_an_import_restores_the_clustering_too(clustered) -> None:
    """Undo of an "import" puts the new photos back in Other and the clustering back as it was: its clusters
    do not list them (they are not "seen" by it), so a later import weighs them again."""
    library, photos = clustered
    before = read_state(library)
    new = photos.add([0, 1, 2])
    assert library.assign_new_photos().assigned >= 1
    assert library.albums.undo() is not None
    now = read_state(library)
    assert same(before, now), difference(before, now)
    assert not {p for c in library.clusters() if c.id is not None for p in c.members} & set(new)
    assert library.assign_new_photos().assigned >= 1


def test_redoing_an_import_restores_the_clustering_too(clustered) -> None:
    """Redo of an "import" puts the new photos back in their albums and in the clusters that weighed them, as
    after the import itself (the clusters listed them before the undo)."""
    library, photos = clustered
    photos.add([0, 1, 2])
    assert library.assign_new_photos().assigned >= 1
    after = read_state(library)
    assert library.albums.undo() is not None
    assert library.albums.redo() is not None
    now = read_state(library)
    assert same(after, now), difference(after, now)
