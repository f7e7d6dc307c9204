"""Naming the stored clusters from CLIP's text tower and keeping the names in the catalog."""

from __future__ import annotations

import time
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from engine.catalog import Catalog
from engine.catalog.albums import MachineName
from engine.catalog.clusterings import StoredClusterName
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
    clustering = catalog.clusterings.current()
    if clustering is None:
        return NamingSummary(0, 0, len(vocabulary), 0.0)
    clustering_id = clustering.id
    text = vocabulary_features(catalog, embedder, model_id, vocabulary, progress)
    check_cancelled(progress)
    labels, features, taken = catalog.clusterings.member_vectors(clustering_id, model_id)
    if not len(labels):
        return NamingSummary(0, 0, len(vocabulary), time.monotonic() - started)
    times = [parse_time(value) for value in taken]
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
    stored = [
        StoredClusterName(
            n.label,
            n.name,
            float(n.confidence),
            bool(n.generic),
            n.date_from.isoformat() if n.date_from else None,
            n.date_to.isoformat() if n.date_to else None,
            tuple(n.alternatives),
        )
        for n in names
    ]
    catalog.clusterings.replace_names(clustering_id, stored, vocab_version)


def album_names(
    catalog: Catalog,
    placement: dict[str, Hashable],
    hashes: Sequence[str],
    features: np.ndarray,
    text_features: np.ndarray,
    candidate_names: Sequence[str],
    generic: Sequence[str],
    keep: Sequence[int] = (),
) -> dict[Hashable, ClusterName]:
    """Automatic names for the albums of a placement (hash → album key) that the user has not named.

    Args:
        placement: where each photo is (None = "Other"); keys may be ids of albums still to be created.
        hashes, features: the photos' content hashes and CLIP features, rows aligned.
        keep: live albums not named this time (emptied by the user): their names stay reserved too.
    """
    # An album the user named, or pinned, keeps its name; that name stays reserved.
    kept = catalog.albums.frozen_names()
    kept.update({a: n for a, n in catalog.albums.live_names().items() if a in set(keep)})
    frozen = set(kept)
    reserved = list(kept.values())
    keys = [key for key in dict.fromkeys(placement.values()) if key is not None and key not in frozen]
    index = {key: i for i, key in enumerate(keys)}
    position = {h: i for i, h in enumerate(hashes)}
    taken = catalog.capture_times()
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


def write_album_names(catalog: Catalog, names: dict[int, ClusterName]) -> None:
    """Store automatic names (the album owner keeps a name the user gave, and a pinned album's)."""
    catalog.albums.set_machine_names(
        {a: MachineName(n.name, float(n.confidence), bool(n.generic), tuple(n.alternatives)) for a, n in names.items()}
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
    hashes, album_ids, features = catalog.albums.live_member_vectors(model_id)
    if not hashes:
        return summary
    empty = [a for a in catalog.albums.live_names() if a not in set(album_ids)]
    names = album_names(
        catalog,
        dict(zip(hashes, album_ids, strict=True)),
        hashes,
        features,
        text,
        vocabulary.names(),
        vocabulary.generic,
        keep=empty,
    )
    with catalog.albums.action("name", "New names for the albums from the vocabulary"):
        write_album_names(catalog, names)
    generic = sum(n.generic for n in names.values())
    return NamingSummary(
        summary.clusters, summary.generic, summary.terms, summary.seconds, albums=len(names), albums_generic=generic
    )
