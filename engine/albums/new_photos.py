"""Incremental assignment: newly indexed photos join their best album at once, without a re-cluster."""

from __future__ import annotations

import time
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
# A re-cluster is suggested when this share of the embedded library sits in "Other".
SUGGEST_OTHER_SHARE = 0.2


@dataclass(frozen=True)
class AssignSummary:
    """What assigning new photos did."""

    assigned: int
    to_other: int
    other_share: float

    @property
    def suggest_recluster(self) -> bool:
        return self.other_share >= SUGGEST_OTHER_SHARE

    def lines(self) -> list[str]:
        if not (self.assigned or self.to_other):
            return []
        out = [f"new photos: {self.assigned} joined albums, {self.to_other} wait in Other"]
        if self.suggest_recluster:
            out.append(f"{self.other_share:.0%} of your photos are in Other: photoatlas recluster would sort them")
        return out


def assign_new_photos(catalog: Catalog, model_id: int) -> AssignSummary | None:
    """Place embedded photos the current clustering has not seen; None when there is no clustering yet."""
    row = catalog.execute("SELECT id, model_id FROM clusterings ORDER BY id DESC LIMIT 1").fetchone()
    if row is None or row[1] != model_id:
        return None
    clustering_id = int(row[0])
    new = catalog.execute(
        "SELECT p.id, p.hash, e.vector FROM photos p JOIN embeddings e ON e.hash = p.hash AND e.model_id = ?"
        " WHERE p.hash NOT IN (SELECT hash FROM album_members)"
        " AND p.hash NOT IN (SELECT p2.hash FROM cluster_members m JOIN photos p2 ON p2.id = m.photo_id"
        "  WHERE m.clustering_id = ?)",
        (model_id, clustering_id),
    ).fetchall()
    if not new:
        return AssignSummary(0, 0, _other_share(catalog, model_id))
    estimator = stored_estimator(catalog)
    if estimator is None:
        return None
    features = np.stack([np.frombuffer(r[2], dtype="<f4") for r in new]).astype(np.float32)
    labels, _ = estimator.predict_with_confidence(features)
    centres, floor = _cluster_centres(catalog, clustering_id, model_id)
    confidence = np.array(
        [
            float(f @ centres[int(label)]) if int(label) in centres else -1.0
            for f, label in zip(_unit(features), labels, strict=True)
        ]
    )
    mapped = catalog.execute(
        "SELECT ca.cluster, ca.album_id, a.retired_at IS NOT NULL, a.pinned FROM cluster_albums ca"
        " JOIN albums a ON a.id = ca.album_id WHERE ca.clustering_id = ?",
        (clustering_id,),
    ).fetchall()
    targets = {c: album for c, album, retired, pinned in mapped if not retired and not pinned}
    targets.update(_followed(catalog, clustering_id, [c for c, _, retired, _ in mapped if retired]))
    assigned = 0
    now = time.time()
    with catalog.transaction() as db:
        seen: set[str] = set()
        for (photo_id, hash_, _), label, score in zip(new, labels, confidence, strict=True):
            album = targets.get(int(label)) if label >= 0 and score >= floor else None
            # Recorded as seen by this clustering (with −1 when it waits in Other), so the next scan does
            # not weigh the same photo again.
            db.execute(
                "INSERT OR REPLACE INTO cluster_members(clustering_id, photo_id, cluster) VALUES(?,?,?)",
                (clustering_id, photo_id, int(label) if album is not None else -1),
            )
            if album is not None and hash_ not in seen:
                db.execute(
                    "INSERT OR IGNORE INTO album_members(hash, album_id, source, updated_at) VALUES(?,?,'auto',?)",
                    (hash_, album, now),
                )
                assigned += 1
            seen.add(hash_)
    return AssignSummary(assigned, len(new) - assigned, _other_share(catalog, model_id))


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)


def _cluster_centres(catalog: Catalog, clustering_id: int, model_id: int) -> tuple[dict[int, np.ndarray], float]:
    """Each cluster's centre (unit mean of its photos' CLIP features) and the closeness floor for new photos."""
    rows = catalog.execute(
        "SELECT m.cluster, e.vector FROM cluster_members m JOIN photos p ON p.id = m.photo_id"
        " JOIN embeddings e ON e.hash = p.hash AND e.model_id = ? WHERE m.clustering_id = ? AND m.cluster >= 0",
        (model_id, clustering_id),
    ).fetchall()
    if not rows:
        return {}, 1.0
    clusters = np.array([r[0] for r in rows])
    x = _unit(np.stack([np.frombuffer(r[1], dtype="<f4") for r in rows]).astype(np.float32))
    centres = {int(c): _unit(x[clusters == c].mean(axis=0)) for c in np.unique(clusters)}
    closeness = np.einsum("ij,ij->i", x, np.stack([centres[int(c)] for c in clusters]))
    return centres, float(np.quantile(closeness, CONFIDENCE_QUANTILE))


def _followed(catalog: Catalog, clustering_id: int, clusters: list[int]) -> dict[int, int]:
    """Clusters whose album is gone since the clustering (the user merged it into another): the live, unpinned
    album that now holds most of their photos, so that a merge stays merged for new photos too."""
    if not clusters:
        return {}
    open_albums = {r[0] for r in catalog.execute("SELECT id FROM albums WHERE retired_at IS NULL AND pinned = 0")}
    placed = dict(catalog.execute("SELECT hash, album_id FROM album_members").fetchall())
    out = {}
    for cluster in clusters:
        hashes = {
            r[0]
            for r in catalog.execute(
                "SELECT p.hash FROM cluster_members m JOIN photos p ON p.id = m.photo_id"
                " WHERE m.clustering_id = ? AND m.cluster = ?",
                (clustering_id, cluster),
            )
        }
        counts = Counter(placed.get(h) for h in hashes)
        best = max((a for a in counts if a in open_albums), key=lambda a: (counts[a], -a), default=None)
        if best is not None and 2 * counts[best] > len(hashes):
            out[cluster] = best
    return out


def _other_share(catalog: Catalog, model_id: int) -> float:
    total, placed = catalog.execute(
        "SELECT COUNT(DISTINCT p.hash), COUNT(DISTINCT m.hash) FROM photos p"
        " JOIN embeddings e ON e.hash = p.hash AND e.model_id = ?"
        " LEFT JOIN album_members m ON m.hash = p.hash AND m.album_id IS NOT NULL"
        " AND m.album_id IN (SELECT id FROM albums WHERE retired_at IS NULL)",
        (model_id,),
    ).fetchone()
    return 0.0 if not total else 1.0 - placed / total
