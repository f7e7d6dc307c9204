"""Naming the stored clusters from CLIP's text tower and keeping the names in the catalog."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from engine.catalog import Catalog
from engine.embed.embedder import Embedder
from engine.naming.names import ClusterName, name_clusters
from engine.naming.text_features import ensemble_features
from engine.naming.vocabulary import Vocabulary
from engine.progress import ProgressReporter, check_cancelled, ensure_progress


@dataclass(frozen=True)
class NamingSummary:
    """What a naming run did."""

    clusters: int
    generic: int
    terms: int
    seconds: float
    albums: int = 0
    albums_generic: int = 0

    def lines(self) -> list[str]:
        weak = f", {self.albums_generic} with a generic name (no candidate fits well)" if self.albums_generic else ""
        return [
            f"named {self.albums} albums and {self.clusters} clusters from {self.terms} candidate names{weak};"
            f" {self.seconds:.1f} s"
        ]


def parse_time(value: str | None) -> datetime | None:
    """A catalog capture time (ISO 8601) as a datetime; None when absent or unreadable."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def vocabulary_features(
    catalog: Catalog,
    embedder: Embedder,
    model_id: int,
    vocabulary: Vocabulary,
    progress: ProgressReporter | None = None,
) -> np.ndarray:
    """(m, D) text embeddings of the vocabulary's terms, each a prompt ensemble; cached per model."""
    prompt_sets = [vocabulary.prompts(term) for term in vocabulary.terms]
    return ensemble_features(catalog, embedder, model_id, prompt_sets, progress)


def name_and_store(
    catalog: Catalog,
    embedder: Embedder,
    model_id: int,
    vocabulary: Vocabulary,
    reserved: Sequence[str] = (),
    progress: ProgressReporter | None = None,
) -> NamingSummary:
    """Name every cluster of the current clustering and replace its stored names in one transaction."""
    started = time.monotonic()
    progress = ensure_progress(progress)
    row = catalog.execute("SELECT id FROM clusterings ORDER BY id DESC LIMIT 1").fetchone()
    if row is None:
        return NamingSummary(0, 0, len(vocabulary), 0.0)
    clustering_id = int(row[0])
    text = vocabulary_features(catalog, embedder, model_id, vocabulary, progress)
    check_cancelled(progress)
    members = catalog.execute(
        "SELECT m.photo_id, m.cluster, p.taken_at, e.vector FROM cluster_members m"
        " JOIN photos p ON p.id = m.photo_id JOIN embeddings e ON e.hash = p.hash AND e.model_id = ?"
        " WHERE m.clustering_id = ? ORDER BY m.photo_id",
        (model_id, clustering_id),
    ).fetchall()
    if not members:
        return NamingSummary(0, 0, len(vocabulary), time.monotonic() - started)
    labels = np.array([r[1] for r in members], dtype=np.int64)
    times = [parse_time(r[2]) for r in members]
    features = np.stack([np.frombuffer(r[3], dtype="<f4") for r in members]).astype(np.float32)
    progress.phase("name albums", None)
    names = name_clusters(
        features,
        labels,
        text,
        vocabulary.names(),
        times,
        generic_names=vocabulary.generic,
        reserved=reserved,
    )
    check_cancelled(progress)
    store_names(catalog, clustering_id, names, vocabulary.version)
    return NamingSummary(len(names), sum(n.generic for n in names), len(vocabulary), time.monotonic() - started)


def store_names(catalog: Catalog, clustering_id: int, names: Sequence[ClusterName], vocab_version: str) -> None:
    with catalog.transaction() as db:
        db.execute("DELETE FROM cluster_names WHERE clustering_id=?", (clustering_id,))
        db.executemany(
            "INSERT INTO cluster_names(clustering_id, cluster, name, confidence, generic, date_from, date_to,"
            " alternatives, vocab_version) VALUES(?,?,?,?,?,?,?,?,?)",
            [
                (
                    clustering_id,
                    n.label,
                    n.name,
                    float(n.confidence),
                    int(n.generic),
                    n.date_from.isoformat() if n.date_from else None,
                    n.date_to.isoformat() if n.date_to else None,
                    json.dumps(list(n.alternatives)),
                    vocab_version,
                )
                for n in names
            ],
        )


