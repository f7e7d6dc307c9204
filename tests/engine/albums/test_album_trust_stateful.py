"""Album trust as a state machine: any sequence of user actions, new and deleted photos, re-clusters (auto,
fewer, more, a given k), refinements, namings, crashes inside a re-cluster, undos and redos keeps the rule.

The rule (issue 15, docs/algorithms.md §8):
- an album the user named, merged into, created (split) or pinned is the user's: the machine never takes a
  photo out of it, never retires it and never renames it (it may add photos to it);
- a photo the user placed stays where the user put it;
- every photo is in exactly one album or in Other;
- `undo` returns to the state before the latest action, whatever its kind, and says which action it undid;
  `redo` returns to the state after it; a failed or crashed re-cluster changes nothing and records nothing.

The library is a catalog of fake photos (Gaussian blobs, no image files) clustered by the fast k-means
stand-in for CPPClusterer (tests/engine/albums/test_album_properties.py). Hypothesis draws the sequences
from a fixed seed (`derandomize`), so a failure reproduces and shrinks to a short list of steps.
"""

from __future__ import annotations

import itertools
import random
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

import engine.albums.recluster
import engine.cluster
import engine.naming.album_names
from engine.errors import InvalidInputError
from engine.library import Library
from tests.engine.albums.test_album_properties import (
    FAKE_K_GRID,
    VOCABULARY,
    FakeClusterer,
    FakePhotos,
    album_of,
    fake_photos,
    use_fake_clusterer,
)
from tests.engine.albums.test_recluster_crash import FailingConnection

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("one_torch_thread")]

BLOBS = 4
FIRST_PHOTOS = [i % BLOBS for i in range(36)] + [-1, -1]
FEWEST_PHOTOS = 24  # deleting stops here, so that every k of the grid stays possible
PICK = st.integers(0, 2**16)
# More albums than photos: refused, nothing changes. (A k within the stand-in's curve otherwise: one past it is
# fitted alone, without a curve to walk; see test_album_trust_regressions.py.)
IMPOSSIBLE_K = 1000
# Sized for about a minute on two shared cores: 50 libraries of up to 45 steps (about 2,000 steps in all).
EXAMPLES, STEPS = 50, 45


# -- the state an undo must restore ----------------------------------------------------------------


@dataclass(frozen=True)
class State:
    """What the user sees and what the machine decides from: live albums (id → name, pinned, user-named,
    the user's, members, cover), Other, placements (content hash → album, source) and the active clustering (k, each
    cluster's photos, the album each cluster feeds). Clusters' own names are left out: the user sees
    albums' names, which are in."""

    photos: dict[int, str]  # photo id → content hash
    albums: dict[int, tuple[str, bool, bool, bool, int | None]]
    members: dict[int | None, frozenset[int]]
    placements: dict[str, tuple[int | None, str]]
    k: int | None
    clusters: dict[int, frozenset[int]]
    feeds: dict[int, int]

    def seen_through(self, photo_ids: set[int], loose_covers: set[int]) -> tuple[object, ...]:
        """The state with only these photos: a deleted photo (or one added since) is not part of the
        comparison, nor is the cover of an album whose cover photo was deleted (another one stands in)."""
        hashes = {self.photos[p] for p in photo_ids if p in self.photos}
        albums = {a: (*flags, None if a in loose_covers else c) for a, (*flags, c) in self.albums.items()}
        members = {a: m & photo_ids for a, m in self.members.items()}
        members = {a: m for a, m in members.items() if a is not None or m}
        placements = {h: p for h, p in self.placements.items() if h in hashes}
        clusters = {c: m & photo_ids for c, m in self.clusters.items()}
        clusters = {c: m for c, m in clusters.items() if m}  # a cluster whose photos were all deleted is gone
        return albums, members, placements, self.k, clusters, self.feeds


def read_state(library: Library) -> State:
    photos = {row.id: row.hash for row in library.photos()}
    listing = library.albums.albums()
    albums = {a.id: (a.name, a.pinned, a.user_named, a.user_owned, a.cover) for a in listing if a.id is not None}
    members = {a.id: frozenset(a.members) for a in listing}
    rows = library.catalog.execute("SELECT hash, album_id, source FROM album_members").fetchall()
    placements = {h: (album, source) for h, album, source in rows}
    current = library.catalog.clusterings.current()
    # The clustering's "Other" is left out: new photos that wait in Other are recorded there as seen, which
    # is bookkeeping, not an action (they were and stay in Other).
    clusters = {c.id: frozenset(c.members) for c in library.clusters() if c.id is not None} if current else {}
    feeds = library.catalog.clusterings.album_of_cluster() if current else {}
    return State(photos, albums, members, placements, current.k if current else None, clusters, feeds)


