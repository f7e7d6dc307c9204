"""A re-cluster fits one representative per stack, and every member of a stack lands where it does."""

from __future__ import annotations

import numpy as np

from engine.catalog.stacks import NewStack
from tests.engine.albums.test_album_properties import FakeClusterer, album_of, fake_photos, use_fake_clusterer


def test_a_stack_is_fitted_once_and_its_members_follow(library, monkeypatch) -> None:
    use_fake_clusterer(monkeypatch)
    fitted_rows: list[int] = []
    real_fit = FakeClusterer.fit

    def spy(self: FakeClusterer, X: np.ndarray, progress: object = None) -> FakeClusterer:
        fitted_rows.append(len(X))
        return real_fit(self, X, progress)

    monkeypatch.setattr(FakeClusterer, "fit", spy)
    photos = fake_photos(library, seed=3, blobs=3)
    ids = photos.add([i % 3 for i in range(36)])
    # A "burst" of six photos, one of them from another blob: the machine stacked them, so they are one.
    members = [ids[0], ids[3], ids[6], ids[9], ids[12], ids[1]]
    hashes = [photos.hash_of[p] for p in members]
    library.catalog.stacks.replace([NewStack("burst", hashes[0], {h: n for n, h in enumerate(hashes)})])

    library.recluster(k=3)
    assert fitted_rows == [36 - 5]
    where = album_of(library.albums.albums())
    assert len({where[p] for p in members}) == 1, "a stack's photos share its cover's album"
    assert where[ids[1]] == where[ids[0]] != where[ids[4]]

    # More / fewer albums switch k on the stored estimator without refitting while the stacks are the same.
    library.recluster(k=2)
    assert fitted_rows == [31]
    # Once the stacks change, the photos fitted change: a fresh fit.
    library.catalog.stacks.replace([])
    library.recluster(k=3)
    assert fitted_rows == [31, 36]
