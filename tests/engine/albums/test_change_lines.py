"""What an action did to the albums, told by the names the user knew them by."""

from __future__ import annotations

import pytest

from engine.albums.recluster import change_lines
from engine.catalog.albums import MachineName
from tests.engine.albums.test_album_properties import fake_photos


def _albums(library, count: int = 2) -> list[int]:
    photos = fake_photos(library, seed=0, blobs=count)
    photos.add([blob for blob in range(count) for _ in range(12)])
    library.recluster(count)
    albums = sorted(library.catalog.albums.live_names())
    assert len(albums) == count
    return albums


def test_an_album_the_action_renamed_is_named_as_the_user_knew_it(library) -> None:
    first, second = _albums(library)
    catalog = library.catalog
    before, names_before = catalog.albums.placements(), catalog.albums.live_names()
    with catalog.albums.action("recluster", "a stand-in for a re-cluster"):
        moved = [h for h, (album, _) in before.items() if album == first][:3]
        for h in moved:
            catalog.albums.machine_place(h, second)
        # The automatic names follow the photos: the first album's name now fits the second one's best.
        catalog.albums.set_machine_names(
            {
                first: MachineName("Cactus", 0.9, False, ()),
                second: MachineName(names_before[first], 0.9, False, ()),
            }
        )
    titles = {a.id: a.title for a in library.albums.albums() if a.id is not None}
    lines = change_lines(catalog, before, [], [], names_before)
    assert sorted(lines) == sorted(
        [
            f"“{names_before[second]}” is now “{titles[second]}”: +3 photos",
            f"“{names_before[first]}” is now “{titles[first]}”: −3",
        ]
    )
    # Photos moving between albums that keep their names: the albums are named as they are.
    before, names_before = catalog.albums.placements(), catalog.albums.live_names()
    with catalog.albums.action("recluster", "another stand-in"):
        for h in moved[:2]:
            catalog.albums.machine_place(h, first)
    titles = {a.id: a.title for a in library.albums.albums() if a.id is not None}
    assert sorted(change_lines(catalog, before, [], [], names_before)) == sorted(
        [f"“{titles[first]}”: +2 photos", f"“{titles[second]}”: −2"]
    )


def test_an_album_only_renamed_is_listed_too(library) -> None:
    first, _ = _albums(library)
    catalog = library.catalog
    before, names_before = catalog.albums.placements(), catalog.albums.live_names()
    with catalog.albums.action("recluster", "a stand-in for a re-cluster"):
        catalog.albums.set_machine_names({first: MachineName("Cactus", 0.9, False, ())})
    title = next(a.title for a in library.albums.albums() if a.id == first)
    assert title.startswith("Cactus")
    assert change_lines(catalog, before, [], [], names_before) == [f"“{names_before[first]}” is now “{title}”"]


@pytest.mark.parametrize(
    ("to_other", "to_third", "where"),
    [
        (0, 0, "into “{second}”"),
        (0.25, 0, "mostly into “{second}”"),
        (1, 0, "into Other"),
        (0.5, 0, "into “{second}” and Other"),
        (0.2, 0.4, "spread over 2 albums and Other"),
    ],
)
def test_an_emptied_album_says_where_its_photos_went(library, to_other: float, to_third: float, where: str) -> None:
    # Two alike albums merged: the merged album may take the emptied one's automatic name, so the emptied
    # album's line says where its photos are. The shares are of the emptied album's photos.
    first, second, third = _albums(library, 3)
    catalog = library.catalog
    before, names_before = catalog.albums.placements(), catalog.albums.live_names()
    members = [h for h, (album, _) in before.items() if album == first]
    other, moved = round(to_other * len(members)), round((to_other + to_third) * len(members))
    with catalog.albums.action("recluster", "a stand-in for a re-cluster that empties an album"):
        for i, h in enumerate(members):
            catalog.albums.machine_place(h, None if i < other else third if i < moved else second)
        catalog.albums.retire([first])
    titles = {a.id: a.title for a in library.albums.albums() if a.id is not None}
    lines = change_lines(catalog, before, [], [first], names_before)
    assert lines[-1] == f"1 album emptied and removed: “{names_before[first]}” ({where.format(second=titles[second])})"
