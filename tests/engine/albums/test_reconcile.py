"""`plan_reconcile`: every rule of re-clustering with memory, on plain data (no model, no catalog)."""

from __future__ import annotations

from engine.albums.reconcile import AlbumState, plan_reconcile


def hashes(prefix: str, n: int) -> list[str]:
    return [f"{prefix}{i}" for i in range(n)]


def auto(album: int | None, photos: list[str]) -> dict[str, tuple[int | None, str]]:
    return {h: (album, "auto") for h in photos}


def user(album: int | None, photos: list[str]) -> dict[str, tuple[int | None, str]]:
    return {h: (album, "user") for h in photos}


def labelled(label: int, photos: list[str]) -> dict[str, int]:
    return dict.fromkeys(photos, label)


def test_unchanged_clusters_keep_their_albums() -> None:
    a, b = hashes("a", 5), hashes("b", 4)
    plan = plan_reconcile(
        {**labelled(0, b), **labelled(1, a)}, {**auto(1, a), **auto(2, b)}, {1: AlbumState(), 2: AlbumState()}
    )
    assert plan.cluster_album == {0: 2, 1: 1}
    assert plan.placements == {**dict.fromkeys(a, 1), **dict.fromkeys(b, 2)}
    assert plan.retire == [] and plan.new_albums == []


def test_user_placements_are_never_planned() -> None:
    a, b = hashes("a", 6), hashes("b", 6)
    moved, removed = a[0], a[1]
    members = {**auto(1, a), **auto(2, b), **user(2, [moved]), **user(None, [removed])}
    # The machine would put every photo of `a` together in album 1.
    plan = plan_reconcile({**labelled(0, a), **labelled(1, b)}, members, {1: AlbumState(), 2: AlbumState()})
    assert moved not in plan.placements and removed not in plan.placements
    assert plan.cluster_album == {0: 1, 1: 2}
    assert all(plan.placements[h] == 1 for h in a[2:])


def test_pinned_albums_are_untouched() -> None:
    a, b = hashes("a", 5), hashes("b", 5)
    members = {**auto(1, a), **auto(2, b)}
    albums = {1: AlbumState(pinned=True), 2: AlbumState()}
    # One big cluster holding both albums: album 1 is pinned, so only album 2 can take it.
    plan = plan_reconcile(labelled(0, a + b), members, albums)
    assert not set(a) & set(plan.placements), "a pinned album's photos stay"
    assert plan.cluster_album == {0: 2}
    assert 1 not in plan.retire and 1 not in plan.cluster_album.values()


def test_pinned_album_is_kept_even_when_empty() -> None:
    b = hashes("b", 4)
    plan = plan_reconcile(labelled(0, b), auto(2, b), {1: AlbumState(pinned=True), 2: AlbumState()})
    assert plan.retire == []


def test_pinned_album_gets_no_new_photos() -> None:
    a, new = hashes("a", 5), hashes("n", 3)
    plan = plan_reconcile(labelled(0, a + new), auto(1, a), {1: AlbumState(pinned=True)})
    assert plan.cluster_album == {0: ("new", 0)} and plan.new_albums == [("new", 0)]
    assert plan.placements == dict.fromkeys(new, ("new", 0))


def test_matching_is_optimal_where_greedy_is_wrong() -> None:
    """Album 1 holds 10 photos of cluster 0 and 8 of cluster 1; album 2 holds 9 of cluster 0.

    Greedy (largest overlap first) gives cluster 0 to album 1 and leaves cluster 1 without an album (so it
    becomes a new one, and album 2 is retired): 10 photos keep their album. The optimal assignment gives
    cluster 0 to album 2 and cluster 1 to album 1: 17 photos keep their album and no album is lost.
    """
    c0_in_1, c1_in_1, c0_in_2, c1_new = hashes("x", 10), hashes("y", 8), hashes("z", 9), hashes("n", 2)
    members = {**auto(1, c0_in_1 + c1_in_1), **auto(2, c0_in_2)}
    labels = {**labelled(0, c0_in_1 + c0_in_2), **labelled(1, c1_in_1 + c1_new)}
    plan = plan_reconcile(labels, members, {1: AlbumState(), 2: AlbumState()})
    assert plan.cluster_album == {0: 2, 1: 1}
    assert plan.new_albums == [] and plan.retire == []
    kept = sum(plan.placements[h] == album for h, (album, _) in members.items())
    assert kept == 17


def test_a_match_needs_a_real_share() -> None:
    """Two photos of a 20-photo album in a 20-photo cluster are no reason to keep the album's identity."""
    a, b = hashes("a", 20), hashes("b", 18)
    plan = plan_reconcile(labelled(0, a[:2] + b), auto(1, a), {1: AlbumState()})
    assert plan.cluster_album == {0: ("new", 0)}


def test_unmatched_cluster_mostly_inside_a_merged_album_joins_it() -> None:
    # Album 1 was merged by the user from two albums (its photos are the user's placement); a re-cluster
    # finds the two parts again, plus new photos like the second part.
    first, second, new = hashes("f", 8), hashes("s", 6), hashes("n", 2)
    members = user(1, first + second)
    labels = {**labelled(0, first), **labelled(1, second + new)}
    plan = plan_reconcile(labels, members, {1: AlbumState(merged=True)})
    assert plan.cluster_album == {0: 1, 1: 1}
    assert plan.placements == dict.fromkeys(new, 1)
    assert plan.new_albums == [] and plan.retire == []


def test_unmatched_cluster_inside_an_unmerged_album_becomes_a_new_album() -> None:
    first, second, new = hashes("f", 8), hashes("s", 6), hashes("n", 2)
    plan = plan_reconcile(
        {**labelled(0, first), **labelled(1, second + new)}, user(1, first + second), {1: AlbumState()}
    )
    assert plan.cluster_album == {0: 1, 1: ("new", 1)}
    assert plan.placements == dict.fromkeys(new, ("new", 1))
    assert plan.new_albums == [("new", 1)]


