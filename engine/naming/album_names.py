"""Naming the stored clusters from CLIP's text tower and keeping the names in the catalog."""

from __future__ import annotations

import json
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
from engine.naming.text_features import cached_features, ensemble_features
from engine.naming.vocabulary import Vocabulary
from engine.progress import ProgressReporter, check_cancelled, ensure_progress

# Renamed albums listed by name in a naming summary; the rest are counted.
MAX_RENAMED_LINES = 8


@dataclass(frozen=True)
class NamingSummary:
    """What a naming run did."""

    clusters: int
    generic: int
    terms: int
    seconds: float
    albums: int = 0
    albums_generic: int = 0
    quick: bool = False  # named from one prompt per term; the whole prompt ensemble refines the names later
    renamed: tuple[tuple[str, str], ...] = ()  # (name before, name now) of the albums whose name changed

    def lines(self) -> list[str]:
        weak = f", {self.albums_generic} with a generic name (no candidate fits well)" if self.albums_generic else ""
        prompts = ", one prompt each" if self.quick else ""
        out = [
            f"named {self.albums} albums and {self.clusters} clusters from {self.terms} candidate names{prompts}"
            f"{weak}; {self.seconds:.1f} s"
        ]
        out += [f"“{old}” is now “{new}”" for old, new in self.renamed[:MAX_RENAMED_LINES]]
        if len(self.renamed) > MAX_RENAMED_LINES:
            out.append(f"and {len(self.renamed) - MAX_RENAMED_LINES} more albums renamed")
        return out


def parse_time(value: str | None) -> datetime | None:
    """A catalog capture time (ISO 8601) as the local wall-clock datetime (naive); None when absent or unreadable.

    Times that carry their UTC offset (EXIF OffsetTimeOriginal) keep the clock time where the photo was
    taken: a trip's photos fall on the days the traveller lived them, and offset and plain times compare.
    """
    if not value:
        return None
    try:
        return datetime.fromisoformat(value).replace(tzinfo=None)
    except ValueError:
        return None


def vocabulary_features(
    catalog: Catalog,
    embedder: Embedder,
    model_id: int,
    vocabulary: Vocabulary,
    progress: ProgressReporter | None = None,
    ensemble: bool = True,
) -> np.ndarray:
    """(m, D) text embeddings of the vocabulary's terms, cached per model.

    Args:
        ensemble: each term's whole prompt ensemble; False: its first prompt only (the quick first names,
            a fifth of the text tower's work), cached apart.
    """
    phase = "embed vocabulary" if ensemble else "embed vocabulary (one prompt per term)"
    return ensemble_features(catalog, embedder, model_id, vocabulary.prompt_sets(ensemble), progress, phase)


def cached_vocabulary_features(
    catalog: Catalog, model_id: int, vocabulary: Vocabulary
) -> tuple[np.ndarray, bool] | None:
    """The best text features cached for the vocabulary, without the model: the whole ensemble's, else one
    prompt per term's; with True when they are the ensemble's. None when neither is complete."""
    if len(vocabulary) == 0:
        return None
    full = cached_features(catalog, model_id, vocabulary.prompt_sets(True))
    if full is not None:
        return full, True
    quick = cached_features(catalog, model_id, vocabulary.prompt_sets(False))
    return (quick, False) if quick is not None else None


def name_and_store(
    catalog: Catalog,
    model_id: int,
    text: np.ndarray,
    vocabulary: Vocabulary,
    reserved: Sequence[str] = (),
    progress: ProgressReporter | None = None,
) -> NamingSummary:
    """Name every cluster of the current clustering from the vocabulary's text features (`text`, rows in term
    order) and replace its stored names in one transaction."""
    started = time.monotonic()
    progress = ensure_progress(progress)
    clustering = catalog.clusterings.current()
    if clustering is None:
        return NamingSummary(0, 0, len(vocabulary), 0.0)
    clustering_id = clustering.id
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
    live = catalog.albums.live_names()
    kept = catalog.albums.frozen_names()
    kept.update({a: n for a, n in live.items() if a in set(keep)})
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
        current={index[key]: name for key, name in live.items() if key in index},
    )
    return {keys[n.label]: n for n in names}


def write_album_names(catalog: Catalog, names: dict[int, ClusterName]) -> None:
    """Store automatic names (the album owner keeps a name the user gave, and a pinned album's)."""
    catalog.albums.set_machine_names(
        {a: MachineName(n.name, float(n.confidence), bool(n.generic), tuple(n.alternatives)) for a, n in names.items()}
    )


def name_albums(
    catalog: Catalog,
    model_id: int,
    text: np.ndarray,
    vocabulary: Vocabulary,
    summary: NamingSummary,
    description: str = "New names for the albums from the vocabulary",
) -> NamingSummary:
    """Re-name the albums the user has not named from their current photos and the vocabulary's text features
    (`text`); one action in the history, worded by `description`, recorded only when a name changed.
    Returns the combined summary."""
    started = time.monotonic()
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
    before = catalog.albums.live_names()
    changed = {a: n for a, n in names.items() if _differs(catalog, a, n)}
    with catalog.albums.action("name", description):
        write_album_names(catalog, changed)
    after = catalog.albums.live_names()
    renamed = tuple((before[a], after[a]) for a in changed if a in before and a in after and before[a] != after[a])
    generic = sum(n.generic for n in names.values())
    seconds = summary.seconds + time.monotonic() - started
    return NamingSummary(
        summary.clusters,
        summary.generic,
        summary.terms,
        seconds,
        albums=len(names),
        albums_generic=generic,
        quick=summary.quick,
        renamed=renamed,
    )


def _differs(catalog: Catalog, album_id: int, name: ClusterName) -> bool:
    """Whether an automatic name would change what the album shows (an unchanged one records no action)."""
    now = catalog.albums.fields(album_id, ["name", "generic", "alternatives"])
    return (now["name"], bool(now["generic"]), list(json.loads(str(now["alternatives"] or "[]")))) != (
        name.name,
        bool(name.generic),
        list(name.alternatives),
    )
