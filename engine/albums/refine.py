"""The refine verb: DAC refinement of the current albums, taught by the user's own corrections.

The current albums give k; the machine's own clustering (each cluster's album) gives the warm start; photos
the user put in one album are must-link pairs, photos the user moved apart (out of an album, to another
album or to Other) are cannot-link pairs. The user's own placements are not in the warm start (a head fitted
to them learns them by heart as exceptions); instead each move carries over to the photos the machine had
with the moved ones that look more like them than like the rest of their album (`follow_corrections`), so
the head learns the correction as a region of CLIP space, and the pairs refine its boundary. This is what
"generalising the user's corrections to similar photos" means (tests/engine/albums/test_refine.py). The labels
then go through the same reconcile-and-commit path as a re-cluster (engine.albums.recluster.commit_clustering):
user decisions (names, merges, moves, pins) are never overridden, and everything is written in one
transaction.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np

from engine.albums.recluster import Naming, ReclusterSummary, commit_clustering, library_features, live_placements
from engine.catalog import Catalog
from engine.errors import InvalidInputError
from engine.progress import ProgressReporter, check_cancelled, ensure_progress

# Must-link pairs drawn per album: a chain through the user's photos plus as many random pairs, capped, so
# a merged album of 10k photos gives 20k pairs, not 50M.
MAX_PAIRS_PER_ALBUM = 2000
# Photos of its former album that a photo the user moved away is paired against (cannot-link).
FORMER_ALBUM_PARTNERS = 8
# Other albums, and photos in each, that a photo the user placed in an album is paired against (cannot-link).
OTHER_ALBUMS = 4
OTHER_ALBUM_PARTNERS = 2
# A photo in Other joins an album only when it is as close (cosine, CLIP space) to the centre of its refined
# cluster's album photos as all but the 5 % farthest of those are: the rule new photos follow
# (engine.albums.new_photos). The head's own probabilities are ~1 on the photos it was trained on, so no use here.
CONFIDENCE_QUANTILE = 0.05
# Journal actions whose undo record tells where a photo was before the user moved it.
_MOVING_ACTIONS = ("move", "remove", "split")


@dataclass(frozen=True)
class UserConstraints:
    """The user's decisions as pairs of rows of the feature matrix."""

    must_link: np.ndarray  # (m, 2)
    cannot_link: np.ndarray  # (c, 2)


@dataclass
class RefineSummary:
    """What a refinement changed."""

    photos: int
    albums: int
    must_link: int
    cannot_link: int
    agreement_before: float  # share of the user's pairs the machine's clustering satisfied before
    agreement_after: float  # ... and the refined model's clusters satisfy
    changed: int = 0  # photos whose album changed
    albums_affected: list[int] = field(default_factory=list)
    epochs: int = 0
    seconds: float = 0.0
    recluster: ReclusterSummary | None = None

    def lines(self) -> list[str]:
        out = [
            f"refined {self.photos} photos in {self.albums} albums with DAC ({self.epochs} epochs);"
            f" {self.seconds:.1f} s",
            f"your decisions as pairs: {self.must_link} together, {self.cannot_link} apart;"
            f" the machine's clusters agreed with {self.agreement_before:.0%} of them, the refined model"
            f" agrees with {self.agreement_after:.0%}",
        ]
        out.append(f"{self.changed} photos changed album" if self.changed else "no photo changed album")
        if self.recluster is not None:
            out.append(self.recluster.lines()[1])
            out.extend(self.recluster.changes)
            if self.recluster.naming:
                out.append(self.recluster.naming)
        return out


