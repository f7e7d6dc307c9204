"""Computing the library's stacks after indexing: read what the rules need, apply them, store the result.

The machine's stacks are recomputed whole (they are cheap next to indexing) and replace the old ones; the
user's decisions (a stack taken apart, a chosen cover) live in their own table and are applied by the rules
on every run, so a recompute never overrides them.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from engine.catalog import Catalog, PhotoRow
from engine.catalog.stacks import NewStack
from engine.media.thumbnails import ThumbnailCache
from engine.progress import ProgressReporter, check_cancelled, ensure_progress
from engine.stacks.rules import DUPLICATE, Photo, StackRules, find_stacks
from engine.stacks.signature import SIGNATURE_DIM, signature_and_sharpness

# Kinds of item that can be stacked: a video is never a frame of a burst nor compared with stills.
STACKABLE_KINDS = frozenset({"photo", "raw", "live"})
# Catalog meta: the rules' version and the photos' state the stored stacks were computed from; a new version
# (bump it when the rules change) stacks every library anew once, even when no photo changed.
META_STACKS = "stacks_computed_from"
STACKS_RULES_VERSION = "1"


def _computed_from(catalog: Catalog, model_id: int | None) -> str:
    return f"{STACKS_RULES_VERSION}|{catalog.photos_state(model_id)}"


def stacks_current(catalog: Catalog, model_id: int | None) -> bool:
    """Whether the stored stacks were computed by these rules from the photos and embeddings as they are now."""
    return catalog.get_meta(META_STACKS) == _computed_from(catalog, model_id)


@dataclass
class StackSummary:
    """What a recompute found."""

    stacks: int = 0
    bursts: int = 0
    duplicates: int = 0
    photos_folded: int = 0  # photos hidden behind a cover
    seconds: float = 0.0
    changed: bool = False  # a stack appeared, went, or changed its photos or cover

    def lines(self) -> list[str]:
        return [
            f"{self.stacks} stacks ({self.bursts} bursts, {self.duplicates} sets of copies);"
            f" {self.photos_folded} photos folded behind their covers; {self.seconds:.1f} s"
        ]


def taken_seconds(value: str | None) -> float | None:
    """A catalog capture time as seconds; a time without a zone is read as UTC (only differences matter)."""
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()


def update_stacks(
    catalog: Catalog,
    model_id: int | None,
    thumbnails: ThumbnailCache,
    progress: ProgressReporter | None = None,
    rules: StackRules | None = None,
) -> StackSummary:
    """Recompute every stack of the library and store them (one transaction)."""
    started = time.monotonic()
    progress = ensure_progress(progress)
    rows = [r for r in catalog.photos(model_id) if r.kind in STACKABLE_KINDS]
    by_hash: dict[str, list[PhotoRow]] = {}
    for row in rows:
        by_hash.setdefault(row.hash, []).append(row)
    apart, covers = catalog.stacks.choices()

    groups = []
    if model_id is not None:
        ids, vectors = catalog.embeddings(model_id)
        id_hash = {r.id: r.hash for r in rows}
        position: dict[str, int] = {}
        for i, photo_id in enumerate(ids.tolist()):
            h = id_hash.get(photo_id)
            if h is not None and h not in position:
                position[h] = i
        hashes = list(position)
        features = _features(catalog, thumbnails, hashes, progress)
        photos = [_photo(h, by_hash[h], features[h][1]) for h in hashes]
        clip = vectors[[position[h] for h in hashes]] if hashes else np.zeros((0, 1), dtype=np.float32)
        signatures = (
            np.stack([features[h][0] for h in hashes]) if hashes else np.zeros((0, SIGNATURE_DIM), dtype=np.float32)
        )
        check_cancelled(progress)
        progress.phase("Finding bursts and duplicates")
        groups = find_stacks(photos, clip, signatures, rules, apart, covers)
    new = [NewStack(g.kind, g.cover, dict(g.copies)) for g in groups]
    stacked = {h for g in groups for h in g.members}
    # Exact copies: several files with one content. The content is one photo to the rest of the engine; the
    # stack folds its files into one tile.
    for hash_, files in by_hash.items():
        if len(files) > 1 and hash_ not in stacked and hash_ not in apart:
            new.append(NewStack(DUPLICATE, hash_, {hash_: 0}))
    check_cancelled(progress)
    before = _shape(catalog)
    with catalog.transaction():
        catalog.stacks.replace(new)
        catalog.set_meta(META_STACKS, _computed_from(catalog, model_id))
    kinds = Counter(s.kind for s in new)
    files = sum(len(by_hash[h]) for s in new for h in s.copies)
    seconds = time.monotonic() - started
    return StackSummary(
        len(new), kinds["burst"], kinds[DUPLICATE], files - len(new), seconds, _shape(catalog) != before
    )


def _shape(catalog: Catalog) -> tuple[dict[str, int], dict[int, str]]:
    """What a user sees of the stacks: which content is in which stack, and each stack's cover."""
    return catalog.stacks.stack_of_hash(), catalog.stacks.covers()


def _photo(hash_: str, files: list[PhotoRow], sharpness: float) -> Photo:
    largest = max(files, key=lambda r: r.width * r.height)
    return Photo(
        hash_,
        taken_seconds(min((r.taken_at for r in files if r.taken_at), default=None)),
        largest.width * largest.height,
        largest.width / max(largest.height, 1),
        sharpness,
    )


def _features(
    catalog: Catalog, thumbnails: ThumbnailCache, hashes: list[str], progress: ProgressReporter
) -> dict[str, tuple[np.ndarray, float]]:
    """Signature and sharpness of every content, reading only the thumbnails not read before."""
    known = catalog.stacks.features(hashes)
    missing = [h for h in hashes if h not in known]
    if missing:
        progress.phase("Reading thumbnails for stacks", len(missing))
    batch: list[tuple[str, np.ndarray, float]] = []
    for hash_ in missing:
        jpeg = thumbnails.read(hash_)
        if jpeg is None:  # no thumbnail (it could not be made): a signature that matches nothing
            known[hash_] = (np.zeros(SIGNATURE_DIM, dtype=np.float32), 0.0)
            continue
        try:
            signature, sharpness = signature_and_sharpness(jpeg)
        except OSError:  # a damaged thumbnail file: the same as none, and read again next time
            known[hash_] = (np.zeros(SIGNATURE_DIM, dtype=np.float32), 0.0)
            continue
        known[hash_] = (signature, sharpness)
        batch.append((hash_, signature, sharpness))
        progress.advance()
        if len(batch) >= 500:
            catalog.stacks.put_features(batch)
            batch = []
            check_cancelled(progress)
    if batch:
        catalog.stacks.put_features(batch)
    return known