def test_pinned_merged_album_takes_no_cluster() -> None:
    first, new = hashes("f", 8), hashes("n", 2)
    plan = plan_reconcile(labelled(0, first + new), user(1, first), {1: AlbumState(pinned=True, merged=True)})
    assert plan.cluster_album == {0: ("new", 0)}


def test_new_clusters_become_new_albums() -> None:
    a, fresh, fresh2 = hashes("a", 5), hashes("n", 4), hashes("m", 3)
    plan = plan_reconcile(
        {**labelled(0, a), **labelled(1, fresh), **labelled(2, fresh2)}, auto(1, a), {1: AlbumState()}
    )
    assert plan.cluster_album == {0: 1, 1: ("new", 1), 2: ("new", 2)}
    assert plan.new_albums == [("new", 1), ("new", 2)]
    assert plan.placements == {
        **dict.fromkeys(a, 1),
        **dict.fromkeys(fresh, ("new", 1)),
        **dict.fromkeys(fresh2, ("new", 2)),
    }


def test_no_new_album_for_a_cluster_of_fixed_photos_only() -> None:
    a, b = hashes("a", 6), hashes("b", 3)
    # Cluster 1 holds only photos the user put into album 1.
    plan = plan_reconcile({**labelled(0, a), **labelled(1, b)}, {**auto(1, a), **user(1, b)}, {1: AlbumState()})
    assert plan.new_albums == []
    assert not set(b) & set(plan.placements)


def test_emptied_albums_are_retired() -> None:
    a, b = hashes("a", 6), hashes("b", 3)
    plan = plan_reconcile(labelled(0, a + b), {**auto(1, a), **auto(2, b)}, {1: AlbumState(), 2: AlbumState()})
    assert plan.cluster_album == {0: 1}
    assert plan.retire == [2]
    assert plan.placements == dict.fromkeys(a + b, 1)


def test_album_with_only_user_photos_is_kept() -> None:
    a, mine = hashes("a", 6), hashes("u", 2)
    members = {**auto(1, a), **user(2, mine)}
    # The user's photos look like album 1's: the machine would move them, but they are the user's.
    plan = plan_reconcile(labelled(0, a + mine), members, {1: AlbumState(), 2: AlbumState()})
    assert plan.retire == []
    assert not set(mine) & set(plan.placements)


def test_album_that_loses_its_automatic_photos_but_has_user_photos_is_kept() -> None:
    a, b, mine = hashes("a", 6), hashes("b", 6), hashes("u", 1)
    members = {**auto(1, a), **auto(2, b), **user(2, mine)}
    plan = plan_reconcile(labelled(0, a + b + mine), members, {1: AlbumState(), 2: AlbumState()})
    assert 2 not in plan.retire
    assert all(plan.placements[h] == plan.cluster_album[0] for h in a + b)


def test_other_and_unclustered_photos() -> None:
    a, outliers, unembedded = hashes("a", 6), hashes("o", 2), hashes("e", 2)
    members = {**auto(1, a + outliers), **auto(2, unembedded)}
    plan = plan_reconcile({**labelled(0, a), **labelled(-1, outliers)}, members, {1: AlbumState(), 2: AlbumState()})
    assert all(plan.placements[h] is None for h in outliers), "poor fits go to Other"
    assert not set(unembedded) & set(plan.placements), "photos not clustered this time keep their album"
    assert plan.retire == [], "album 2 still holds its photos that were not clustered"
    assert -1 not in plan.cluster_album


def test_first_clustering_makes_every_album() -> None:
    a, b = hashes("a", 4), hashes("b", 4)
    plan = plan_reconcile({**labelled(0, a), **labelled(1, b)}, {}, {})
    assert plan.new_albums == [("new", 0), ("new", 1)]
    assert plan.retire == []
    assert plan.placements == {**dict.fromkeys(a, ("new", 0)), **dict.fromkeys(b, ("new", 1))}


def test_every_clustered_photo_is_placed_once() -> None:
    import random

    rng = random.Random(7)
    photos = hashes("p", 200)
    labels = {h: rng.randrange(-1, 6) for h in photos}
    albums = {a: AlbumState(pinned=a == 3, merged=a == 4) for a in range(1, 8)}
    members = {h: (rng.choice([None, *albums]), rng.choice(["auto", "auto", "user"])) for h in photos[:150]}
    plan = plan_reconcile(labels, members, albums)
    # A user's album (here pinned 3 and merged-into 4) keeps every photo it holds.
    fixed = {h for h, (a, s) in members.items() if s == "user" or (a is not None and albums[a].is_users)}
    assert set(plan.placements) == set(labels) - fixed
    targets = set(plan.placements.values()) - {None}
    assert not targets & set(plan.retire), "nothing is placed into an album being retired"
    assert 3 not in targets and 3 not in plan.retire and 4 not in plan.retire
    assert {t for t in targets if isinstance(t, tuple)} <= set(plan.new_albums)


def test_unmatched_cluster_mostly_inside_a_user_named_album_joins_it() -> None:
    first, second = hashes("f", 8), hashes("s", 6)
    members = auto(1, first + second)
    labels = {**labelled(0, first), **labelled(1, second)}
    named = plan_reconcile(labels, members, {1: AlbumState(user_named=True)})
    assert named.cluster_album == {0: 1, 1: 1} and named.new_albums == []
    unnamed = plan_reconcile(labels, members, {1: AlbumState()})
    assert unnamed.cluster_album == {0: 1, 1: ("new", 1)}