def refine(
    catalog: Catalog,
    model_id: int,
    device: str,
    naming: Naming | None,
    progress: ProgressReporter | None = None,
    *,
    epochs: int | None = None,
    random_state: int = 0,
    finetune_blocks: int = 0,
    embedder: Any = None,
    thumbnail_dir: Path | None = None,
    **refiner_options: object,
) -> RefineSummary:
    """Refine the albums with DAC under the user's constraints, then reconcile and commit like a re-cluster.

    Args:
        epochs: curriculum epochs; None is the published schedule (46).
        finetune_blocks: also train the last blocks of CLIP's image tower (ViT; meant for a GPU), on the
            photos' cached thumbnails; needs `embedder` (the loaded model) and `thumbnail_dir`.
        refiner_options: further `DACRefiner` parameters (hidden_dim, batch_size, ...).

    Raises:
        InvalidInputError: nothing embedded, no clustering yet, or fewer than two albums to refine.
        Cancelled: the progress reporter asked to stop; nothing was written.
    """
    from engine.cluster.dac import DACRefiner, constraint_agreement

    started = time.monotonic()
    progress = ensure_progress(progress)
    photos = library_features(catalog, model_id)
    members, albums = live_placements(catalog)
    clustering = catalog.clusterings.current()
    if clustering is None:
        raise InvalidInputError("no albums yet: run photoatlas recluster first")
    position = {h: i for i, h in enumerate(photos.unique)}
    album_ids = sorted({a for h, (a, _) in members.items() if a in albums and h in position})
    if len(album_ids) < 2:
        raise InvalidInputError("refinement needs at least two albums with photos: nothing to refine")
    index_of = {a: i for i, a in enumerate(album_ids)}
    machine = _machine_labels(catalog, photos.unique)
    init = _album_numbers(catalog, machine, index_of)
    if (init >= 0).sum() < 2:  # the machine's clusters feed no live album any more: start from the albums
        init = np.array([index_of.get(members.get(h, (None, ""))[0], -1) for h in photos.unique], dtype=np.int64)
    init = follow_corrections(init, photos.x, members, index_of, position, _moved_from(catalog))
    constraints = user_constraints(catalog, members, albums, position, seed=random_state, features=photos.x)
    before = constraint_agreement(machine, constraints.must_link, constraints.cannot_link)

    k = len(album_ids)
    if finetune_blocks:
        refiner, stored = _finetuned(
            catalog, photos, k, init, constraints, finetune_blocks, embedder, thumbnail_dir, progress,
            random_state=random_state, device=device, epochs=epochs, **refiner_options,
        )  # fmt: skip
    else:
        refiner = DACRefiner(k, random_state=random_state, device=device, epochs=epochs, **refiner_options)
        refiner.fit(photos.x, init, constraints.must_link, constraints.cannot_link, progress=progress)
        stored = refiner
    check_cancelled(progress)
    refined = refiner.labels_.copy()
    in_other = np.array([members.get(h, (None, ""))[0] not in index_of for h in photos.unique])
    refined[in_other & ~_close_enough(photos.x, refined, ~in_other)] = -1
    labels = {h: int(label) for h, label in zip(photos.unique, refined, strict=True)}

    # The curve and requested k of the clustering refined, so "more / fewer albums" still walks it.
    curve = clustering.coding_lengths
    where_before = {h: a for h, (a, _) in members.items()}
    summary = commit_clustering(
        catalog,
        model_id,
        photos,
        labels,
        stored,
        clustering.requested_k,
        curve,
        naming,
        progress,
        started,
        ("refine", "Refine the albums (DAC)"),
        known=dict(enumerate(album_ids)),  # DAC's classes are the albums themselves
    )
    where_after = {h: a for h, (a, _) in live_placements(catalog)[0].items()}
    changed = [h for h in photos.unique if where_before.get(h) != where_after.get(h)]
    affected = sorted({a for h in changed for a in (where_before.get(h), where_after.get(h)) if a is not None})
    return RefineSummary(
        photos=len(photos.unique),
        albums=len(album_ids),
        must_link=len(constraints.must_link),
        cannot_link=len(constraints.cannot_link),
        agreement_before=before,
        agreement_after=refiner.constraint_agreement_[1],
        changed=len(changed),
        albums_affected=affected,
        epochs=len(refiner.history_),
        seconds=time.monotonic() - started,
        recluster=summary,
    )


def _finetuned(
    catalog: Catalog,
    photos: Any,
    k: int,
    init: np.ndarray,
    constraints: UserConstraints,
    blocks: int,
    embedder: Any,
    thumbnail_dir: Path | None,
    progress: ProgressReporter,
    **options: Any,
) -> tuple[Any, Any]:
    """DAC with the last `blocks` blocks of CLIP's image tower trained too; returns (refiner, stored model).

    New photos arrive later as stored CLIP features, not tokens, so the stored model is a head trained on
    those features to reproduce the fine-tuned labels.
    """
    from engine.cluster.dac import DACRefiner
    from engine.embed.finetune import VisualTail, batch_size_for, cache_tokens, thumbnail_pixels

    if embedder is None or thumbnail_dir is None:
        raise InvalidInputError("fine-tuning needs the CLIP model and the thumbnails: use Library.refine")
    paths = []
    for h in photos.unique:
        relpath = catalog.thumbnail_path(h)
        if relpath is None or not (Path(thumbnail_dir) / relpath).is_file():
            raise InvalidInputError("some photos have no thumbnail yet: run photoatlas index first")
        paths.append(Path(thumbnail_dir) / relpath)
    pixels = thumbnail_pixels(embedder.preprocess, paths)
    tokens = cache_tokens(embedder.model, pixels, blocks, embedder.device, progress=progress)
    tail = VisualTail(embedder.model, blocks)
    options.setdefault("batch_size", batch_size_for(embedder.device, tokens.shape[1], tokens.shape[2], blocks))
    options.setdefault("encoder_lr", 1e-5)
    refiner = DACRefiner(k, encoder=tail, **options)
    refiner.fit(tokens, init, constraints.must_link, constraints.cannot_link, progress=progress)
    check_cancelled(progress)
    head_options = {key: value for key, value in options.items() if key not in ("batch_size", "encoder_lr")}
    head_options["epochs"] = 1
    stored = DACRefiner(k, **head_options).fit(photos.x, refiner.labels_, progress=progress)
    return refiner, stored


