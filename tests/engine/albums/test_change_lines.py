"""What an action did to the albums, told by the names the user knew them by."""

from __future__ import annotations

from engine.albums.recluster import change_lines
from engine.catalog.albums import MachineName
from tests.engine.albums.test_album_properties import fake_photos


def _two_albums(library) -> tuple[int, int]:
    photos = fake_photos(library, seed=0, blobs=2)
    photos.add([0] * 12 + [1] * 12)
    library.recluster(2)
    albums = sorted(library.catalog.albums.live_names())
    assert len(albums) == 2
    return albums[0], albums[1]


def test_an_album_the_action_renamed_is_named_as_the_user_knew_it(library) -> None:
    first, second = _two_albums(library)
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
    first, _ = _two_albums(library)
    catalog = library.catalog
    before, names_before = catalog.albums.placements(), catalog.albums.live_names()
    with catalog.albums.action("recluster", "a stand-in for a re-cluster"):
        catalog.albums.set_machine_names({first: MachineName("Cactus", 0.9, False, ())})
    title = next(a.title for a in library.albums.albums() if a.id == first)
    assert title.startswith("Cactus")
    assert change_lines(catalog, before, [], [], names_before) == [f"“{names_before[first]}” is now “{title}”"]
