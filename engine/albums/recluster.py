"""The re-cluster verb: fit fresh clusters, reconcile them with the albums, name, and commit all at once.

Everything slow (training, naming) happens before the one transaction that writes the new clustering,
the album changes and the names; a crash or a cancel at any earlier point leaves the previous albums
exactly as they were.
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from engine.albums.clusters import album_counts, serialise_estimator, stored_estimator
from engine.albums.reconcile import AlbumState, ReconcilePlan, plan_reconcile
from engine.catalog import Catalog
from engine.errors import InvalidInputError
from engine.naming.album_names import album_names, write_album_names
from engine.progress import ProgressReporter, check_cancelled, ensure_progress
from engine.stacks.fold import representatives

if TYPE_CHECKING:
    from engine.cluster import CPPClusterer
    from engine.distributed.remote_fit import RemoteFit

AlbumKey = int | tuple[str, int] | None
# Which photos the stored estimator was fitted on (a digest of the representatives' hashes, in order).
META_FITTED = "clustering_fitted"


@dataclass
class ReclusterSummary:
    """What a re-cluster changed."""

    photos: int
    k: int
    chosen: bool
    albums: int  # clusters kept as albums; fewer than k when small or diffuse ones go to Other
    created: list[int] = field(default_factory=list)
    grown: dict[int, int] = field(default_factory=dict)  # album → photos gained
    shrunk: dict[int, int] = field(default_factory=dict)  # album → photos lost
    retired: list[int] = field(default_factory=list)
    other: int = 0
    kept_decisions: int = 0
    seconds: float = 0.0
    naming: str = ""
    coding_lengths: dict[int, float] = field(default_factory=dict)
    refined: list[str] = field(default_factory=list)  # what DAC refinement did, when the setting ran it
    changes: list[str] = field(default_factory=list)  # what changed, album by album, in sentences
    names_pending: bool = False  # committed with provisional names; naming follows as its own step

    def lines(self) -> list[str]:
        how = "chosen automatically" if self.chosen else "as requested"
        dissolved = self.k - self.albums
        kept = (
            f": {self.albums} album{'s' * (self.albums != 1)}, and the photos of {dissolved} more"
            f" group{'s' * (dissolved != 1)} fit no album and wait in Other"
            if dissolved > 0
            else ""
        )
        out = [
            f"{self.photos} photos → {self.k} clusters ({how}){kept}; {self.seconds:.1f} s",
            f"albums: {len(self.created)} created, {len(self.grown)} grown, {len(self.shrunk)} shrunk,"
            f" {len(self.retired)} retired; {self.other} photos in Other;"
            f" {self.kept_decisions} placements of yours kept",
        ]
        if self.naming:
            out.append(self.naming)
        return out + self.changes + self.refined


@dataclass(frozen=True)
class Naming:
    """How to name albums: the candidates' text features and names, or None to keep provisional names."""

    text_features: np.ndarray
    names: list[str]
    generic: tuple[str, ...]
    version: str


def choose_k(catalog: Catalog, k: int | None, more: bool, fewer: bool) -> int | None:
    """The k to use: given, or the next-best k on the stored curve among those that make more / fewer albums
    than the current one (a k can make fewer albums than k: its small and diffuse clusters go to Other)."""
    if k is not None:
        if k < 1:
            raise InvalidInputError("the number of albums must be at least 1")
        return k
    if not (more or fewer):
        return None
    clustering = catalog.clusterings.current()
    if clustering is None:
        raise InvalidInputError("no clustering yet: run photoatlas recluster first")
    counts = album_counts(catalog)
    picked = next_k(clustering.coding_lengths, clustering.k, counts, more)
    if picked is None:
        now = counts.get(clustering.k, clustering.k)
        raise InvalidInputError(f"there is no {'larger' if more else 'smaller'} number of albums than {now} to try")
    return picked