def album_names(
    catalog: Catalog,
    placement: dict[str, Hashable],
    hashes: Sequence[str],
    features: np.ndarray,
    text_features: np.ndarray,
    candidate_names: Sequence[str],
    generic: Sequence[str],
) -> dict[Hashable, ClusterName]:
    """Automatic names for the albums of a placement (hash → album key) that the user has not named.

    Args:
        placement: where each photo is (None = "Other"); keys may be ids of albums still to be created.
        hashes, features: the photos' content hashes and CLIP features, rows aligned.
    """
    rows = catalog.execute("SELECT id, name, user_named, pinned FROM albums WHERE retired_at IS NULL").fetchall()
    # A pinned album does not change, its automatic name included; its name stays reserved.
    frozen = {r[0] for r in rows if r[2] or r[3]}
    reserved = [r[1] for r in rows if r[2] or r[3]]
    keys = [key for key in dict.fromkeys(placement.values()) if key is not None and key not in frozen]
    index = {key: i for i, key in enumerate(keys)}
    position = {h: i for i, h in enumerate(hashes)}
    taken = dict(catalog.execute("SELECT hash, taken_at FROM photos").fetchall())
    labels = np.full(len(hashes), -1, dtype=np.int64)
    for h, key in placement.items():
        if h in position and key in index:
            labels[position[h]] = index[key]
    if (labels < 0).all():
        return {}
    names = name_clusters(
        features,
        labels,
        text_features,
        candidate_names,
        [parse_time(taken.get(h)) for h in hashes],
        generic_names=generic,
        reserved=reserved,
    )
    return {keys[n.label]: n for n in names}


def write_album_names(db: sqlite3.Connection, names: dict[int, ClusterName], now: float) -> None:
    """Store automatic names; the WHERE keeps a name the user gave, and a pinned album's, from being replaced."""
    db.executemany(
        "UPDATE albums SET name=?, confidence=?, generic=?, alternatives=?, updated_at=?"
        " WHERE id=? AND user_named=0 AND pinned=0",
        [
            (n.name, float(n.confidence), int(n.generic), json.dumps(list(n.alternatives)), now, album_id)
            for album_id, n in names.items()
        ],
    )


def name_albums(
    catalog: Catalog,
    embedder: Embedder,
    model_id: int,
    vocabulary: Vocabulary,
    summary: NamingSummary,
    progress: ProgressReporter | None = None,
) -> NamingSummary:
    """Re-name the albums the user has not named from their current photos; returns the combined summary."""
    text = vocabulary_features(catalog, embedder, model_id, vocabulary, progress)
    rows = catalog.execute(
        "SELECT m.hash, m.album_id, e.vector FROM album_members m JOIN albums a ON a.id = m.album_id"
        " JOIN (SELECT hash FROM photos GROUP BY hash) p ON p.hash = m.hash"
        " JOIN embeddings e ON e.hash = m.hash AND e.model_id = ? WHERE a.retired_at IS NULL",
        (model_id,),
    ).fetchall()
    if not rows:
        return summary
    hashes = [r[0] for r in rows]
    features = np.stack([np.frombuffer(r[2], dtype="<f4") for r in rows]).astype(np.float32)
    names = album_names(
        catalog, {r[0]: r[1] for r in rows}, hashes, features, text, vocabulary.names(), vocabulary.generic
    )
    with catalog.transaction() as db:
        write_album_names(db, names, time.time())
    generic = sum(n.generic for n in names.values())
    return NamingSummary(
        summary.clusters, summary.generic, summary.terms, summary.seconds, albums=len(names), albums_generic=generic
    )
