"""Re-clustering with memory: match fresh clusters to existing albums without undoing the user's decisions.

Pure functions on plain data, so every rule can be tested without a model or a catalog. Rules:
- a photo the user placed (source 'user') stays where it is, and so does every photo of a user's album (one
  the user named, merged into, created or pinned): the machine never takes a photo out of it;
- fresh clusters are matched one-to-one to the machine's albums by overlap with an optimal assignment
  (Hungarian); a match needs most of the album's or most of the cluster's photos in common;
- an unmatched cluster that lies mostly inside a user's album (not pinned) joins it: its other photos are
  added there (the merge stays merged, the named album grows); any other unmatched cluster becomes a new album;
- a machine's album left with no photos is retired (an empty album is no use in the sidebar; undo brings it
  back); a user's album is never retired, even empty.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

# A match keeps the album's identity when more than this share of the album, or of the cluster, is shared.
MATCH_SHARE = 0.5


@dataclass(frozen=True)
class AlbumState:
    """What reconciliation needs to know about an existing live album."""

    pinned: bool = False
    merged: bool = False
    user_named: bool = False
    user_owned: bool = False  # named, merged into, created or pinned by the user

    @property
    def is_users(self) -> bool:
        return self.user_owned or self.pinned or self.merged or self.user_named

    @property
    def is_home(self) -> bool:
        """A user's album that may grow: unmatched clusters mostly inside it join it."""
        return self.is_users and not self.pinned


@dataclass
class ReconcilePlan:
    """Where everything goes. Album keys are existing ids (int) or new albums ("new", cluster label)."""

    cluster_album: dict[int, int | tuple[str, int]] = field(default_factory=dict)
    placements: dict[str, int | tuple[str, int] | None] = field(default_factory=dict)  # auto placements
    retire: list[int] = field(default_factory=list)
    new_albums: list[tuple[str, int]] = field(default_factory=list)


def plan_reconcile(
    labels: dict[str, int],
    members: dict[str, tuple[int | None, str]],
    albums: dict[int, AlbumState],
    known: dict[int, int] | None = None,
) -> ReconcilePlan:
    """Plan a re-cluster.

    Args:
        labels: content hash → fresh cluster label (−1 for "Other") of every clustered photo.
        members: content hash → (album id or None for "Other", source 'user' | 'auto') as stored now.
        albums: the live albums.
        known: clusters whose album is known already (refinement learns the albums themselves as its
            classes); a pinned or retired album there is ignored and the cluster is matched as usual.

    Returns:
        The plan: cluster → album, the machine's new placement of every non-fixed clustered photo (None
        = "Other"), the albums to retire and the new albums to create.
    """
    fixed = {
        h for h, (album, source) in members.items() if source == "user" or (album in albums and albums[album].is_users)
    }
    clusters: dict[int, set[str]] = {}
    for h, label in labels.items():
        if label >= 0:
            clusters.setdefault(label, set()).add(h)
    candidates = sorted(a for a, state in albums.items() if not state.is_users)
    album_members: dict[int, set[str]] = {a: set() for a in candidates}
    for h, (album, _) in members.items():
        if album in album_members:
            album_members[album].add(h)

    plan = ReconcilePlan()
    plan.cluster_album.update(
        {c: a for c, a in (known or {}).items() if c in clusters and a in albums and not albums[a].pinned}
    )
    cluster_ids = sorted(clusters)
    free = [c for c in cluster_ids if c not in plan.cluster_album]
    taken = set(plan.cluster_album.values())
    matched = _match(free, clusters, [a for a in candidates if a not in taken], album_members)
    plan.cluster_album.update(matched)
    for c in cluster_ids:
        if c in plan.cluster_album:
            continue
        home = _merged_home(clusters[c], members, albums)
        if home is not None:
            plan.cluster_album[c] = home
        else:
            key = ("new", c)
            plan.cluster_album[c] = key
            plan.new_albums.append(key)

    for h, label in labels.items():
        if h in fixed:
            continue
        plan.placements[h] = plan.cluster_album[label] if label >= 0 else None

    # Sizes after the plan, to retire albums left empty.
    final: Counter[int | tuple[str, int] | None] = Counter()
    for h, (album, _) in members.items():
        if h in fixed or h not in labels:
            final[album] += 1  # kept as is (fixed, or not clustered this time)
    for target in plan.placements.values():
        final[target] += 1
    plan.retire = [a for a in candidates if final[a] == 0]
    plan.new_albums = [key for key in plan.new_albums if final[key] > 0]
    return plan


def _match(
    cluster_ids: list[int],
    clusters: dict[int, set[str]],
    candidates: list[int],
    album_members: dict[int, set[str]],
) -> dict[int, int | tuple[str, int]]:
    """Optimal one-to-one matching of clusters to albums by overlap (Hungarian), keeping real matches only."""
    from engine.cluster.matching import max_value_matching

    if not cluster_ids or not candidates:
        return {}
    overlap = np.zeros((len(cluster_ids), len(candidates)), dtype=np.float64)
    for i, c in enumerate(cluster_ids):
        for j, a in enumerate(candidates):
            shared = len(clusters[c] & album_members[a])
            if shared and (shared > MATCH_SHARE * len(album_members[a]) or shared > MATCH_SHARE * len(clusters[c])):
                overlap[i, j] = shared
    rows, cols = max_value_matching(overlap)
    return {cluster_ids[i]: candidates[j] for i, j in zip(rows, cols, strict=True) if overlap[i, j] > 0}


def _merged_home(
    cluster: set[str], members: dict[str, tuple[int | None, str]], albums: dict[int, AlbumState]
) -> int | None:
    """The merged or user-named album holding most of this cluster's photos, if it holds more than half."""
    counts = Counter(members[h][0] for h in cluster if h in members)
    for album, count in counts.most_common(1):
        if album in albums and albums[album].is_home and count > 0.5 * len(cluster):
            return album
    return None