def next_k(curve: dict[int, float], current: int, counts: dict[int, int], more: bool) -> int | None:
    """Among the ks of `curve` that make more (or fewer) albums than `current` (`counts`: k → albums, k where
    missing), the one of lowest coding length, the nearest on a tie; None when there is none."""
    now = counts.get(current, current)
    side = [key for key in curve if (counts.get(key, key) > now if more else counts.get(key, key) < now)]
    return min(side, key=lambda key: (curve[key], abs(key - current))) if side else None


def recluster(
    catalog: Catalog,
    model_id: int,
    k: int | None,
    device: str,
    naming: Naming | None,
    progress: ProgressReporter | None = None,
    description: str = "Re-cluster",
    remote: RemoteFit | None = None,
) -> ReclusterSummary:
    """Cluster the embedded photos and reconcile the albums with the result (see engine.albums.reconcile);
    one action in the history, worded by `description`. With `remote`, the fit runs on a compute cluster."""

    started = time.monotonic()
    progress = ensure_progress(progress)
    photos = library_features(catalog, model_id)
    if k is not None and k > len(photos.unique):
        raise InvalidInputError(f"cannot make {k} albums from {len(photos.unique)} distinct photos")

    # A stack (a burst, copies of one picture) is fitted once, on its representative; its members follow.
    representative = representatives(catalog, photos.unique)
    fitted = list(dict.fromkeys(representative[h] for h in photos.unique))
    estimator = _reuse_for_k(catalog, photos.unique, k, fitted)
    if estimator is None:
        row = {h: i for i, h in enumerate(photos.unique)}
        x = photos.x if len(fitted) == len(photos.unique) else photos.x[[row[h] for h in fitted]]
        estimator, curve = remote.fit(_fit, x, k, progress) if remote is not None else _fit(x, k, device, progress)
    else:
        curve = {int(key): float(v) for key, v in estimator.coding_lengths_.items()}
    check_cancelled(progress)
    fitted_labels = {h: int(label) for h, label in zip(fitted, estimator.labels_, strict=True)}
    labels = {h: fitted_labels[representative[h]] for h in photos.unique}
    return commit_clustering(
        catalog,
        model_id,
        photos,
        labels,
        estimator,
        k,
        curve,
        naming,
        progress,
        started,
        ("recluster", description),
        fitted=_digest(fitted),
    )


def _fit(x: np.ndarray, k: int | None, device: str, progress: ProgressReporter) -> tuple[Any, dict[int, float]]:
    """A fresh fit for k albums and the coding-length curve to keep: the whole curve, so that "more / fewer
    albums" works from any state. A k the curve cannot read out (beyond the fitted grid) is fitted on its own,
    and the curve kept is the whole one with that k added."""
    from engine.cluster import CPPClusterer

    estimator = CPPClusterer(n_clusters=None, random_state=0, device=device).fit(x, progress=progress)
    curve = {int(key): float(v) for key, v in estimator.coding_lengths_.items()}
    if k is None or k == estimator.n_clusters_:
        return estimator, curve
    try:
        estimator.use_k(k)
    except InvalidInputError:
        estimator = CPPClusterer(n_clusters=k, random_state=0, device=device).fit(x, progress=progress)
        curve.update({int(key): float(v) for key, v in estimator.coding_lengths_.items()})
    return estimator, curve


@dataclass(frozen=True)
class LibraryFeatures:
    """The embedded photos: every photo's id and hash, and one feature row per distinct content."""

    photo_ids: np.ndarray
    hashes: list[str]  # aligned with photo_ids
    unique: list[str]  # distinct hashes, in first-seen order
    x: np.ndarray  # (len(unique), D)


def library_features(catalog: Catalog, model_id: int) -> LibraryFeatures:
    """The features to cluster; copies share a hash and an embedding, so each content is clustered once."""
    photo_ids, features = catalog.embeddings(model_id)
    if len(photo_ids) == 0:
        raise InvalidInputError("no embedded photos to cluster: run photoatlas index first")
    hashes = _hashes(catalog, photo_ids)
    unique = list(dict.fromkeys(hashes))
    first = {h: i for i, h in reversed(list(enumerate(hashes)))}
    return LibraryFeatures(photo_ids, hashes, unique, features[[first[h] for h in unique]])