def _views(a: State, b: State) -> tuple[tuple[object, ...], tuple[object, ...]]:
    common = set(a.photos) & set(b.photos)
    loose = {i for s in (a, b) for i, (*_, cover) in s.albums.items() if cover is not None and cover not in common}
    return a.seen_through(common, loose), b.seen_through(common, loose)


def same(a: State, b: State) -> bool:
    x, y = _views(a, b)
    return x == y


def difference(a: State, b: State) -> str:
    """What differs, for the assertion message."""
    out = []
    names = ("albums", "members", "placements", "k", "clusters", "cluster feeds")
    for name, x, y in zip(names, *_views(a, b), strict=True):
        if x == y:
            continue
        if isinstance(x, dict) and isinstance(y, dict):
            keys = sorted((k for k in set(x) | set(y) if x.get(k) != y.get(k)), key=str)[:6]
            out.append(f"{name}: " + "; ".join(f"{k}: {x.get(k)!r} ≠ {y.get(k)!r}" for k in keys))
        else:
            out.append(f"{name}: {x!r} ≠ {y!r}")
    return " | ".join(out)


# -- what the user decided, tracked apart from the engine --------------------------------------------


@dataclass
class Decisions:
    """The user's albums and placements, as the test knows them."""

    owned: set[int] = field(default_factory=set)  # named, merged into, created or pinned (sticky)
    placed: dict[str, int | None] = field(default_factory=dict)  # hash → album (None: Other), the user's
    pinned: set[int] = field(default_factory=set)
    # What each of the user's albums held and was called after the latest step: the machine may add to it,
    # never take away, never rename.
    held: dict[int, frozenset[str]] = field(default_factory=dict)
    names: dict[int, str] = field(default_factory=dict)

    def copy(self) -> Decisions:
        return Decisions(set(self.owned), dict(self.placed), set(self.pinned), dict(self.held), dict(self.names))


@dataclass
class Done:
    """An action in the test's own history: the engine's entry and the states either side of it."""

    entry_id: int
    kind: str
    description: str
    before: State
    before_decisions: Decisions
    after: State | None = None
    after_decisions: Decisions | None = None


def raise_injected(*args: object, **kwargs: object) -> None:
    raise RuntimeError("injected failure")


class ExplodingClusterer(FakeClusterer):
    def fit(self, X, progress=None):
        raise RuntimeError("injected failure")


# Points inside a re-cluster where an exception is injected (those the engine still has by that name).
CRASH_POINTS: list[tuple[object, str, object]] = [
    (engine.cluster, "CPPClusterer", ExplodingClusterer),
    (engine.albums.recluster, "_reuse_for_k", raise_injected),
    (engine.albums.recluster, "plan_reconcile", raise_injected),
    (engine.albums.recluster, "_final_placement", raise_injected),
    (engine.albums.recluster, "album_names", raise_injected),
    (engine.naming.album_names, "name_clusters", raise_injected),
    (engine.albums.recluster, "serialise_estimator", raise_injected),
    (engine.albums.recluster, "write_album_names", raise_injected),
    (engine.albums.recluster, "_refresh_covers", raise_injected),
    (engine.albums.recluster, "_store_clustering", raise_injected),
]
RECLUSTER_KINDS = ("auto", "fewer", "more", "k")