def follow_corrections(
    init: np.ndarray,
    x: np.ndarray,
    members: dict[str, tuple[int | None, str]],
    index_of: dict[int, int],
    position: dict[str, int],
    moved: list[tuple[str, int]],
) -> np.ndarray:
    """The warm start, with the untouched look-alikes of photos the user moved sent where those went.

    When the user moves photos from album A to album S, each photo the machine put in A that is closer (in
    CLIP space) to the moved photos than to the rest of A starts in S: the head then learns the correction
    as a region of the feature space rather than as a few exceptions, and the pairs refine the boundary.
    """
    flows: dict[tuple[int, int], list[int]] = defaultdict(list)  # (from, to) album numbers → moved rows
    for h, former in moved:
        album, source = members.get(h, (None, "auto"))
        if source == "user" and h in position and former in index_of and album in index_of and album != former:
            flows[(index_of[former], index_of[album])].append(position[h])
    user_rows = {position[h] for h, (_, source) in members.items() if source == "user" and h in position}
    return carry_corrections(init, x, flows, user_rows)


def carry_corrections(
    labels: np.ndarray, x: np.ndarray, flows: dict[tuple[int, int], list[int]], user_rows: set[int]
) -> np.ndarray:
    """`labels` with, for each flow (from, to) of rows the user moved, the other rows labelled `from` that lie
    closer to the moved rows' centre than to the rest of `from` relabelled `to` (rows in `user_rows` kept)."""
    unit = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    out = labels.copy()
    for (source_album, target), rows in sorted(flows.items()):
        candidates = np.array([r for r in np.flatnonzero(labels == source_album) if r not in user_rows])
        if len(candidates) < 2:
            continue
        moved_centre = unit[rows].mean(axis=0)
        core_centre = unit[candidates].mean(axis=0)
        toward_moved = unit[candidates] @ moved_centre / max(float(np.linalg.norm(moved_centre)), 1e-12)
        toward_core = unit[candidates] @ core_centre / max(float(np.linalg.norm(core_centre)), 1e-12)
        out[candidates[toward_moved > toward_core]] = target
    return out


def _close_enough(x: np.ndarray, labels: np.ndarray, placed: np.ndarray) -> np.ndarray:
    """Which photos lie as close to their cluster's centre (of its `placed` photos) as most placed photos do."""
    unit = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    reference = placed & (labels >= 0)
    if not reference.any():
        return np.zeros(len(x), dtype=bool)
    centres = {}
    for label in np.unique(labels[reference]):
        centre = unit[reference & (labels == label)].mean(axis=0)
        centres[int(label)] = centre / max(float(np.linalg.norm(centre)), 1e-12)
    closeness = np.array(
        [float(u @ centres[int(c)]) if int(c) in centres else -1.0 for u, c in zip(unit, labels, strict=True)]
    )
    floor = float(np.quantile(closeness[reference], CONFIDENCE_QUANTILE))
    return closeness >= floor


