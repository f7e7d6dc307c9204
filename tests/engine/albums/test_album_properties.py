"""Property tests: random sequences of user actions, new photos and re-clusters never lose a user decision.

The catalogs are built without images: photo rows and embeddings drawn from a few Gaussian blobs on the
sphere go straight into the catalog. Clustering is a small k-means stand-in for `CPPClusterer` (the
properties are about what re-clustering keeps, not about clustering quality); one test uses the real one.
The helpers here are shared with the other album tests.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import engine.cluster
from engine.albums.store import Album
from engine.catalog import PhotoMeta
from engine.errors import InvalidInputError
from engine.naming.vocabulary import VocabularyChoice
from engine.progress import ProgressReporter, check_cancelled, ensure_progress

DIM = 32  # the tiny test model's embedding size
VOCABULARY = ("beach", "mountain", "city street", "forest", "snow", "birthday party", "food", "cat", "sunset", "car")
# A photo less similar than this to its cluster's centre fits no cluster ("Other").
OTHER_COSINE = 0.35
FAKE_K_GRID = (2, 3, 4, 5, 6)


# -- a fast stand-in for CPPClusterer -------------------------------------------------------------


class FakeClusterer:
    """k-means on unit vectors with the attributes and methods `CPPClusterer` offers the engine.

    Fits every k of a small grid (or the requested one) so that "more / fewer albums" can switch k without
    refitting, like the real estimator; stored as arrays and JSON by `use_fake_clusterer`.
    """

    def __init__(self, n_clusters: int | None = None, random_state: int | None = 0, device: str = "cpu", **_: object):
        self.n_clusters = n_clusters
        self.random_state = random_state
        self.device = device

    def fit(self, X: np.ndarray, progress: ProgressReporter | None = None) -> FakeClusterer:
        from sklearn.cluster import KMeans

        progress = ensure_progress(progress)
        x = _unit(np.asarray(X, dtype=np.float32))
        distinct = len(np.unique(x.round(6), axis=0))
        grid = [self.n_clusters] if self.n_clusters is not None else [k for k in FAKE_K_GRID if k <= distinct]
        progress.phase("fake clustering", len(grid))
        self._x = x
        self._centres: dict[int, np.ndarray] = {}
        self._labels: dict[int, np.ndarray] = {}
        self.coding_lengths_: dict[int, float] = {}
        for k in grid:
            fit = KMeans(k, n_init=2, random_state=self.random_state).fit(x)
            centres = _unit(fit.cluster_centers_.astype(np.float32))
            self._centres[k] = centres
            self._labels[k] = self._assign(x, centres)[0]
            # A description-length-like score: fit error plus a price per cluster.
            self.coding_lengths_[k] = float(len(x) * np.log(fit.inertia_ / len(x) + 1e-6) + 4.0 * k * np.log(len(x)))
            progress.advance()
            check_cancelled(progress)
        self.n_clusters_ = self.n_clusters or min(self.coding_lengths_, key=self.coding_lengths_.__getitem__)
        self.labels_ = self._labels[self.n_clusters_].copy()
        return self

    @staticmethod
    def _assign(x: np.ndarray, centres: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        similarity = x @ centres.T
        labels = similarity.argmax(axis=1)
        score = similarity.max(axis=1)
        return np.where(score >= OTHER_COSINE, labels, -1).astype(np.int64), np.clip(score, 0.0, 1.0)

    def labels_for(self, k: int) -> np.ndarray:
        if k not in self._labels:
            raise InvalidInputError(f"k={k} was not fitted")
        return self._labels[k].copy()

    def use_k(self, k: int) -> np.ndarray:
        self.labels_ = self.labels_for(k)
        self.n_clusters_ = int(k)
        return self.labels_.copy()

    def predict_with_confidence(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self._assign(_unit(np.asarray(X, dtype=np.float32)), self._centres[self.n_clusters_])

    def training_confidence(self) -> np.ndarray:
        return self._assign(self._x, self._centres[self.n_clusters_])[1]


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def use_fake_clusterer(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the re-cluster flow (which imports `engine.cluster.CPPClusterer` when it runs) use FakeClusterer,
    stored in the catalog as arrays and JSON like the real estimators."""
    import engine.cluster.persist as persist

    monkeypatch.setattr(engine.cluster, "CPPClusterer", FakeClusterer)
    monkeypatch.setattr(persist, "dump_estimator", _fake_dump(persist.dump_estimator))
    monkeypatch.setattr(persist, "load_estimator", _fake_load(persist.load_estimator))


