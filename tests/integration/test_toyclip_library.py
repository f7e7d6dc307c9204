"""End to end with the toy CLIP from ../shared: photos of one concept embed close together."""

from __future__ import annotations

import numpy as np
import pytest

from engine.library import Library
from engine.paths import display
from tests.toy import TOYCLIP, make_toy_library, needs_toyclip

pytestmark = needs_toyclip


@pytest.fixture(scope="module")
def toy_library(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("toy")
    photos = root / "photos"
    truth = make_toy_library(photos, per_concept=12, seed=3)
    library = Library(root / "lib")
    library.set_model("toyclip", str(TOYCLIP / "toyclip.safetensors"), str(TOYCLIP / "toyclip.json"))
    summary = library.index([photos])
    yield library, truth, summary
    library.close()


def test_every_photo_is_cataloged_with_its_exif_date(toy_library) -> None:
    library, truth, summary = toy_library
    assert summary.added == len(truth) == 72 and summary.embedded == 72
    rows = library.photos()
    assert {display(r.path) for r in rows} == set(truth)
    assert all(r.taken_at and r.taken_at.startswith(("2018", "2019", "2020", "2021", "2022", "2023")) for r in rows)


def test_photos_of_one_concept_are_nearest_neighbours(toy_library) -> None:
    library, truth, _ = toy_library
    ids, vectors = library.embeddings()
    paths = {r.id: display(r.path) for r in library.photos()}
    concepts = np.array([truth[paths[i]] for i in ids])
    similarity = vectors @ vectors.T
    np.fill_diagonal(similarity, -np.inf)
    nearest = similarity.argmax(axis=1)
    agreement = float((concepts[nearest] == concepts).mean())
    assert agreement > 0.9, f"nearest-neighbour concept agreement {agreement:.2f}"


def test_text_tower_finds_the_right_concept(toy_library) -> None:
    library, truth, _ = toy_library
    ids, vectors = library.embeddings()
    paths = {r.id: display(r.path) for r in library.photos()}
    query = library.embedder().embed_texts(["a photo of a yellow star"])[0]
    best = np.argsort(-(vectors @ query))[:5]
    hits = sum(truth[paths[ids[i]]] == "yellow star" for i in best)
    assert hits >= 4


def test_clustering_finds_one_album_per_concept(toy_library) -> None:
    library, truth, _ = toy_library
    summary = library.cluster()
    assert summary.k == len(set(truth.values())) == 6
    paths = {r.id: display(r.path) for r in library.photos()}
    majority_hits = 0
    for info in library.clusters():
        concepts = [truth[paths[pid]] for pid in info.members]
        if info.id is not None:
            majority_hits += max(concepts.count(c) for c in set(concepts))
    purity = majority_hits / len(truth)
    assert purity >= 0.9, f"album purity {purity:.2f}"


COLOURS = ("red", "green", "blue", "yellow", "orange", "black")
SHAPES = ("circle", "square", "triangle", "star", "hexagon", "cross")


def test_albums_are_named_after_their_concept(toy_library, tmp_path) -> None:
    library, truth, _ = toy_library
    # The toy CLIP knows only colours and shapes: the user's own list, as `vocab use FILE` would give it.
    words = tmp_path / "shapes.txt"
    words.write_text("\n".join(f"{c} {s}" for c in COLOURS for s in SHAPES), "utf-8")
    library.set_vocabulary(library.vocabulary_choice().use_file(words))
    library.recluster()
    paths = {r.id: display(r.path) for r in library.photos()}
    albums = [a for a in library.albums.albums() if a.id is not None]
    assert len(albums) == 6
    for album in albums:
        concepts = [truth[paths[pid]] for pid in album.members]
        majority = max(set(concepts), key=concepts.count)
        assert album.name.lower() == majority, f"{album.name} for {sorted(set(concepts))}"
        assert not album.generic and album.confidence > 0.5
        assert album.date_from and album.date_to and album.date_from <= album.date_to


def test_search_finds_the_concept_and_little_else(toy_library) -> None:
    library, truth, _ = toy_library
    results = library.search("a photo of a yellow star", limit=50)
    hits = [truth[display(r.path)] == "yellow star" for r in results]
    assert all(hits[:8]), "the best matches are yellow stars"
    assert sum(hits) >= 10 and len(results) <= 2 * 12, f"{sum(hits)} of {len(results)} are yellow stars"
    assert [r.score for r in results] == sorted((r.score for r in results), reverse=True)


def test_new_photos_of_known_concepts_join_their_albums_and_strangers_wait_in_other(toy_library, tmp_path) -> None:
    """Incremental assignment with the real CPP head: photos of a concept already in an album join it at
    once; photos of a concept the library has never seen wait in Other."""
    library, truth, _ = toy_library
    if not library.clusters():
        library.cluster()
    new = tmp_path / "new"
    concepts = "red:circle,blue:triangle,green:star,orange:cross"
    concept_of = make_toy_library(new, per_concept=4, seed=9, concepts=concepts)
    library.index([new])
    paths = {r.id: display(r.path) for r in library.photos()}
    album_of = {pid: a.id for a in library.albums.albums() for pid in a.members}
    new_ids = [i for i, p in paths.items() if p in concept_of]
    known = [i for i in new_ids if concept_of[paths[i]] in ("red circle", "blue triangle")]
    strangers = [i for i in new_ids if concept_of[paths[i]] in ("green star", "orange cross")]
    joined = [i for i in known if album_of.get(i) is not None]
    assert len(joined) >= 6, f"only {len(joined)} of 8 photos of known concepts joined an album"
    for i in joined:  # ...and the right one: the album whose photos are mostly that concept
        members = next(a for a in library.albums.albums() if a.id == album_of[i]).members
        concepts = [truth.get(paths[m]) for m in members if paths[m] in truth]
        assert max(set(concepts), key=concepts.count) == concept_of[paths[i]]
    assert sum(album_of.get(i) is None for i in strangers) >= 6, "photos of unseen concepts wait in Other"
