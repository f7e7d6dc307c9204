"""Incremental assignment: newly indexed photos join their best album at once, without a re-cluster."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from engine.albums.clusters import stored_estimator
from engine.catalog import Catalog

# A new photo joins an album only when it is at least as close to its cluster's centre (cosine, in CLIP
# space) as the worst-fitting 5 % of the clustered photos are to theirs; the rest wait in "Other".
# Closeness in CLIP space rather than the head's own membership score: on the photos it was trained on the
# head scores ~1.0 (it fits them), so a yardstick taken from them would turn away every new photo. On a
# toy-CLIP library (6 concepts trained, 6 unseen), this gate took 94 % of new photos of trained concepts
# and 0 % of unseen ones.
CONFIDENCE_QUANTILE = 0.05
# A re-cluster is suggested when this share of the embedded library is new since the last one and sits in
# "Other". Photos the re-cluster itself left there (diffuse clusters, algorithms.md §3.7) do not count: a
# library with many odd photos would otherwise be told to re-cluster after every scan, to no effect.
SUGGEST_OTHER_SHARE = 0.2


@dataclass(frozen=True)
class AssignSummary:
    """What assigning new photos did."""

    assigned: int
    to_other: int
    other_share: float  # new photos waiting in Other, as a share of the library

    @property
    def suggest_recluster(self) -> bool:
        return self.other_share >= SUGGEST_OTHER_SHARE

    def lines(self) -> list[str]:
        if not (self.assigned or self.to_other):
            return []
        out = [f"new photos: {self.assigned} joined albums, {self.to_other} wait in Other"]
        if self.suggest_recluster:
            out.append(
                f"{self.other_share:.0%} of your photos are new and wait in Other: photoatlas recluster would sort them"
            )
        return out


def assign_new_photos(catalog: Catalog, model_id: int) -> AssignSummary | None:
    """Place embedded photos the current clustering has not seen; None when there is no clustering yet."""
    clustering = catalog.clusterings.current()
    if clustering is None or clustering.model_id != model_id:
        return None
    clustering_id = clustering.id
    new = catalog.clusterings.unseen_embedded(clustering_id, model_id)
    if not new:
        return AssignSummary(0, 0, catalog.albums.waiting_share(model_id, clustering.created_at))
    estimator = stored_estimator(catalog)
    if estimator is None:
        return None
    features = np.stack([r[2] for r in new]).astype(np.float32)
    labels, _ = estimator.predict_with_confidence(features)
    centres, floor = _cluster_centres(catalog, clustering_id, model_id)
    confidence = np.array(
        [
            float(f @ centres[int(label)]) if int(label) in centres else -1.0
            for f, label in zip(_unit(features), labels, strict=True)
        ]
    )
    mapped = catalog.clusterings.album_links(clustering_id)
    # A pinned album takes no photo from the machine; a retired one's clusters follow where its photos went.
    targets = {c: album for c, album, retired, pinned in mapped if not retired and not pinned}
    targets.update(_followed(catalog, clustering_id, [c for c, _, retired, _ in mapped if retired]))
    assigned = 0
    with catalog.albums.action("import", "New photos joined albums") as journal:
        seen: set[str] = set()
        for (photo_id, hash_, _), label, score in zip(new, labels, confidence, strict=True):
            album = targets.get(int(label)) if label >= 0 and score >= floor else None
            # Recorded as seen by this clustering (with −1 when it waits in Other), so the next scan does
            # not weigh the same photo again.
            catalog.clusterings.record_seen(clustering_id, photo_id, int(label) if album is not None else -1)
            catalog.albums.note_seen(photo_id)
            if album is not None and hash_ not in seen:
                catalog.albums.machine_add(hash_, album)
                assigned += 1
            seen.add(hash_)
        journal.description = f"{assigned} new photo{'s' * (assigned != 1)} joined albums"
    return AssignSummary(assigned, len(new) - assigned, catalog.albums.waiting_share(model_id, clustering.created_at))


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)


def _cluster_centres(catalog: Catalog, clustering_id: int, model_id: int) -> tuple[dict[int, np.ndarray], float]:
    """Each cluster's centre (unit mean of its photos' CLIP features) and the closeness floor for new photos."""
    clusters, vectors, _ = catalog.clusterings.member_vectors(clustering_id, model_id, clustered_only=True)
    if not len(clusters):
        return {}, 1.0
    x = _unit(vectors)
    centres = {int(c): _unit(x[clusters == c].mean(axis=0)) for c in np.unique(clusters)}
    closeness = np.einsum("ij,ij->i", x, np.stack([centres[int(c)] for c in clusters]))
    return centres, float(np.quantile(closeness, CONFIDENCE_QUANTILE))


def _followed(catalog: Catalog, clustering_id: int, clusters: list[int]) -> dict[int, int]:
    """Clusters whose album is gone since the clustering (the user merged it into another): the live, unpinned
    album that now holds most of their photos, so that a merge stays merged for new photos too."""
    if not clusters:
        return {}
    open_albums = catalog.albums.open_album_ids()
    placed = catalog.albums.album_of_hash()
    out = {}
    for cluster in clusters:
        hashes = catalog.clusterings.cluster_hashes(clustering_id, cluster)
        counts = Counter(placed.get(h) for h in hashes)
        best = max((a for a in counts if a in open_albums), key=lambda a: (counts[a], -a), default=None)
        if best is not None and 2 * counts[best] > len(hashes):
            out[cluster] = best
    return out
