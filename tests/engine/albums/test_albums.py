"""`AlbumStore`: every user action on a real catalog, its undo, and refusals of bad arguments."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest

from engine.albums.store import Album, AlbumStore
from engine.errors import InvalidInputError
from tests.engine.albums.test_album_properties import FakePhotos, fake_photos, use_fake_clusterer


@pytest.fixture
def clustered(library, monkeypatch) -> tuple[object, FakePhotos]:
    """A library of 36 fake photos in three blobs, clustered into three albums."""
    use_fake_clusterer(monkeypatch)
    photos = fake_photos(library, seed=3, blobs=3)
    photos.add([i % 3 for i in range(36)])
    library.recluster(k=3)
    return library, photos


def live(store: AlbumStore) -> list[Album]:
    return [a for a in store.albums() if a.id is not None]


def by_id(store: AlbumStore) -> dict[int | None, Album]:
    return {a.id: a for a in store.albums()}


def test_clustering_made_three_albums(clustered) -> None:
    library, photos = clustered
    albums = library.albums.albums()
    assert [a.id for a in albums] and all(a.id is not None for a in albums)
    assert sorted(a.size for a in albums) == [12, 12, 12]
    assert sorted(p for a in albums for p in a.members) == sorted(photos.hash_of)
    assert not any(a.user_named or a.pinned for a in albums)
    assert all(a.cover in a.members and a.date_from <= a.date_to for a in albums)


# -- each action, then its undo ---------------------------------------------------------------------


def do_rename(store: AlbumStore) -> Callable[[], None]:
    first = live(store)[0]
    assert store.rename(first.id, "  Summer   by the  sea ") == "Summer by the sea"

    def check() -> None:
        album = by_id(store)[first.id]
        assert album.name == "Summer by the sea" and album.user_named and album.title == "Summer by the sea"
        assert album.members == first.members

    return check


def do_merge(store: AlbumStore) -> Callable[[], None]:
    a, b, c = live(store)
    assert store.merge([b.name, str(c.id)], a.id) == a.id

    def check() -> None:
        albums = by_id(store)
        assert set(albums) == {a.id}
        assert sorted(albums[a.id].members) == sorted(a.members + b.members + c.members)
        assert albums[a.id].user_members == a.size + b.size + c.size, "the whole merged album is the user's"

    return check


def do_move(store: AlbumStore) -> Callable[[], None]:
    a, b, _ = live(store)
    moved = b.members[:3]
    assert store.move([*moved, moved[0]], a.id) == a.id

    def check() -> None:
        albums = by_id(store)
        assert set(moved) <= set(albums[a.id].members) and not set(moved) & set(albums[b.id].members)
        assert albums[a.id].user_members == 3 and albums[a.id].size == a.size + 3

    return check


def do_remove(store: AlbumStore) -> Callable[[], None]:
    a = live(store)[0]
    removed = a.members[:2]
    store.remove(removed)

    def check() -> None:
        albums = by_id(store)
        assert albums[None].members == sorted(removed, key=albums[None].members.index)
        assert set(albums[None].members) == set(removed) and albums[a.id].size == a.size - 2

    return check


def do_split(store: AlbumStore) -> Callable[[], None]:
    albums = live(store)
    chosen = [albums[0].members[0], albums[-1].members[-1]]
    new_id = store.split(chosen, "Best of")

    def check() -> None:
        album = by_id(store)[new_id]
        assert new_id not in {a.id for a in albums} and album.name == "Best of" and album.user_named
        assert set(album.members) == set(chosen) and album.cover in chosen

    return check


def do_split_unnamed(store: AlbumStore) -> Callable[[], None]:
    a = live(store)[0]
    new_id = store.split(a.members[:2])

    def check() -> None:
        album = by_id(store)[new_id]
        assert album.name == "New album 1" and not album.user_named and album.size == 2

    return check


def do_pin(store: AlbumStore) -> Callable[[], None]:
    a = live(store)[1]
    store.pin(a.name)

    def check() -> None:
        assert by_id(store)[a.id].pinned

    return check


def do_cover(store: AlbumStore) -> Callable[[], None]:
    a = live(store)[0]
    chosen = a.members[-1]
    assert chosen != a.cover
    store.set_cover(a.id, chosen)

    def check() -> None:
        assert by_id(store)[a.id].cover == chosen

    return check


ACTIONS = [do_rename, do_merge, do_move, do_remove, do_split, do_split_unnamed, do_pin, do_cover]


@pytest.mark.parametrize("action", ACTIONS, ids=[a.__name__[3:] for a in ACTIONS])
def test_action_then_undo_restores_the_exact_listing(clustered, action) -> None:
    library, _ = clustered
    store = library.albums
    before = store.albums()
    check = action(store)
    check()
    entry = store.history()[0]
    assert entry.description and not entry.undone
    assert store.undo() == entry.description
    assert store.albums() == before
    assert store.history()[0] == dataclasses.replace(entry, undone=True, redoable=True)
    assert [e.kind for e in store.history()][1:] == ["recluster"], "only the one action was recorded"


def test_unpin_and_its_undo(clustered) -> None:
    store = clustered[0].albums
    album = live(store)[0]
    store.pin(album.id)
    pinned = store.albums()
    store.pin(album.id, False)
    assert not by_id(store)[album.id].pinned
    store.undo()
    assert store.albums() == pinned


def test_undo_walks_back_several_actions(clustered) -> None:
    store = clustered[0].albums
    snapshots = [store.albums()]
    for action in [do_rename, do_move, do_cover, do_pin, do_merge, do_remove, do_split]:
        action(store)
        snapshots.append(store.albums())
    assert [h.undone for h in store.history()] == [False] * 8  # the seven, and the first clustering
    for expected in reversed(snapshots[:-1]):
        assert store.undo() is not None
        assert store.albums() == expected
    assert store.undo().startswith("Re-cluster")
    assert store.undo() is None
    assert all(entry.undone for entry in store.history())


def test_an_action_after_an_undo_is_undone_first(clustered) -> None:
    store = clustered[0].albums
    a, b, _ = live(store)
    start = store.albums()
    store.rename(a.id, "First")
    after_first = store.albums()
    store.rename(b.id, "Second")
    store.undo()
    store.move(b.members[:1], a.id)
    store.undo()
    assert store.albums() == after_first
    store.undo()
    assert store.albums() == start


# -- bad arguments ----------------------------------------------------------------------------------

BAD: dict[str, Callable[[AlbumStore, list[Album]], object]] = {
    "rename unknown album": lambda s, a: s.rename("no such album", "x"),
    "rename unknown id": lambda s, a: s.rename(999, "x"),
    "empty name": lambda s, a: s.rename(a[0].id, ""),
    "blank name": lambda s, a: s.rename(a[0].id, " \t "),
    "digits-only name": lambda s, a: s.rename(a[0].id, "2024"),
    "too long name": lambda s, a: s.rename(a[0].id, "x" * 201),
    "duplicate name": lambda s, a: s.rename(a[0].id, a[1].name),
    "duplicate name in another case": lambda s, a: s.rename(a[0].id, a[1].name.upper()),
    "merge into itself": lambda s, a: s.merge([a[0].id], a[0].id),
    "merge into itself by name": lambda s, a: s.merge([a[1].id, a[0].name], str(a[0].id)),
    "merge nothing": lambda s, a: s.merge([], a[0].id),
    "merge unknown source": lambda s, a: s.merge([a[1].id, "nope"], a[0].id),
    "merge into unknown": lambda s, a: s.merge([a[1].id], "nope"),
    "move no photos": lambda s, a: s.move([], a[0].id),
    "move unknown photo": lambda s, a: s.move([a[1].members[0], 10**6], a[0].id),
    "move to unknown album": lambda s, a: s.move(a[1].members[:1], "nope"),
    "remove no photos": lambda s, a: s.remove([]),
    "remove unknown photo": lambda s, a: s.remove([10**6]),
    "split no photos": lambda s, a: s.split([]),
    "split with a taken name": lambda s, a: s.split(a[1].members[:1], a[0].name.lower()),
    "split with an empty name": lambda s, a: s.split(a[1].members[:1], " "),
    "pin unknown album": lambda s, a: s.pin("nope"),
    "cover of unknown album": lambda s, a: s.set_cover("nope", a[0].members[0]),
    "cover from another album": lambda s, a: s.set_cover(a[0].id, a[1].members[0]),
    "cover unknown photo": lambda s, a: s.set_cover(a[0].id, 10**6),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_arguments_are_refused_and_change_nothing(clustered, case: str) -> None:
    store = clustered[0].albums
    store.rename(live(store)[2].id, "Kept")  # something to undo, so a bad call cannot look like a no-op
    before, history = store.albums(), store.history()
    with pytest.raises(InvalidInputError) as error:
        BAD[case](store, live(store))
    assert str(error.value) and "Traceback" not in str(error.value)
    assert store.albums() == before and store.history() == history


def test_renaming_to_its_own_name_in_another_case_is_allowed(clustered) -> None:
    store = clustered[0].albums
    album = live(store)[0]
    store.rename(album.id, "Sea")
    store.rename("sea", "SEA")
    assert by_id(store)[album.id].name == "SEA"


# -- name resolution --------------------------------------------------------------------------------


def test_resolve_by_id_exact_name_and_any_case(clustered) -> None:
    library, _ = clustered
    store = library.albums
    a, b, _ = live(store)
    store.rename(a.id, "Beach Day")
    assert store.resolve(a.id) == store.resolve(str(a.id)) == store.resolve(f" {a.id} ") == a.id
    assert store.resolve("Beach Day") == store.resolve("beach day") == store.resolve("  BEACH DAY ") == a.id
    with pytest.raises(InvalidInputError, match="no album 'Beach'"):
        store.resolve("Beach")
    # Two names equal up to case (possible for automatic names): the exact one wins, any other case is ambiguous.
    with library.catalog.transaction() as db:
        db.execute("UPDATE albums SET name='beach day' WHERE id=?", (b.id,))
    assert store.resolve("Beach Day") == a.id and store.resolve("beach day") == b.id
    with pytest.raises(InvalidInputError, match="several albums"):
        store.resolve("BEACH DAY")


def test_retired_albums_are_not_found(clustered) -> None:
    store = clustered[0].albums
    a, b, _ = live(store)
    store.merge([b.id], a.id)
    with pytest.raises(InvalidInputError):
        store.resolve(b.id)
    with pytest.raises(InvalidInputError):
        store.resolve(b.name)


# -- the cover ---------------------------------------------------------------------------------------


def test_the_cover_is_always_one_of_the_album_photos(clustered) -> None:
    store = clustered[0].albums
    a, b, _ = live(store)
    store.move([a.cover], b.id)
    assert by_id(store)[a.id].cover in by_id(store)[a.id].members


# -- undo after a re-cluster --------------------------------------------------------------------------


def test_a_renamed_album_is_the_users_a_recluster_never_retires_or_empties_it(clustered) -> None:
    library, _ = clustered
    store = library.albums
    smallest = live(store)[-1]
    store.rename(smallest.id, "Kept")
    before = store.albums()
    library.recluster(k=1)  # one cluster: every machine album but the one it matches goes
    kept = by_id(store)[smallest.id]
    assert kept.name == "Kept" and sorted(kept.members) == sorted(smallest.members)
    assert store.undo() == "Re-cluster into 1 albums"  # the re-cluster, not the rename
    assert store.albums() == before


def test_undo_after_a_recluster_keeps_names_distinct(clustered) -> None:
    library, _ = clustered
    store = library.albums
    a, b, _ = live(store)
    old = a.name
    store.rename(a.id, "Mine")
    # A naming pass gives the freed name to another album.
    with library.catalog.transaction() as db:
        db.execute("UPDATE albums SET name=? WHERE id=?", (old, b.id))
    store.undo()
    names = [x.name.casefold() for x in live(store)]
    assert len(set(names)) == len(names)
    assert by_id(store)[b.id].name == old, "the other album keeps the name it was given"
    assert by_id(store)[a.id].name == f"{old} (2)" and not by_id(store)[a.id].user_named


def test_undoing_a_pin_keeps_the_name_a_recluster_gave(clustered) -> None:
    library, _ = clustered
    store = library.albums
    album = live(store)[0]
    store.pin(album.id)
    with library.catalog.transaction() as db:
        db.execute("UPDATE albums SET name='Improved' WHERE id=?", (album.id,))
    store.undo()
    assert by_id(store)[album.id].name == "Improved" and not by_id(store)[album.id].pinned


def test_undoing_a_move_returns_photos_to_an_album_a_recluster_retired(clustered) -> None:
    library, _ = clustered
    store = library.albums
    a = live(store)[0]
    chosen = a.members[:2]
    new_id = store.split(chosen, "Picked")
    store.move(chosen, a.id)  # the user emptied the album they made
    library.recluster(k=3)
    assert by_id(store)[new_id].members == [], "the user's album is kept, empty, until the user deletes it"
    store.undo()  # the re-cluster
    store.undo()  # the move
    album = by_id(store).get(new_id)
    assert album is not None and sorted(album.members) == sorted(chosen) and album.name == "Picked"


def test_a_merged_album_stays_together_through_reclusters(clustered) -> None:
    library, _ = clustered
    store = library.albums
    a, b, _ = live(store)
    store.merge([b.id], a.id)
    for k in (3, 4, 2, 3):
        library.recluster(k=k)  # three blobs: the machine would split the merged album again
        albums = by_id(store)
        assert set(a.members + b.members) <= set(albums[a.id].members)
        assert b.id not in albums


def test_renaming_never_touches_a_pinned_albums_name(clustered) -> None:
    from engine.naming.vocabulary import VocabularyChoice

    library, _ = clustered
    store = library.albums
    pinned, other, _ = live(store)
    store.pin(pinned.id)
    before = {a.id: a.name for a in live(store)}
    library.set_vocabulary(VocabularyChoice(replacement=("zebra crossing", "lighthouse", "violin", "teapot")))
    library.name()
    after = {a.id: a.name for a in live(store)}
    assert after[pinned.id] == before[pinned.id]
    assert after[other.id] != before[other.id], "unpinned albums are re-named from the new vocabulary"
