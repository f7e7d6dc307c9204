"""The machine's clusters behind the albums: listing them, and keeping the fitted estimator as data.

The raw clusters live in their own tables (owned by `engine.catalog.clusterings`); the albums the user sees
and edits are built on top of them, so storing a new clustering never touches a user decision.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from engine.catalog import Catalog
from engine.errors import CatalogError

log = logging.getLogger(__name__)

# Said once, when a 0.1.0 catalog's estimator held something other than PhotoAtlas's own classes.
LEGACY_DROPPED = (
    "The stored clustering could not be converted safely and was set aside; new photos wait in Other until"
    " the next re-cluster."
)


@dataclass(frozen=True)
class ClusterInfo:
    """One cluster of the current clustering; `id` None is "Other" (photos in no cluster)."""

    id: int | None
    size: int
    members: list[int]
    name: str | None = None
    confidence: float | None = None
    generic: bool = False
    date_from: str | None = None  # ISO 8601 capture time of the earliest member with one
    date_to: str | None = None
    alternatives: tuple[str, ...] = ()

    @property
    def title(self) -> str | None:
        """The name with its date span, e.g. "Beach · Jul 2023"; None when unnamed."""
        if self.name is None:
            return None
        from engine.naming.album_names import parse_time
        from engine.naming.names import format_date_span

        span = format_date_span(parse_time(self.date_from), parse_time(self.date_to))
        return f"{self.name} · {span}" if span else self.name


def stored_clusters(catalog: Catalog) -> list[ClusterInfo]:
    """The clusters of the current clustering, largest first, then "Other" (if it has photos)."""
    members: dict[int, list[int]] = {}
    for cluster, photo_id in catalog.clusterings.members():
        members.setdefault(cluster, []).append(photo_id)
    names = catalog.clusterings.names()
    clusters = []
    for c, m in members.items():
        if c < 0:
            continue
        if c in names:
            n = names[c]
            clusters.append(
                ClusterInfo(c, len(m), m, n.name, n.confidence, n.generic, n.date_from, n.date_to, n.alternatives)
            )
        else:
            clusters.append(ClusterInfo(c, len(m), m))
    clusters.sort(key=lambda info: (-info.size, info.id))
    if -1 in members:
        clusters.append(ClusterInfo(None, len(members[-1]), members[-1]))
    return clusters


def stored_estimator(catalog: Catalog) -> Any | None:
    """The fitted estimator of the current clustering (for out-of-sample assignment), if any; rebuilt from
    arrays and JSON, on the CPU, without running anything stored in the catalog."""
    from engine.cluster.persist import StoredEstimator, load_estimator

    stored = catalog.clusterings.estimator()
    if stored is None:
        return None
    try:
        return load_estimator(StoredEstimator(*stored))
    except CatalogError as exc:
        # Damaged, or written by a newer PhotoAtlas: new photos wait in Other and the next re-cluster fits
        # afresh, as when there is no estimator at all.
        log.warning("%s", exc)
        return None


def serialise_estimator(estimator: Any) -> tuple[bytes, str]:
    """The estimator as (safetensors blob, JSON description) for `catalog.clusterings.replace`."""
    from engine.cluster.persist import dump_estimator

    stored = dump_estimator(estimator)
    return stored.tensors, stored.description


def album_counts(catalog: Catalog) -> dict[int, int]:
    """{k: albums} for the current clustering's curve, read from its estimator's description: k less the clusters
    that go to "Other" (algorithms.md §3.7). A k missing from it makes k albums."""
    from engine.cluster.persist import stored_album_counts

    description = catalog.clusterings.estimator_description()
    return {} if description is None else stored_album_counts(description)


def convert_legacy_estimator(catalog: Catalog) -> str | None:
    """Convert a 0.1.0 catalog's pickled estimator to data, once; returns a message for the user when it
    could not be converted (it then is dropped, never unpickled with arbitrary code)."""
    legacy = catalog.clusterings.legacy_estimator()
    if legacy is None:
        return None
    from engine.cluster.persist import load_legacy_pickle

    clustering_id, blob = legacy
    try:
        converted: tuple[bytes, str] | None = serialise_estimator(load_legacy_pickle(blob))
    except CatalogError as exc:
        log.warning("set aside the stored clustering's estimator: %s", exc)
        converted = None
    catalog.clusterings.settle_legacy_estimator(clustering_id, converted)
    return None if converted is not None else LEGACY_DROPPED