def live_placements(catalog: Catalog) -> tuple[dict[str, tuple[int | None, str]], dict[int, AlbumState]]:
    """Where every placed photo is now (hash → (album or None for Other, source)), and the live albums."""
    albums = {
        a: AlbumState(f.pinned, f.merged, f.user_named, f.user_owned) for a, f in catalog.albums.live_states().items()
    }
    return catalog.albums.placements(), albums


def commit_clustering(
    catalog: Catalog,
    model_id: int,
    photos: LibraryFeatures,
    labels: dict[str, int],
    estimator: Any,
    requested_k: int | None,
    curve: dict[int, float],
    naming: Naming | None,
    progress: ProgressReporter,
    started: float,
    action: tuple[str, str] = ("recluster", "Re-cluster"),
    known: dict[int, int] | None = None,
    fitted: str | None = None,
) -> ReclusterSummary:
    """Reconcile fresh cluster labels (hash → cluster, −1 for Other) with the albums, name them, and write
    the clustering, the album changes and the names in one transaction.

    `estimator` is stored for assigning new photos (it needs `predict_with_confidence` and
    `training_confidence`); `curve` is the coding-length curve that "more / fewer albums" walks; `fitted` is
    the digest of the photos the estimator was fitted on (one per stack), kept with it.
    """
    unique, x = photos.unique, photos.x
    members, albums = live_placements(catalog)
    # Placements of deleted photos are kept for their return, but they hold no album open.
    present = set(catalog.hashes_by_id().values())
    plan = plan_reconcile(labels, {h: m for h, m in members.items() if h in present}, albums, known)
    final = _final_placement(members, plan)
    live = {key: target for key, target in final.items() if target not in plan.retire}
    names = album_names(catalog, live, unique, x, naming.text_features, naming.names, naming.generic) if naming else {}
    check_cancelled(progress)

    summary = ReclusterSummary(
        photos=len(unique),
        k=int(estimator.n_clusters_),
        chosen=requested_k is None,
        albums=len(set(labels.values()) - {-1}),
        coding_lengths=dict(curve),
    )
    blob = serialise_estimator(estimator)
    names_before = catalog.albums.live_names()
    with catalog.albums.action(*action):
        ids: dict[AlbumKey, int | None] = {None: None}
        ids.update({a: a for a in albums})
        taken = {name.casefold() for name in names_before.values()}
        for key in plan.new_albums:
            ids[key] = catalog.albums.create(_provisional_name(taken))
            summary.created.append(ids[key])
        before = {a: 0 for a in albums}
        for album, _ in members.values():
            if album in before:
                before[album] += 1
        for h, target in plan.placements.items():
            catalog.albums.machine_place(h, ids[target])
        catalog.albums.retire(plan.retire)
        summary.retired = list(plan.retire)
        write_album_names(catalog, {ids[key]: n for key, n in names.items() if ids.get(key) is not None})
        _refresh_covers(catalog, x, unique)
        feeds = {c: album for c, key in plan.cluster_album.items() if (album := ids.get(key)) is not None}
        _store_clustering(catalog, model_id, requested_k, estimator, curve, blob, photos, labels, feeds)
        catalog.set_meta(META_FITTED, fitted or "")  # in the same transaction: all of it, or none
        after = catalog.albums.sizes()
    for album, count in before.items():
        if album in plan.retire:
            continue
        delta = after.get(album, 0) - count
        if delta > 0:
            summary.grown[album] = delta
        elif delta < 0:
            summary.shrunk[album] = -delta
    summary.other = sum(1 for target in final.values() if target is None)
    summary.kept_decisions = sum(1 for h, (_, source) in members.items() if source == "user" and h in labels)
    summary.changes = change_lines(catalog, members, summary.created, summary.retired, names_before)
    summary.seconds = time.monotonic() - started
    if naming is None:
        summary.naming = "albums are not named: the model is unavailable (run photoatlas name later)"
    return summary


