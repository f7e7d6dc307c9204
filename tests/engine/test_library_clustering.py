"""`photoatlas cluster` / `clusters --json`: every embedded photo in exactly one cluster, stored safely."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import engine.albums.recluster
import engine.cluster
from engine.cli.main import main
from engine.errors import InvalidInputError


@pytest.fixture
def indexed(library, tmp_path: Path, make_photo):
    colours = [(230, 20, 20), (20, 20, 230)]
    for i in range(24):
        base = colours[i % 2]
        make_photo(tmp_path / "photos" / f"p{i:02d}.jpg", color=tuple(min(255, c + i) for c in base))
    library.index([tmp_path / "photos"])
    return library


def run(capsys, library, *argv: str) -> tuple[int, str]:
    code = main(["--library", str(library.directory), *argv])
    return code, capsys.readouterr().out


@pytest.mark.slow  # indexes 24 photos with the tiny CLIP, fits the real CPPClusterer
def test_cluster_then_clusters_json_covers_every_photo_once(indexed, capsys) -> None:
    code, out = run(capsys, indexed, "cluster", "--k", "2", "--no-progress")
    assert code == 0 and "2 clusters" in out
    code, out = run(capsys, indexed, "clusters", "--json")
    clusters = json.loads(out)
    keys = {"id", "size", "members", "name", "confidence", "date_from", "date_to"}
    assert code == 0 and all(set(c) == keys for c in clusters)
    named = [c for c in clusters if c["id"] is not None]
    assert all(c["name"] and 0 <= c["confidence"] <= 1 for c in named)
    assert len({c["name"] for c in named}) == len(named), "names are distinct"
    members = [m for c in clusters for m in c["members"]]
    assert sorted(members) == sorted(r.id for r in indexed.photos())
    assert all(c["size"] == len(c["members"]) for c in clusters)
    ids = [c["id"] for c in clusters]
    assert 1 <= sum(i is not None for i in ids) <= 2
    assert None not in ids[:-1], '"Other" (id null) comes last, once at most'


@pytest.mark.slow  # indexes 24 photos with the tiny CLIP, fits the real CPPClusterer
def test_failed_clustering_keeps_the_previous_one(indexed, monkeypatch) -> None:
    indexed.cluster(k=2)
    before = indexed.clusters()

    class Exploding(engine.cluster.CPPClusterer):
        def fit(self, X, progress=None):
            raise RuntimeError("power cut")

    monkeypatch.setattr(engine.cluster, "CPPClusterer", Exploding)
    # k=3 is on the curve the first fit kept; a fresh fit is what fails here.
    monkeypatch.setattr(engine.albums.recluster, "_reuse_for_k", lambda *args: None)
    with pytest.raises(RuntimeError):
        indexed.cluster(k=3)
    assert indexed.clusters() == before


@pytest.mark.slow  # indexes 24 photos with the tiny CLIP, fits the real CPPClusterer
def test_deleted_photo_leaves_its_cluster(indexed, tmp_path: Path) -> None:
    indexed.cluster(k=2)
    (tmp_path / "photos" / "p03.jpg").unlink()
    indexed.index()
    assert sum(c.size for c in indexed.clusters()) == 23


@pytest.mark.slow  # indexes 24 photos with the tiny CLIP, fits the real CPPClusterer
def test_clustering_needs_embeddings_and_a_sane_k(library, indexed) -> None:
    with pytest.raises(InvalidInputError, match="cannot make 99 albums"):
        indexed.cluster(k=99)


def test_nothing_embedded_is_a_clear_error(tmp_path: Path, capsys) -> None:
    assert main(["--library", str(tmp_path / "empty"), "init"]) == 0  # a missing library is another error now
    assert main(["--library", str(tmp_path / "empty"), "cluster"]) == 1
    assert "run photoatlas index first" in capsys.readouterr().err
