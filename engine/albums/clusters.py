"""Clustering a library: fit `CPPClusterer` on the catalog's embeddings and store the result.

The raw clusters live in their own tables; the albums the user sees and edits are built on top of them
(albums issue), so storing a new clustering never touches a user decision.
"""

from __future__ import annotations

import io
import json
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from engine.catalog import Catalog
from engine.errors import InvalidInputError
from engine.progress import ProgressReporter

if TYPE_CHECKING:
    from engine.cluster import CPPClusterer


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


@dataclass
class ClusteringSummary:
    """What a clustering run did."""

    photos: int
    k: int
    chosen: bool
    other: int
    seconds: float
    coding_lengths: dict[int, float] = field(default_factory=dict)

    def lines(self) -> list[str]:
        how = (
            f"chosen by coding length among k = {min(self.coding_lengths)}…{max(self.coding_lengths)}"
            if self.chosen and self.coding_lengths
            else "as requested"
        )
        return [
            f"{self.photos} photos → {self.k} clusters ({how}), {self.other} in Other; {self.seconds:.1f} s",
        ]


def fit_and_store(
    catalog: Catalog,
    model_id: int,
    photo_ids: list[int],
    features: np.ndarray,
    k: int | None,
    device: str,
    progress: ProgressReporter | None,
) -> ClusteringSummary:
    """Cluster the features and replace the stored clustering in one transaction.

    A failure or cancellation before the final transaction leaves the previous clustering intact.
    """
    from engine.cluster import CPPClusterer

    if len(photo_ids) == 0:
        raise InvalidInputError("no embedded photos to cluster: run photoatlas index first")
    if k is not None and k > len(photo_ids):
        raise InvalidInputError(f"cannot make {k} clusters from {len(photo_ids)} photos")
    started = time.monotonic()
    estimator = CPPClusterer(n_clusters=k, random_state=0, device=device).fit(features, progress=progress)
    labels = np.asarray(estimator.labels_, dtype=np.int64)
    curve = {int(key): float(value) for key, value in estimator.coding_lengths_.items()}
    blob = serialise_estimator(estimator)
    with catalog.transaction() as db:
        db.execute("DELETE FROM clusterings")
        cur = db.execute(
            "INSERT INTO clusterings(model_id, created_at, requested_k, k, coding_lengths, estimator)"
            " VALUES(?,?,?,?,?,?)",
            (model_id, time.time(), k, int(estimator.n_clusters_), json.dumps(curve), blob),
        )
        clustering_id = cur.lastrowid
        db.executemany(
            "INSERT INTO cluster_members(clustering_id, photo_id, cluster) VALUES(?,?,?)",
            [(clustering_id, int(pid), int(label)) for pid, label in zip(photo_ids, labels, strict=True)],
        )
    return ClusteringSummary(
        photos=len(photo_ids),
        k=int(estimator.n_clusters_),
        chosen=k is None,
        other=int((labels < 0).sum()),
        seconds=time.monotonic() - started,
        coding_lengths=curve,
    )


def stored_clusters(catalog: Catalog) -> list[ClusterInfo]:
    """The clusters of the current clustering, largest first, then "Other" (if it has photos)."""
    rows = catalog.execute(
        "SELECT m.cluster, m.photo_id FROM cluster_members m JOIN clusterings c ON c.id = m.clustering_id"
        " ORDER BY m.cluster, m.photo_id"
    ).fetchall()
    members: dict[int, list[int]] = {}
    for cluster, photo_id in rows:
        members.setdefault(cluster, []).append(photo_id)
    names = {
        r[0]: r[1:]
        for r in catalog.execute(
            "SELECT n.cluster, n.name, n.confidence, n.generic, n.date_from, n.date_to, n.alternatives"
            " FROM cluster_names n JOIN clusterings c ON c.id = n.clustering_id"
        )
    }
    clusters = []
    for c, m in members.items():
        if c < 0:
            continue
        if c in names:
            name, confidence, generic, date_from, date_to, alternatives = names[c]
            clusters.append(
                ClusterInfo(
                    c, len(m), m, name, confidence, bool(generic), date_from, date_to, tuple(json.loads(alternatives))
                )
            )
        else:
            clusters.append(ClusterInfo(c, len(m), m))
    clusters.sort(key=lambda info: (-info.size, info.id))
    if -1 in members:
        clusters.append(ClusterInfo(None, len(members[-1]), members[-1]))
    return clusters


def stored_estimator(catalog: Catalog) -> CPPClusterer | None:
    """The fitted estimator of the current clustering (for out-of-sample assignment), if any."""
    row = catalog.execute("SELECT estimator FROM clusterings ORDER BY id DESC LIMIT 1").fetchone()
    if row is None:
        return None
    import torch

    # The catalog is the user's own data written by PhotoAtlas; map to CPU so a clustering fitted on a
    # GPU still loads on a machine without one.
    return torch.load(io.BytesIO(row[0]), map_location="cpu", weights_only=False)


def serialise_estimator(estimator: CPPClusterer) -> bytes:
    import torch

    buffer = io.BytesIO()
    torch.save(estimator, buffer)
    return buffer.getvalue()
