"""Fewer / More albums change the number of albums the user sees, also when some groups wait in Other."""

from __future__ import annotations

from engine.cluster.persist import dump_estimator, stored_album_counts
from tests.engine.albums.test_album_properties import DIM, fake_photos
from tests.engine.cluster.test_diffuse_clusters import _noisy_library


def _live_albums(library) -> int:
    return sum(1 for album in library.albums.albums() if album.id is not None and album.size)


def test_fewer_and_more_count_albums_not_clusters(library) -> None:
    photos = fake_photos(library, seed=0)
    x, _ = _noisy_library([60, 50, 40, 40, 30], 30, seed=0, dim=DIM)
    photos.add_vectors(x)
    summary = library.recluster()
    # Six clusters, one of them the odd photos: five albums and the odd photos in Other.
    assert (summary.k, _live_albums(library), summary.other) == (6, 5, 30)
    assert (
        "→ 6 clusters (chosen automatically): 5 albums, and the photos of 1 more group fit no album"
        in (summary.lines()[0])
    )
    curve = library.coding_length_curve()
    assert curve.albums_at(curve.k) == 5
    # The next k below (5) also makes five albums (the odd photos join one); Fewer must make fewer.
    assert curve.albums_at(5) == 5
    assert curve.albums_at(curve.fewer) < 5 < curve.albums_at(curve.more)
    library.recluster(fewer=True)
    assert _live_albums(library) < 5
    library.albums.undo()
    library.recluster(more=True)
    assert _live_albums(library) > 5


def test_album_counts_are_read_from_the_description_alone() -> None:
    from engine.cluster import CPPClusterer

    x, _ = _noisy_library([60, 50, 40, 40, 30], 30, seed=0, dim=DIM)
    est = CPPClusterer(random_state=0, device="cpu").fit(x)
    stored = dump_estimator(est)
    assert stored_album_counts(stored.description) == est.album_counts_
    assert est.album_counts_[est.n_clusters_] == 5
    assert stored_album_counts("not json") == {}
    assert stored_album_counts('{"class": "DACRefiner", "fitted": {}}') == {}