MAX_CHANGE_LINES = 8


def change_lines(
    catalog: Catalog,
    before: dict[str, tuple[int | None, str]],
    created: list[int],
    retired: list[int],
    names_before: dict[int, str],
) -> list[str]:
    """What an action did to the albums, by name: "“Beach · Jul 2023”: +12 photos, −3", "2 new albums: …",
    "Your 5 albums are unchanged".

    An album the action renamed (an automatic name that now fits another album's photos better) is named as
    the user knew it, "“Beach” is now “Dunes · Jul 2023”: +4 photos, −9": otherwise a new album could appear
    under the name an album had a moment ago, with nothing to say where that album went.
    """
    from engine.albums.store import AlbumStore

    after = {h: album for h, (album, _) in catalog.albums.placements().items()}
    was = {h: album for h, (album, _) in before.items()}
    gained: Counter[int] = Counter()
    lost: Counter[int] = Counter()
    for h in set(was) | set(after):
        old, new = was.get(h), after.get(h)
        if old != new:
            if new is not None:
                gained[new] += 1
            if old is not None:
                lost[old] += 1
    titles = {a.id: a.title for a in AlbumStore(catalog).albums() if a.id is not None}
    owned = {a for a, flags in catalog.albums.live_states().items() if flags.user_owned}
    names_now = catalog.albums.live_names()
    renamed = {a: old for a, old in names_before.items() if names_now.get(a, old) != old}
    lines = []
    if created:
        names = ", ".join(f"“{titles[a]}”" for a in created if a in titles)
        lines.append(f"{len(created)} new album{'s' * (len(created) != 1)}: {names}")
    changed = [a for a in titles if a not in created and (gained[a] or lost[a] or a in renamed)]
    changed.sort(key=lambda a: -(gained[a] + lost[a]))
    for album in changed[:MAX_CHANGE_LINES]:
        parts = [f"+{gained[album]} photo{'s' * (gained[album] != 1)}"] if gained[album] else []
        parts += [f"−{lost[album]}"] if lost[album] else []
        known = f"“{renamed[album]}” is now “{titles[album]}”" if album in renamed else f"“{titles[album]}”"
        lines.append(f"{known}: {', '.join(parts)}" if parts else known)
    if len(changed) > MAX_CHANGE_LINES:
        lines.append(f"and {len(changed) - MAX_CHANGE_LINES} more albums changed")
    if retired:
        # Where each emptied album's photos are now, in one pass over the library (None: Other).
        went: dict[int, Counter[int | None]] = {a: Counter() for a in retired}
        for h, old in was.items():
            if old in went:
                went[old][after.get(h) if after.get(h) in titles else None] += 1
        names = ", ".join(
            f"“{catalog.albums.fields(a, ['name'])['name']}”{_where_photos_went(went[a], titles)}" for a in retired
        )
        lines.append(f"{len(retired)} album{'s' * (len(retired) != 1)} emptied and removed: {names}")
    steady = [a for a in owned if a in titles and not (gained[a] or lost[a])]
    if steady:
        lines.append(f"Your {len(steady)} album{'s' * (len(steady) != 1)} kept every photo")
    return lines