def user_constraints(
    catalog: Catalog,
    members: dict[str, tuple[int | None, str]],
    albums: dict[int, object],
    position: dict[str, int],
    seed: int = 0,
    features: np.ndarray | None = None,
) -> UserConstraints:
    """Must-link and cannot-link pairs (rows of the feature matrix) from the user's decisions.

    Must-link: photos the user placed in the same album (moves, splits, merges) and the photos of a pinned
    album, sampled as a chain plus random pairs per album. Cannot-link: a photo the user moved away from an
    album (journal) against photos still in that album, and each photo the user placed in an album against
    a few photos of a few other albums. A photo the user sent to Other is only apart from its former album.

    With `features`, the cannot-link partners are drawn from the half of each album least like the photo:
    when the user takes four snow photos out of a "Mountains" album, they say the snow photos are not
    mountains, not that the other snow photos still in "Mountains" are different from them; pairing them
    against those would teach the opposite of the correction.
    """
    rng = np.random.default_rng(seed)
    unit = None
    if features is not None:
        unit = features / np.maximum(np.linalg.norm(features, axis=1, keepdims=True), 1e-12)

    def partners(row: int, candidates: list[int], count: int) -> np.ndarray:
        pool = np.array(candidates)
        if unit is not None and len(pool) > 1:
            similarity = unit[pool] @ unit[row]
            pool = pool[np.argsort(similarity, kind="stable")[: max(1, len(pool) // 2)]]
        return rng.choice(pool, size=min(count, len(pool)), replace=False)

    pinned = {a for a, state in albums.items() if getattr(state, "pinned", False)}
    together: dict[int, list[int]] = defaultdict(list)
    user_placed: dict[int | None, list[int]] = defaultdict(list)
    in_album: dict[int, list[int]] = defaultdict(list)
    for h, (album, source) in sorted(members.items()):
        if h not in position:
            continue
        row = position[h]
        if album is not None and album in albums:
            in_album[album].append(row)
            if source == "user" or album in pinned:
                together[album].append(row)
        if source == "user" and (album is None or album in albums):
            user_placed[album].append(row)

    must: list[tuple[int, int]] = []
    for album in sorted(together):
        must += _album_pairs(np.array(together[album]), rng)

    apart: set[tuple[int, int]] = set()
    current = {h: album for h, (album, _) in members.items()}
    for h, former in _moved_from(catalog):
        if h not in position or former not in in_album or current.get(h) == former:
            continue
        for other in partners(position[h], in_album[former], FORMER_ALBUM_PARTNERS):
            apart.add(_ordered(position[h], int(other)))
    live_albums = sorted(in_album)
    for album in sorted(a for a in user_placed if a is not None):
        for row in user_placed[album]:
            choices = [a for a in live_albums if a != album]
            for other_album in rng.permutation(choices)[:OTHER_ALBUMS]:
                for other in partners(row, in_album[int(other_album)], OTHER_ALBUM_PARTNERS):
                    apart.add(_ordered(row, int(other)))
    must_set = {_ordered(a, b) for a, b in must}
    cannot = sorted(p for p in apart if p not in must_set and p[0] != p[1])
    return UserConstraints(_pairs_array(sorted(must_set)), _pairs_array(cannot))


def _album_pairs(rows: np.ndarray, rng: np.random.Generator) -> list[tuple[int, int]]:
    """A random chain through the album's rows (connects them all) plus as many random pairs, capped."""
    if len(rows) < 2:
        return []
    order = rng.permutation(rows)
    pairs = [_ordered(int(a), int(b)) for a, b in pairwise(order)]
    budget = min(len(rows), MAX_PAIRS_PER_ALBUM - len(pairs))
    if budget > 0:
        a = rng.choice(rows, size=budget)
        b = rng.choice(rows, size=budget)
        pairs += [_ordered(int(i), int(j)) for i, j in zip(a, b, strict=True) if i != j]
    return pairs[:MAX_PAIRS_PER_ALBUM]


def _moved_from(catalog: Catalog) -> list[tuple[str, int]]:
    """(photo, album it was in) for every photo a standing user action took out of an album."""
    out = []
    for payload in catalog.albums.standing_undo_records(_MOVING_ACTIONS):
        for h, before in json.loads(payload).get("members", {}).items():
            if before is not None and before[0] is not None:
                out.append((h, int(before[0])))
    return out


def _machine_labels(catalog: Catalog, unique: list[str]) -> np.ndarray:
    """The current clustering's cluster of every photo (−1 for Other or unseen): the machine's own view,
    before the user's corrections, that the agreement figure compares the refined model with."""
    cluster = catalog.clusterings.cluster_of_hash()
    return np.array([cluster.get(h, -1) for h in unique], dtype=np.int64)


def _album_numbers(catalog: Catalog, machine: np.ndarray, index_of: dict[int, int]) -> np.ndarray:
    """The machine's clustering as album numbers 0…k−1 (each cluster's album), −1 where a cluster feeds no
    live album: the warm start."""
    feeds = catalog.clusterings.album_of_cluster()
    lookup = {c: index_of[a] for c, a in feeds.items() if a in index_of}
    return np.array([lookup.get(int(c), -1) for c in machine], dtype=np.int64)


def _ordered(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a <= b else (b, a)


def _pairs_array(pairs: list[tuple[int, int]]) -> np.ndarray:
    return np.array(pairs, dtype=np.int64).reshape(-1, 2)
