"""The clustering tables: the machine's current clustering, its members, the albums its clusters feed, and
the clusters' names.

This module is the only reader and writer of `clusterings`, `cluster_members`, `cluster_albums` and
`cluster_names`. One clustering is active, the current one (`current()` is the one way to find it); the
latest few before it are kept so that undoing a re-cluster can bring its predecessor back (`activate`).
The fitted estimator is kept as data: a safetensors blob and a JSON
description (see `engine.cluster.persist`), never a pickle.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from engine.catalog.connection import Connection

# Clusterings kept besides the active one; undoing a re-cluster older than these says it no longer can.
KEPT_CLUSTERINGS = 10


@dataclass(frozen=True)
class Clustering:
    """The current clustering: its k, the k asked for (None: chosen), the coding-length curve, and when it
    was made (seconds since the epoch)."""

    id: int
    model_id: int
    k: int
    requested_k: int | None
    coding_lengths: dict[int, float]
    created_at: float = 0.0


@dataclass(frozen=True)
class StoredClusterName:
    """A cluster's automatic name as stored."""

    cluster: int
    name: str
    confidence: float
    generic: bool
    date_from: str | None
    date_to: str | None
    alternatives: tuple[str, ...]


class ClusteringTables:
    """Owner of `clusterings`, `cluster_members`, `cluster_albums`, `cluster_names` (`catalog.clusterings`)."""

    def __init__(self, connection: Connection) -> None:
        self._c = connection

    # -- the clustering ----------------------------------------------------------------------------

    def current(self) -> Clustering | None:
        row = self._c.execute(
            "SELECT id, model_id, k, requested_k, coding_lengths, created_at FROM clusterings WHERE active=1"
            " ORDER BY id DESC LIMIT 1"
        ).fetchone()
        if row is None:
            return None
        curve = {int(key): float(value) for key, value in json.loads(row[4]).items()}
        return Clustering(int(row[0]), int(row[1]), int(row[2]), row[3], curve, float(row[5]))

    def current_id(self) -> int | None:
        row = self._c.execute("SELECT id FROM clusterings WHERE active=1 ORDER BY id DESC LIMIT 1").fetchone()
        return int(row[0]) if row else None

    def exists(self, clustering_id: int) -> bool:
        return self._c.execute("SELECT 1 FROM clusterings WHERE id=?", (clustering_id,)).fetchone() is not None

    def activate(self, clustering_id: int | None) -> None:
        """Make a kept clustering the current one again (None: no clustering is current)."""
        self._c.execute("UPDATE clusterings SET active = (id IS ?)", (clustering_id,))

    def estimator(self) -> tuple[bytes, str] | None:
        """The current clustering's fitted estimator as (safetensors blob, JSON description); None when there
        is no clustering or its estimator could not be kept (see the catalog's migrations)."""
        row = self._c.execute(
            "SELECT estimator_tensors, estimator_json FROM clusterings WHERE active=1 ORDER BY id DESC LIMIT 1"
        ).fetchone()
        if row is None or row[0] is None or row[1] is None:
            return None
        return bytes(row[0]), str(row[1])

    def estimator_description(self) -> str | None:
        """The JSON description of the current clustering's estimator, without its tensors; None as `estimator`."""
        row = self._c.execute(
            "SELECT estimator_json FROM clusterings WHERE active=1 ORDER BY id DESC LIMIT 1"
        ).fetchone()
        return None if row is None or row[0] is None else str(row[0])

    def replace(
        self,
        model_id: int,
        requested_k: int | None,
        k: int,
        coding_lengths: dict[int, float],
        estimator: tuple[bytes, str],
        members: Iterable[tuple[int, int]],
    ) -> int:
        """Make a new clustering the current one (the previous ones are kept, the latest few, for undo);
        `members` are (photo id, cluster, −1 for Other). Call inside a transaction."""
        self._c.execute("UPDATE clusterings SET active=0")
        self._c.execute(
            "DELETE FROM clusterings WHERE id NOT IN (SELECT id FROM clusterings ORDER BY id DESC LIMIT ?)",
            (KEPT_CLUSTERINGS,),
        )
        cur = self._c.execute(
            "INSERT INTO clusterings(model_id, created_at, requested_k, k, coding_lengths, estimator_tensors,"
            " estimator_json) VALUES(?,?,?,?,?,?,?)",
            (
                model_id,
                time.time(),
                requested_k,
                int(k),
                json.dumps({int(key): float(v) for key, v in coding_lengths.items()}),
                estimator[0],
                estimator[1],
            ),
        )
        clustering_id = int(cur.lastrowid)
        self._c.executemany(
            "INSERT INTO cluster_members(clustering_id, photo_id, cluster) VALUES(?,?,?)",
            [(clustering_id, int(pid), int(cluster)) for pid, cluster in members],
        )
        return clustering_id

    def legacy_estimator(self) -> tuple[int, bytes] | None:
        """A clustering's estimator as 0.1.0 pickled it, still to convert: (clustering id, pickle)."""
        row = self._c.execute("SELECT clustering_id, pickle FROM legacy_estimators LIMIT 1").fetchone()
        return (int(row[0]), bytes(row[1])) if row else None

    def settle_legacy_estimator(self, clustering_id: int, estimator: tuple[bytes, str] | None) -> None:
        """Store a converted estimator (or None: it could not be converted) and drop the pickle."""
        with self._c.transaction():
            if estimator is not None:
                self._c.execute(
                    "UPDATE clusterings SET estimator_tensors=?, estimator_json=? WHERE id=?",
                    (estimator[0], estimator[1], clustering_id),
                )
            self._c.execute("DELETE FROM legacy_estimators WHERE clustering_id=?", (clustering_id,))

    # -- members -------------------------------------------------------------------------------------

    def members(self) -> list[tuple[int, int]]:
        """(cluster, photo id) of every photo the current clustering has seen, by cluster then photo."""
        return self._c.execute(
            "SELECT m.cluster, m.photo_id FROM cluster_members m JOIN clusterings c ON c.id = m.clustering_id"
            " WHERE c.active=1 ORDER BY m.cluster, m.photo_id"
        ).fetchall()

    def member_hashes(self, clustering_id: int) -> list[str]:
        """Content hashes of the clustering's photos, in stored row order (copies repeat)."""
        rows = self._c.execute(
            "SELECT p.hash FROM cluster_members m JOIN photos p ON p.id = m.photo_id WHERE m.clustering_id=?",
            (clustering_id,),
        )
        return [r[0] for r in rows]

    def cluster_of_hash(self) -> dict[str, int]:
        """hash → cluster in the current clustering (−1 for Other)."""
        return dict(
            self._c.execute(
                "SELECT p.hash, m.cluster FROM cluster_members m JOIN photos p ON p.id = m.photo_id"
                " WHERE m.clustering_id = (SELECT id FROM clusterings WHERE active=1)"
            ).fetchall()
        )

    def cluster_hashes(self, clustering_id: int, cluster: int) -> set[str]:
        rows = self._c.execute(
            "SELECT p.hash FROM cluster_members m JOIN photos p ON p.id = m.photo_id"
            " WHERE m.clustering_id = ? AND m.cluster = ?",
            (clustering_id, cluster),
        )
        return {r[0] for r in rows}

    def member_vectors(
        self, clustering_id: int, model_id: int, *, clustered_only: bool = False
    ) -> tuple[np.ndarray, np.ndarray, list[str | None]]:
        """Cluster, CLIP feature and capture time of the clustering's embedded photos, by photo id;
        `clustered_only` leaves out the photos in Other."""
        rows = self._c.execute(
            "SELECT m.cluster, e.vector, p.taken_at FROM cluster_members m JOIN photos p ON p.id = m.photo_id"
            " JOIN embeddings e ON e.hash = p.hash AND e.model_id = ? WHERE m.clustering_id = ?"
            + (" AND m.cluster >= 0" if clustered_only else "")
            + " ORDER BY m.photo_id",
            (model_id, clustering_id),
        ).fetchall()
        if not rows:
            return np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float32), []
        clusters = np.array([r[0] for r in rows], dtype=np.int64)
        vectors = np.stack([np.frombuffer(r[1], dtype="<f4") for r in rows]).astype(np.float32)
        return clusters, vectors, [r[2] for r in rows]

    def unseen_embedded(self, clustering_id: int, model_id: int) -> list[tuple[int, str, np.ndarray]]:
        """(photo id, hash, CLIP feature) of embedded photos that no album holds and the clustering has not
        seen: the new photos to assign."""
        rows = self._c.execute(
            "SELECT p.id, p.hash, e.vector FROM photos p JOIN embeddings e ON e.hash = p.hash AND e.model_id = ?"
            " WHERE p.hash NOT IN (SELECT hash FROM album_members)"
            " AND p.hash NOT IN (SELECT p2.hash FROM cluster_members m JOIN photos p2 ON p2.id = m.photo_id"
            "  WHERE m.clustering_id = ?)",
            (model_id, clustering_id),
        ).fetchall()
        return [(r[0], r[1], np.frombuffer(r[2], dtype="<f4")) for r in rows]

    def record_seen(self, clustering_id: int, photo_id: int, cluster: int) -> None:
        """A new photo weighed by this clustering (cluster −1 when it waits in Other), so it is not weighed
        again on the next scan."""
        self._c.execute(
            "INSERT OR REPLACE INTO cluster_members(clustering_id, photo_id, cluster) VALUES(?,?,?)",
            (clustering_id, photo_id, cluster),
        )

    def clusters_of(self, photo_ids: Sequence[int]) -> dict[int, int]:
        """The current clustering's cluster of each of these photos it has weighed (−1: Other)."""
        current = self.current_id()
        if current is None or not photo_ids:
            return {}
        rows = self._c.execute(
            f"SELECT photo_id, cluster FROM cluster_members WHERE clustering_id=? AND photo_id IN"
            f" ({','.join('?' * len(photo_ids))})",
            (current, *photo_ids),
        ).fetchall()
        return {int(pid): int(cluster) for pid, cluster in rows}

    def restore_seen(self, weighed: dict[int, int]) -> None:
        """Weigh photos into the current clustering again, as `clusters_of` gave them (photos since deleted
        are skipped)."""
        current = self.current_id()
        if current is None or not weighed:
            return
        self._c.executemany(
            "INSERT OR REPLACE INTO cluster_members(clustering_id, photo_id, cluster)"
            " SELECT ?, ?, ? WHERE EXISTS (SELECT 1 FROM photos WHERE id=?)",
            [(current, pid, cluster, pid) for pid, cluster in weighed.items()],
        )

    def forget_photo(self, photo_id: int) -> None:
        """The clustering no longer knows this photo (its content changed): it is weighed again as new."""
        self._c.execute("DELETE FROM cluster_members WHERE photo_id=?", (photo_id,))

    # -- which album each cluster feeds --------------------------------------------------------------

    def link_albums(self, clustering_id: int, cluster_album: dict[int, int]) -> None:
        self._c.executemany(
            "INSERT INTO cluster_albums(clustering_id, cluster, album_id) VALUES(?,?,?)",
            [(clustering_id, c, a) for c, a in cluster_album.items()],
        )

    def album_of_cluster(self) -> dict[int, int]:
        """cluster → album it feeds, in the current clustering (the album may be retired since)."""
        return dict(
            self._c.execute(
                "SELECT cluster, album_id FROM cluster_albums"
                " WHERE clustering_id = (SELECT id FROM clusterings WHERE active=1)"
            ).fetchall()
        )

    def album_links(self, clustering_id: int) -> list[tuple[int, int, bool, bool]]:
        """(cluster, album, album retired, album pinned) for every cluster that feeds an album."""
        rows = self._c.execute(
            "SELECT ca.cluster, ca.album_id, a.retired_at IS NOT NULL, a.pinned FROM cluster_albums ca"
            " JOIN albums a ON a.id = ca.album_id WHERE ca.clustering_id = ?",
            (clustering_id,),
        )
        return [(r[0], r[1], bool(r[2]), bool(r[3])) for r in rows]

    # -- names ---------------------------------------------------------------------------------------

    def replace_names(self, clustering_id: int, names: Sequence[StoredClusterName], vocab_version: str) -> None:
        with self._c.transaction():
            self._c.execute("DELETE FROM cluster_names WHERE clustering_id=?", (clustering_id,))
            self._c.executemany(
                "INSERT INTO cluster_names(clustering_id, cluster, name, confidence, generic, date_from, date_to,"
                " alternatives, vocab_version) VALUES(?,?,?,?,?,?,?,?,?)",
                [
                    (
                        clustering_id,
                        n.cluster,
                        n.name,
                        float(n.confidence),
                        int(n.generic),
                        n.date_from,
                        n.date_to,
                        json.dumps(list(n.alternatives)),
                        vocab_version,
                    )
                    for n in names
                ],
            )

    def names(self) -> dict[int, StoredClusterName]:
        """cluster → its stored name, in the current clustering."""
        rows = self._c.execute(
            "SELECT n.cluster, n.name, n.confidence, n.generic, n.date_from, n.date_to, n.alternatives"
            " FROM cluster_names n JOIN clusterings c ON c.id = n.clustering_id WHERE c.active=1"
        )
        return {
            r[0]: StoredClusterName(r[0], r[1], r[2], bool(r[3]), r[4], r[5], tuple(json.loads(r[6]))) for r in rows
        }