def _where_photos_went(went: Counter[int | None], titles: dict[int, str]) -> str:
    """Where an emptied album's photos went (`went`: live album, or None for Other → how many), as the user can
    find them: " (into “Beach · Jul 2023”)", " (mostly into …)", " (into Other)", " (spread over 3 albums and
    Other)"; "" when it held none.

    Without it an emptied album's name can seem to vanish while another album takes it: two alike albums
    merged, and the merged album's automatic name is the emptied one's.
    """
    if not went:
        return ""
    (target, count), total = went.most_common(1)[0], sum(went.values())
    place = f"“{titles[target]}”" if target is not None else "Other"
    if count == total:
        return f" (into {place})"
    if 2 * count > total:
        return f" (mostly into {place})"
    albums = [t for t in went if t is not None]
    if len(albums) == 1:
        return f" (into “{titles[albums[0]]}” and Other)"
    return f" (spread over {len(albums)} albums{' and Other' * (None in went)})"


def _provisional_name(taken: set[str]) -> str:
    """A name for a new album until naming runs, distinct from every live album's (and then taken)."""
    number = 1
    while f"album {number}" in taken:
        number += 1
    taken.add(f"album {number}")
    return f"Album {number}"


def _hashes(catalog: Catalog, photo_ids: np.ndarray) -> list[str]:
    by_id = catalog.hashes_by_id()
    return [by_id[int(i)] for i in photo_ids]


def _digest(hashes: list[str]) -> str:
    return hashlib.blake2b("\n".join(hashes).encode(), digest_size=16).hexdigest()


def _reuse_for_k(
    catalog: Catalog, unique: list[str], k: int | None, fitted: list[str] | None = None
) -> CPPClusterer | None:
    """The stored estimator switched to k, when it was fitted on exactly these photos (`fitted`: the
    representatives of the stacks and the unstacked photos, in order): "more / fewer albums" then needs no
    retraining."""
    if k is None:
        return None
    if fitted is not None and fitted != unique and catalog.get_meta(META_FITTED) != _digest(fitted):
        return None
    clustering = catalog.clusterings.current()
    if clustering is None:
        return None
    stored = catalog.clusterings.member_hashes(clustering.id)
    if set(stored) != set(unique):
        return None
    estimator = stored_estimator(catalog)
    if estimator is None or not hasattr(estimator, "use_k"):  # a refined clustering (DAC) has no k curve
        return None
    if len(estimator.labels_) != len(fitted or unique) or k not in estimator.coding_lengths_:
        return None
    # The stored labels follow the stored row order; re-fit when that order is not ours.
    order = list(dict.fromkeys(stored))
    if order != unique:
        return None
    estimator.use_k(k)
    return estimator


def _final_placement(members: dict[str, tuple[int | None, str]], plan: ReconcilePlan) -> dict[str, AlbumKey]:
    final: dict[str, AlbumKey] = {h: album for h, (album, _) in members.items()}
    final.update(plan.placements)
    return final


def _refresh_covers(catalog: Catalog, x: np.ndarray, unique: list[str]) -> None:
    """Albums whose cover left them get the photo nearest their centre."""
    position = {h: i for i, h in enumerate(unique)}
    for album_id, cover in catalog.albums.covers():
        hashes = catalog.albums.member_hashes([album_id])
        if not hashes or cover in hashes:
            continue
        known = [h for h in hashes if h in position]
        if not known:
            catalog.albums.set_machine_cover(album_id, hashes[0])
            continue
        vectors = x[[position[h] for h in known]]
        centre = vectors.mean(axis=0)
        catalog.albums.set_machine_cover(album_id, known[int(np.argmax(vectors @ centre))])


def _store_clustering(
    catalog: Catalog,
    model_id: int,
    requested_k: int | None,
    estimator: Any,
    curve: dict[int, float],
    blob: tuple[bytes, str],
    photos: LibraryFeatures,
    labels: dict[str, int],
    feeds: dict[int, int],
) -> None:
    """The new clustering replaces the old, with the album each of its clusters feeds."""
    members = [(int(pid), labels[h]) for pid, h in zip(photos.photo_ids, photos.hashes, strict=True)]
    clustering_id = catalog.clusterings.replace(model_id, requested_k, int(estimator.n_clusters_), curve, blob, members)
    catalog.clusterings.link_albums(clustering_id, feeds)