class AlbumTrust(RuleBasedStateMachine):
    """One fake-photo library per example; `run_machine` sets the folder and the model."""

    folder: Path
    model: dict[str, str]
    examples = itertools.count()
    refine_epochs = 2

    def __init__(self) -> None:
        super().__init__()
        self.library: Library | None = None

    @initialize(seed=st.integers(0, 3))
    def a_clustered_library(self, seed: int) -> None:
        self.library = Library(self.folder / f"example-{next(self.examples)}")
        self.library.set_model(self.model["name"], self.model["pretrained"], self.model["config"])
        self.photos: FakePhotos = fake_photos(self.library, seed=seed, blobs=BLOBS)
        self.photos.add(FIRST_PHOTOS)
        self.decisions = Decisions()
        self.done: list[Done] = []
        self.undone: list[Done] = []
        self.names_used = 0
        self.last_entry = self._newest_entry_id()
        self._machine_step(lambda: self.library.recluster(), "recluster")

    def teardown(self) -> None:
        if self.library is not None:
            self.library.close()

    # -- helpers -------------------------------------------------------------------------------------

    @property
    def store(self):
        return self.library.albums

    def live(self):
        return [a for a in self.store.albums() if a.id is not None]

    def photo_ids(self) -> list[int]:
        return sorted(self.photos.hash_of)

    def _newest_entry_id(self) -> int:
        entries = self.store.history(1)
        return entries[0].id if entries else 0

    def _entry(self, entry_id: int):
        return next(e for e in self.store.history(10**6) if e.id == entry_id)

    def _new_entries(self):
        """History entries recorded since the last step, oldest first."""
        entries = [e for e in self.store.history(50) if e.id > self.last_entry]
        if entries:
            self.last_entry = entries[0].id
        return entries[::-1]

    def _record(self, before: State, decisions: Decisions, kinds: set[str], optional: bool = False) -> bool:
        """The step recorded exactly one action of one of these kinds (or none, when optional)."""
        entries = self._new_entries()
        if not entries and optional:
            return False
        assert len(entries) == 1, f"one step recorded {[(e.kind, e.description) for e in entries]}"
        (entry,) = entries
        assert entry.kind in kinds and not entry.undone, f"recorded {entry.kind!r} ({entry.description})"
        self.done.append(Done(entry.id, entry.kind, entry.description, before, decisions))
        self.undone.clear()  # a new action clears the redo list
        return True

    def _nothing_recorded(self, before: State, what: str) -> None:
        assert not self._new_entries(), f"{what} recorded an action"
        after = read_state(self.library)
        assert same(before, after), f"{what} changed the albums: {difference(before, after)}"

    def _settle(self) -> None:
        """After a user step (or an undo/redo): what the user's albums hold and are called now."""
        listing = {a.id: a for a in self.live()}
        d = self.decisions
        for album_id in list(d.owned):
            if album_id not in listing:  # merged away or undone by the user
                d.owned.discard(album_id)
                d.held.pop(album_id, None)
                d.names.pop(album_id, None)
                continue
            d.held[album_id] = frozenset(self.photos.hash_of[p] for p in listing[album_id].members)
            d.names[album_id] = listing[album_id].name

    def _user_step(self, kind: str, act: Callable[[], object]) -> object:
        before, decisions = read_state(self.library), self.decisions.copy()
        result = act()
        self._record(before, decisions, {kind})
        return result

    def _machine_step(self, act: Callable[[], object], kind: str, optional: bool = False) -> object:
        """Run something the machine does; check it kept every user album and placement."""
        before, decisions = read_state(self.library), self.decisions.copy()
        result = act()
        self._machine_done(before, decisions, kind, optional)
        return result

    def _machine_done(self, before: State, decisions: Decisions, kind: str, optional: bool = False) -> None:
        if not self._record(before, decisions, {kind}, optional=optional):
            # Nothing recorded, so nothing an undo would have to take back: nothing changed (photos added
            # meanwhile wait in Other).
            after = read_state(self.library)
            assert same(before, after), f"{kind} changed the albums unrecorded: {difference(before, after)}"
            added = set(after.photos) - set(before.photos)
            assert added <= after.members.get(None, frozenset()), f"{kind} placed new photos unrecorded"
        self._check_machine_kept(decisions)

    def _check_machine_kept(self, decisions: Decisions) -> None:
        listing = {a.id: a for a in self.live()}
        existing = set(self.photos.hash_of.values())
        for album_id, held in decisions.held.items():
            # Never retired, even when the user emptied it or its files were deleted.
            assert album_id in listing, f"the machine retired the user's album {album_id} ({decisions.names[album_id]})"
            album = listing[album_id]
            still = held & existing
            assert album.name == decisions.names[album_id], (
                f"the machine renamed the user's album {album_id}: {decisions.names[album_id]!r} → {album.name!r}"
            )
            now = {self.photos.hash_of[p] for p in album.members}
            lost = sorted(still - now)
            assert not lost, f"the machine took {len(lost)} photo(s) out of the user's album {album.name!r}"
        self._settle()

    def _fresh_name(self, rng: random.Random | None = None) -> str:
        """A new name of the user's; sometimes a word of the vocabulary, which the machine could also pick."""
        if rng is not None and rng.random() < 0.3:
            taken = {a.name.casefold() for a in self.live()}
            words = [w.capitalize() for w in VOCABULARY if w.casefold() not in taken]
            if words:
                return rng.choice(words)
        self.names_used += 1
        return f"Trip {self.names_used}"

    # -- user actions --------------------------------------------------------------------------------

    @rule(pick=PICK)
    def rename(self, pick: int) -> None:
        rng, live = random.Random(pick), self.live()
        if not live:
            return
        album = rng.choice(live)
        name = self._fresh_name(rng)
        self._user_step("rename", lambda: self.store.rename(album.id, name))
        self.decisions.owned.add(album.id)
        self._settle()
        assert self.decisions.names[album.id] == name

    @rule(pick=PICK)
    def merge(self, pick: int) -> None:
        rng, live = random.Random(pick), self.live()
        if len(live) < 2:
            return
        chosen = rng.sample(live, rng.randint(2, min(3, len(live))))
        target, sources = chosen[0], chosen[1:]
        self._user_step("merge", lambda: self.store.merge([a.id for a in sources], target.id))
        d = self.decisions
        for album in chosen:
            d.placed.update(dict.fromkeys((self.photos.hash_of[p] for p in album.members), target.id))
        for album in sources:
            d.pinned.discard(album.id)
        d.owned.add(target.id)
        live_ids = {a.id for a in self.live()}
        assert target.id in live_ids and not live_ids & {a.id for a in sources}
        self._settle()

    @rule(pick=PICK)
    def move(self, pick: int) -> None:
        rng, live = random.Random(pick), self.live()
        if not live:
            return
        album = rng.choice(live)
        moved = rng.sample(self.photo_ids(), rng.randint(1, 3))
        self._user_step("move", lambda: self.store.move(moved, album.id))
        self.decisions.placed.update({self.photos.hash_of[p]: album.id for p in moved})
        self._settle()

    @rule(pick=PICK)
    def remove(self, pick: int) -> None:
        rng = random.Random(pick)
        removed = rng.sample(self.photo_ids(), rng.randint(1, 3))
        self._user_step("remove", lambda: self.store.remove(removed))
        self.decisions.placed.update(dict.fromkeys((self.photos.hash_of[p] for p in removed), None))
        self._settle()

    @rule(pick=PICK, named=st.booleans())
    def split(self, pick: int, named: bool) -> None:
        rng = random.Random(pick)
        chosen = rng.sample(self.photo_ids(), rng.randint(1, 4))
        name = self._fresh_name(rng) if named else None
        album_id = self._user_step("split", lambda: self.store.split(chosen, name))
        assert isinstance(album_id, int)
        self.decisions.placed.update(dict.fromkeys((self.photos.hash_of[p] for p in chosen), album_id))
        self.decisions.owned.add(album_id)
        self._settle()

    @rule(pick=PICK)
    def pin(self, pick: int) -> None:
        live = self.live()
        if not live:
            return
        album = random.Random(pick).choice(live)
        self._user_step("pin", lambda: self.store.pin(album.id, not album.pinned))
        d = self.decisions
        if album.pinned:
            d.pinned.discard(album.id)
        else:
            d.pinned.add(album.id)
        d.owned.add(album.id)  # sticky: unpinning does not hand it back to the machine
        self._settle()

    @rule(pick=PICK)
    def cover(self, pick: int) -> None:
        rng = random.Random(pick)
        albums = [a for a in self.live() if a.members]
        if not albums:
            return
        album = rng.choice(albums)
        photo_id = rng.choice(album.members)
        self._user_step("cover", lambda: self.store.set_cover(album.id, photo_id))
        assert next(a for a in self.live() if a.id == album.id).cover == photo_id
        self._settle()

    # -- photos come and go ----------------------------------------------------------------------------

    @rule(pick=PICK)
    def add_photos(self, pick: int) -> None:
        """New photos are indexed (rows and embeddings), then placed without a re-cluster: an "import"."""
        rng = random.Random(pick)
        blobs = [rng.randrange(BLOBS) for _ in range(rng.randint(1, 5))] + [-1] * rng.randint(0, 1)
        before, decisions = read_state(self.library), self.decisions.copy()
        self.photos.add(blobs)
        self.library.assign_new_photos()
        self._machine_done(before, decisions, "import", optional=True)

    @precondition(lambda self: len(self.photos.hash_of) > FEWEST_PHOTOS)
    @rule(pick=PICK)
    def delete_photos(self, pick: int) -> None:
        """Files vanished from disk: the indexer deletes their photo rows (not an action of the user's)."""
        rng = random.Random(pick)
        gone = rng.sample(self.photo_ids(), rng.randint(1, 3))
        before = read_state(self.library)
        with self.library.catalog.transaction():
            self.library.catalog.delete_photos(gone)
        for photo_id in gone:
            hash_ = self.photos.hash_of.pop(photo_id)
            self.decisions.placed.pop(hash_, None)
        assert not self._new_entries(), "deleting photos recorded an action"
        after = read_state(self.library)
        assert same(before, after), f"deleting photos changed the rest: {difference(before, after)}"
        self._settle()

    # -- the machine -----------------------------------------------------------------------------------

    @rule(how=st.sampled_from(RECLUSTER_KINDS), k=st.sampled_from([*FAKE_K_GRID, IMPOSSIBLE_K]))
    def recluster(self, how: str, k: int) -> None:
        kwargs: dict[str, object] = {"k": k} if how == "k" else {how: True} if how != "auto" else {}
        current = self.library.catalog.clusterings.current()
        before = read_state(self.library)
        try:
            summary = self._machine_step(lambda: self.library.recluster(**kwargs), "recluster")
        except InvalidInputError as exc:
            self._nothing_recorded(before, f"a refused re-cluster ({exc})")
            # Fewer and more work from any state: only at the ends of the range (or before any clustering)
            # is there nothing to try.
            assert how != "k" or k == IMPOSSIBLE_K, f"k={k}: {exc}"
            if current is not None and how == "more":
                assert current.k >= max(FAKE_K_GRID), f"--more from k={current.k}: {exc}"
            elif current is not None and how == "fewer":
                assert current.k <= min(FAKE_K_GRID), f"--fewer from k={current.k}: {exc}"
            return
        if how == "more" and current is not None:
            assert summary.k > current.k, f"--more went from {current.k} to {summary.k}"
        elif how == "fewer" and current is not None:
            assert summary.k < current.k, f"--fewer went from {current.k} to {summary.k}"
        elif how == "k":
            assert summary.k == k

    @rule(pick=PICK, how=st.sampled_from(RECLUSTER_KINDS))
    def crash_inside_recluster(self, pick: int, how: str) -> None:
        """An exception at a random point of a re-cluster (a named step, or the n-th statement of its
        transaction, as a full disk would) changes nothing and records nothing."""
        rng = random.Random(pick)
        kwargs: dict[str, object] = {"more": True} if how == "more" else {"fewer": True} if how == "fewer" else {}
        before, decisions = read_state(self.library), self.decisions.copy()
        points = [(m, n, r) for m, n, r in CRASH_POINTS if hasattr(m, n)]
        catalog = self.library.catalog
        real = catalog._db
        with pytest.MonkeyPatch.context() as patch:
            if rng.random() < 0.5:
                module, name, replacement = rng.choice(points)
                patch.setattr(module, name, replacement)
            else:
                error = sqlite3.OperationalError("database or disk is full")
                catalog._db = FailingConnection(real, rng.randint(1, 40), error)
            try:
                self.library.recluster(**kwargs)
            except (RuntimeError, sqlite3.OperationalError, InvalidInputError):
                pass
            finally:
                catalog._db = real
        # Either nothing happened, or (a failure after the commit) the whole re-cluster, as one action.
        self._machine_done(before, decisions, "recluster", optional=True)

    @rule()
    def refine(self) -> None:
        before = read_state(self.library)
        try:
            self._machine_step(lambda: self.library.refine(epochs=self.refine_epochs), "refine")
        except InvalidInputError as exc:  # fewer than two albums
            self._nothing_recorded(before, f"a refused refine ({exc})")

    @rule()
    def name(self) -> None:
        before = read_state(self.library)
        try:
            self._machine_step(lambda: self.library.name(), "name", optional=True)
        except InvalidInputError as exc:  # nothing clustered
            self._nothing_recorded(before, f"a refused naming ({exc})")

    # -- undo and redo -------------------------------------------------------------------------------

    @rule()
    def undo(self) -> None:
        before = read_state(self.library)
        decisions = self.decisions.copy()
        try:
            description = self.store.undo()
        except InvalidInputError:  # an action that can no longer be undone: says so, changes nothing
            self._nothing_recorded(before, "a refused undo")
            assert self.done, "undo refused with nothing to undo"
            return
        assert not self._new_entries(), "undo recorded an action"
        if not self.done:
            assert description is None, f"undid {description!r} with nothing to undo"
            assert same(before, read_state(self.library))
            return
        action = self.done.pop()
        assert description == action.description, f"undid {description!r}, the latest was {action.description!r}"
        entry = self._entry(action.entry_id)
        assert entry.undone
        now = read_state(self.library)
        assert same(action.before, now), f"undo of {action.kind!r} left: {difference(action.before, now)}"
        newer = set(now.photos) - set(action.before.photos)
        assert newer <= now.members.get(None, frozenset()), f"undo of {action.kind!r} left newer photos in albums"
        self._restore(action.before_decisions)
        action.after, action.after_decisions = before, decisions
        self.undone.append(action)

    @rule()
    def redo(self) -> None:
        before = read_state(self.library)
        description = self.store.redo()
        assert not self._new_entries(), "redo recorded an action"
        if not self.undone:
            assert description is None, f"redid {description!r} with nothing to redo"
            assert same(before, read_state(self.library))
            return
        action = self.undone.pop()
        assert description == action.description, f"redid {description!r}, the latest undone was {action.description!r}"
        now = read_state(self.library)
        assert action.after is not None and action.after_decisions is not None
        assert same(action.after, now), f"redo of {action.kind!r} left: {difference(action.after, now)}"
        newer = set(now.photos) - set(action.after.photos)
        assert newer <= now.members.get(None, frozenset()), f"redo of {action.kind!r} put newer photos in albums"
        entry = self._entry(action.entry_id)
        assert not entry.undone
        self._restore(action.after_decisions)
        self.done.append(action)

    @rule(times=st.integers(2, 12))
    def undo_several(self, times: int) -> None:
        """Far back through the history (past several re-clusters), checking every step."""
        for _ in range(times):
            self.undo()

    @rule(times=st.integers(2, 12))
    def redo_several(self, times: int) -> None:
        for _ in range(times):
            self.redo()

    def _restore(self, decisions: Decisions) -> None:
        """Back to what the user had decided then, less the photos deleted since."""
        self.decisions = decisions.copy()
        existing = set(self.photos.hash_of.values())
        self.decisions.placed = {h: a for h, a in self.decisions.placed.items() if h in existing}
        self._settle()

    # -- after every step ------------------------------------------------------------------------------

    @invariant()
    def every_photo_is_in_one_place(self) -> None:
        albums = self.store.albums()
        where = album_of(albums)  # asserts no photo is listed twice
        assert set(where) == set(self.photos.hash_of), "every photo is in one album or in Other"
        names = [a.name.casefold() for a in albums if a.id is not None]
        assert len(set(names)) == len(names), f"two albums share a name: {sorted(names)}"
        for album in albums:
            if album.id is not None:
                assert (album.cover in album.members) if album.members else album.cover is None

    @invariant()
    def the_users_decisions_stand(self) -> None:
        albums = self.store.albums()
        where = album_of(albums)
        live = {a.id: a for a in albums if a.id is not None}
        d = self.decisions
        for photo_id, hash_ in self.photos.hash_of.items():
            if hash_ in d.placed:
                assert where[photo_id] == d.placed[hash_], f"photo {photo_id} left where the user put it"
        for album_id, album in live.items():
            assert album.pinned == (album_id in d.pinned), f"album {album_id} pinned={album.pinned}"
            assert album.user_owned == (album_id in d.owned), f"album {album_id} user_owned={album.user_owned}"


def run_machine(folder: Path, model: dict[str, str], examples: int, steps: int) -> None:
    AlbumTrust.folder, AlbumTrust.model = folder, model
    run_state_machine_as_test(
        AlbumTrust,
        settings=settings(
            derandomize=True,
            database=None,
            max_examples=examples,
            stateful_step_count=steps,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
            print_blob=False,
            # On a failure: shrink the first one found to a short list of steps, without the memory-hungry
            # explain phase.
            report_multiple_bugs=False,
            phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
        ),
    )


def test_album_trust_state_machine(tmp_path: Path, tiny_model: dict[str, str], monkeypatch) -> None:
    use_fake_clusterer(monkeypatch)
    run_machine(tmp_path, tiny_model, examples=EXAMPLES, steps=STEPS)