def _fake_dump(real: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def dump(estimator: Any) -> Any:
        if not isinstance(estimator, FakeClusterer):
            return real(estimator)
        from safetensors.numpy import save

        from engine.cluster.persist import StoredEstimator

        arrays = {"x": estimator._x, "labels": estimator.labels_}
        for k in estimator._centres:
            arrays[f"centres.{k}"] = estimator._centres[k]
            arrays[f"labels.{k}"] = estimator._labels[k]
        description = {
            "class": "FakeClusterer",
            "params": [estimator.n_clusters, estimator.random_state],
            "n_clusters_": int(estimator.n_clusters_),
            "coding_lengths": {str(k): v for k, v in estimator.coding_lengths_.items()},
            "ks": [int(k) for k in estimator._centres],
        }
        return StoredEstimator(save({k: np.ascontiguousarray(v) for k, v in arrays.items()}), json.dumps(description))

    return dump


def _fake_load(real: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def load(stored: Any) -> Any:
        description = json.loads(stored.description)
        if description.get("class") != "FakeClusterer":
            return real(stored)
        from safetensors.numpy import load as load_arrays

        arrays = load_arrays(stored.tensors)
        fake = FakeClusterer(*description["params"])
        fake._x = arrays["x"]
        fake._centres = {k: arrays[f"centres.{k}"] for k in description["ks"]}
        fake._labels = {k: arrays[f"labels.{k}"] for k in description["ks"]}
        fake.coding_lengths_ = {int(k): v for k, v in description["coding_lengths"].items()}
        fake.n_clusters_ = description["n_clusters_"]
        fake.labels_ = arrays["labels"]
        return fake

    return load


# -- catalogs of fake photos ----------------------------------------------------------------------


@dataclass
class FakePhotos:
    """Writes photo rows and embeddings into a library's catalog, no image files needed."""

    library: object
    model_id: int
    root: Path
    rng: np.random.Generator
    centres: np.ndarray
    count: int = 0
    hash_of: dict[int, str] = field(default_factory=dict)  # photo id → content hash

    def add(self, blobs: Sequence[int], sigma: float = 0.12, files: bool = False) -> list[int]:
        """One photo per entry of `blobs`: near that blob's centre, or anywhere for −1 (an outlier)."""
        vectors = []
        for blob in blobs:
            if blob < 0:
                vectors.append(self.rng.normal(size=DIM))
            else:
                vectors.append(self.centres[blob] + sigma * self.rng.normal(size=DIM) / np.sqrt(DIM) * 4)
        return self.add_vectors(_unit(np.array(vectors, dtype=np.float32)), files=files)

    def add_vectors(self, vectors: np.ndarray, files: bool = False) -> list[int]:
        catalog = self.library.catalog
        root_id = catalog.add_root(bytes(self.root))
        ids = []
        with catalog.transaction():
            for vector in vectors:
                self.count += 1
                n = self.count
                path = self.root / f"p{n:04d}.jpg"
                if files:
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_bytes(f"photo {n}".encode())
                taken = dt.datetime(2020, 1, 1) + dt.timedelta(days=int(self.rng.integers(0, 900)))
                meta = PhotoMeta(64, 48, taken.isoformat(), "exif", None, None)
                hash_ = f"fake{n:05d}"
                photo_id = catalog.insert_photo(root_id, bytes(path), 100 + n, n, hash_, meta)
                catalog.put_embeddings(self.model_id, [(hash_, vector)])
                self.hash_of[photo_id] = hash_
                ids.append(photo_id)
        return ids


def fake_photos(library, seed: int = 0, blobs: int = 4) -> FakePhotos:
    """Prepare a library (the `library` fixture: tiny model, here with a short vocabulary) for fake photos."""
    embedder = library.embedder()
    model_id = library.catalog.model_id(embedder.key, embedder.dim)
    assert embedder.dim == DIM
    library.set_vocabulary(VocabularyChoice(replacement=VOCABULARY))
    rng = np.random.default_rng(seed)
    centres = _unit(rng.normal(size=(blobs, DIM)).astype(np.float32))
    return FakePhotos(library, model_id, library.directory.parent / "photos", rng, centres)


def listing(library) -> list[Album]:
    return library.albums.albums()


def album_of(albums: list[Album]) -> dict[int, int | None]:
    """photo id → album id (None for Other); asserts every photo is listed exactly once."""
    out: dict[int, int | None] = {}
    for album in albums:
        for photo_id in album.members:
            assert photo_id not in out, f"photo {photo_id} is in two albums"
            out[photo_id] = album.id
    return out


# -- the model of the user's decisions ----------------------------------------------------------


@dataclass
class Decisions:
    """What the user decided, tracked by the test independently of the engine."""

    names: dict[int, str] = field(default_factory=dict)  # album → the user's name
    placed: dict[str, int | None] = field(default_factory=dict)  # content hash → album (None: Other)
    pinned: set[int] = field(default_factory=set)
    merged_away: set[int] = field(default_factory=set)  # albums merged into another

    def copy(self) -> Decisions:
        return Decisions(dict(self.names), dict(self.placed), set(self.pinned), set(self.merged_away))


def check_decisions(photos: FakePhotos, decisions: Decisions, albums: list[Album]) -> None:
    live = {a.id: a for a in albums if a.id is not None}
    where = album_of(albums)
    assert set(where) == set(photos.hash_of), "every photo is in one album or in Other"
    for album_id, name in decisions.names.items():
        if album_id in live:
            assert live[album_id].name == name and live[album_id].user_named, f"album {album_id} lost its name"
    for photo_id, hash_ in photos.hash_of.items():
        if hash_ in decisions.placed:
            assert where[photo_id] == decisions.placed[hash_], f"photo {photo_id} left where the user put it"
    for album_id, album in live.items():
        assert album.pinned == (album_id in decisions.pinned), f"album {album_id} pin changed"
        assert album.user_named == (album_id in decisions.names), f"album {album_id} user_named changed"
    assert not decisions.merged_away & set(live), "a merged album came back"
    for album in live.values():
        assert album.cover in album.members if album.members else album.cover is None, "the cover is one of its photos"
    names = [a.name.casefold() for a in live.values()]
    assert len(set(names)) == len(names), f"two albums share a name: {sorted(names)}"


def pinned_members(albums: list[Album]) -> dict[int, list[int]]:
    return {a.id: sorted(a.members) for a in albums if a.pinned}


# -- random sequences -----------------------------------------------------------------------------


class Session:
    """Drives a library through random actions and checks the user's decisions after each step."""

    def __init__(
        self, library, photos: FakePhotos, seed: int, counts: Sequence[str] = ("auto", "k", "k", "more", "fewer")
    ):
        self.library, self.photos, self.counts = library, photos, counts
        self.rng = random.Random(seed)
        self.decisions = Decisions()
        self.undo_stack: list[Decisions] = []
        self.names_used = 0
        self.reclusters = 0

    @property
    def store(self):
        return self.library.albums

    def live(self) -> list[Album]:
        return [a for a in self.store.albums() if a.id is not None]

    def some_photos(self, most: int = 3) -> list[int]:
        ids = sorted(self.photos.hash_of)
        return self.rng.sample(ids, self.rng.randint(1, min(most, len(ids))))

    def fresh_name(self) -> str:
        self.names_used += 1
        return f"Trip {self.names_used}"

    def act(self, action: str) -> None:
        albums = self.store.albums()
        live = [a for a in albums if a.id is not None]
        before = self.decisions.copy()
        d = self.decisions
        if action == "rename" and live:
            album = self.rng.choice(live)
            ref: int | str = album.id if self.rng.random() < 0.5 else album.name.upper()
            name = self.fresh_name()
            self.store.rename(ref, name)
            d.names[album.id] = name
        elif action == "merge" and len(live) >= 2:
            chosen = self.rng.sample(live, self.rng.randint(2, min(3, len(live))))
            target, sources = chosen[0], chosen[1:]
            self.store.merge([a.id for a in sources], target.id)
            for album in chosen:  # the target's own photos are part of the merge too
                for photo_id in album.members:
                    d.placed[self.photos.hash_of[photo_id]] = target.id
            for album in sources:
                d.merged_away.add(album.id)
                d.pinned.discard(album.id)
                d.names.pop(album.id, None)
        elif action == "move" and live:
            album = self.rng.choice(live)
            moved = self.some_photos()
            self.store.move(moved, album.id)
            d.placed.update({self.photos.hash_of[p]: album.id for p in moved})
        elif action == "remove":
            removed = self.some_photos()
            self.store.remove(removed)
            d.placed.update(dict.fromkeys((self.photos.hash_of[p] for p in removed), None))
        elif action == "split":
            chosen = self.some_photos(4)
            name = self.fresh_name() if self.rng.random() < 0.5 else None
            album_id = self.store.split(chosen, name)
            d.placed.update(dict.fromkeys((self.photos.hash_of[p] for p in chosen), album_id))
            if name is not None:
                d.names[album_id] = name
        elif action == "pin" and live:
            album = self.rng.choice(live)
            self.store.pin(album.id, not album.pinned)
            (d.pinned.discard if album.pinned else d.pinned.add)(album.id)
        elif action == "cover" and live:
            album = self.rng.choice([a for a in live if a.members] or live)
            if album.members:
                self.store.set_cover(album.id, self.rng.choice(album.members))
        elif action == "undo":
            description = self.store.undo()
            if description is None:
                assert not self.undo_stack
            else:
                self.decisions = self.undo_stack.pop()
            self.check()
            return
        elif action == "bad":
            self.bad_arguments(live)
            return
        elif action in ("add", "recluster"):
            # The machine's actions are in the history too: undo reverts them first (decisions unchanged).
            latest = self.store.history(1)
            self.add_photos() if action == "add" else self.recluster()
            if self.store.history(1) != latest:
                self.undo_stack.append(before)
            return
        else:
            return  # the action needs albums there are none of
        self.undo_stack.append(before)
        self.check()

    def bad_arguments(self, live: list[Album]) -> None:
        """A bad argument is refused with InvalidInputError and changes nothing."""
        before, history = self.store.albums(), self.store.history()
        attempts = [
            lambda: self.store.rename("no such album", "x"),
            lambda: self.store.move([10**6], live[0].id if live else 1),
            lambda: self.store.split([]),
        ]
        if live:
            album = self.rng.choice(live)
            attempts += [
                lambda: self.store.rename(album.id, "   "),
                lambda: self.store.merge([album.id], album.id),
                lambda: self.store.merge([album.name], str(album.id)),
            ]
        if len(live) >= 2:
            attempts.append(lambda: self.store.rename(live[0].id, live[1].name.swapcase()))
        with pytest.raises(InvalidInputError):
            self.rng.choice(attempts)()
        assert self.store.albums() == before and self.store.history() == history

    def add_photos(self) -> None:
        pinned = pinned_members(self.store.albums())
        blobs = [self.rng.randrange(len(self.photos.centres)) for _ in range(self.rng.randint(1, 6))]
        if self.rng.random() < 0.5:
            blobs.append(-1)
        self.photos.add(blobs)
        self.library.assign_new_photos()
        albums = self.store.albums()
        assert pinned_members(albums) == pinned, "a pinned album received new photos"
        self.check(albums)

    def recluster(self) -> None:
        albums = self.store.albums()
        pinned = pinned_members(albums)
        choice = self.rng.choice(self.counts)
        kwargs: dict[str, object] = {}
        if choice == "k":
            kwargs["k"] = self.rng.randint(1, 6)
        elif choice in ("more", "fewer"):
            kwargs[choice] = True
        try:
            summary = self.library.recluster(**kwargs)
        except InvalidInputError:
            assert choice in ("more", "fewer") and self.store.albums() == albums
            return
        self.reclusters += 1
        after = self.store.albums()
        assert pinned_members(after) == pinned, "a pinned album changed"
        live_before = {a.id for a in albums if a.id is not None}
        live_after = {a.id for a in after if a.id is not None}
        assert set(summary.retired) == live_before - live_after
        assert set(summary.created) == live_after - live_before
        size_before = {a.id: a.size for a in albums if a.id is not None}
        for album in after:
            if album.id in size_before:
                change = album.size - size_before[album.id]
                assert summary.grown.get(album.id, 0) == max(change, 0)
                assert summary.shrunk.get(album.id, 0) == max(-change, 0)
            if album.id is not None and not album.user_owned:
                assert album.members, f"album {album.id} is empty after a re-cluster"
        self.check(after)
        # Nothing changed since: the same clustering again changes no album (ids, names, photos).
        if self.rng.random() < 0.3:
            self.library.recluster(k=summary.k)
            assert self.store.albums() == after, "a repeated re-cluster changed the albums"

    def check(self, albums: list[Album] | None = None) -> None:
        check_decisions(self.photos, self.decisions, albums if albums is not None else self.store.albums())


ACTIONS = ["rename"] * 3 + ["merge"] * 2 + ["move"] * 3 + ["remove", "split", "split", "pin", "pin", "cover"]
ACTIONS += ["undo"] * 3 + ["bad", "add", "add"] + ["recluster"] * 4


@pytest.mark.parametrize("naming", [True, False], ids=["named", "model-unavailable"])
@pytest.mark.parametrize("seed", range(8))
def test_random_sessions_keep_every_user_decision(library, monkeypatch, seed: int, naming: bool) -> None:
    use_fake_clusterer(monkeypatch)
    if not naming:  # albums keep provisional names, as when the model cannot be loaded
        monkeypatch.setattr(type(library), "_naming", lambda self, progress: None)
    photos = fake_photos(library, seed)
    photos.add([i % 4 for i in range(48)] + [-1, -1])
    session = Session(library, photos, seed)
    library.recluster()
    session.undo_stack.append(Decisions())  # the first clustering is in the history: undo reverts it too
    session.check()
    for _ in range(60):
        session.act(session.rng.choice(ACTIONS))
    session.recluster()
    assert session.reclusters >= 2


@pytest.mark.slow  # five re-clusters with the real CPPClusterer
def test_user_decisions_survive_the_real_clusterer(library) -> None:
    photos = fake_photos(library, seed=11, blobs=3)
    photos.add([i % 3 for i in range(45)])
    session = Session(library, photos, seed=11, counts=("k",))
    library.recluster(k=3)
    session.undo_stack.append(Decisions())
    session.check()
    for action in ["rename", "move", "split", "merge", "pin", "remove", "add", "recluster", "rename", "move"]:
        session.act(action)
    for action in ["recluster", "undo", "recluster", "add", "recluster"]:
        session.act(action)
    assert session.reclusters >= 3
