"""The stacking rules: which photos are one picture (duplicates) or one moment (a burst), and the cover.

Pure functions on arrays, no catalog. Two signals decide, both measured on toy bursts against distinct photos
of one concept (bench/RESULTS-stacks.md):
- CLIP cosine: what the photo shows. Alone it cannot tell a burst from another photo of the same subject (the
  toy CLIP puts distinct photos of one concept as close as 0.992, and burst frames as far as 0.76).
- The signature: the thumbnail shrunk to 16×16 colour pixels, each channel centred, normalised. Copies and
  burst frames correlate above 0.993; distinct photos of one concept at most 0.81 (their layouts differ).
A duplicate pair is very close on both, with the same aspect ratio, and not two frames of one size taken
seconds apart (those are a burst, however alike); a burst pair is close on both and taken within a few seconds
of the previous frame. Pairs join by union-find; a photo the user took out of a stack (`apart`) joins
nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

BURST = "burst"
DUPLICATE = "duplicate"


@dataclass(frozen=True)
class StackRules:
    """Thresholds, chosen on the measurements in bench/RESULTS-stacks.md.

    Attributes:
        duplicate_clip, duplicate_signature: cosine and signature correlation at or above which two photos of
            the same aspect ratio are one picture (copies measured ≥ 0.966 CLIP, ≥ 0.998 signature).
        aspect_tolerance: relative difference of width/height still "the same ratio" (rounding of a resize).
        burst_seconds: the longest gap between consecutive frames of one burst.
        burst_clip, burst_signature: cosine and correlation at or above which photos close in time are one
            moment (burst frames measured ≥ 0.76 CLIP, ≥ 0.993 signature; distinct photos of one concept
            ≤ 0.992 CLIP, ≤ 0.81 signature).
    """

    duplicate_clip: float = 0.95
    duplicate_signature: float = 0.985
    aspect_tolerance: float = 0.02
    burst_seconds: float = 5.0
    burst_clip: float = 0.70
    burst_signature: float = 0.95


@dataclass(frozen=True)
class Photo:
    """One distinct content (hash) as the rules see it.

    Attributes:
        taken: capture time in seconds (any epoch), None when unknown (never part of a burst).
        pixels: width × height of the largest file of this content.
        aspect: width / height.
        sharpness: variance of the Laplacian of the thumbnail (higher is sharper).
    """

    hash: str
    taken: float | None
    pixels: int
    aspect: float
    sharpness: float


@dataclass(frozen=True)
class Group:
    """A stack the rules found: its members (hashes), kind, cover, and which members are copies of one another.

    `copies` maps each member to the index of its copy group: members sharing an index are the same picture.
    """

    members: tuple[str, ...]
    kind: str
    cover: str
    copies: dict[str, int]


class _UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, i: int, j: int) -> None:
        a, b = self.find(i), self.find(j)
        if a != b:
            self.parent[max(a, b)] = min(a, b)


def signature_correlation(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise correlation of signatures (already centred and unit length)."""
    return np.einsum("ij,ij->i", a, b)


# Similarities computed at once in the all-pairs search: rows × photos, about 80 MB of float32.
BLOCK_ENTRIES = 20_000_000


def duplicate_pairs(
    photos: Sequence[Photo], clip: np.ndarray, signatures: np.ndarray, rules: StackRules
) -> list[tuple[int, int]]:
    """Pairs (i < j) of photos that are one picture: CLIP and signature very close, same aspect ratio.

    All pairs are compared by CLIP in chunks (n²·D multiply-adds: about a second at 10k photos); only the few
    above the CLIP threshold are checked further."""
    n = len(photos)
    chunk = max(1, min(4096, BLOCK_ENTRIES // max(n, 1)))
    aspect = np.array([p.aspect for p in photos], dtype=np.float64)
    pixels = np.array([p.pixels for p in photos], dtype=np.int64)
    taken = np.array([np.nan if p.taken is None else p.taken for p in photos], dtype=np.float64)
    out: list[tuple[int, int]] = []
    for start in range(0, n, chunk):
        block = clip[start : start + chunk] @ clip.T
        rows, cols = np.nonzero(block >= rules.duplicate_clip)
        rows = rows + start
        keep = cols > rows
        rows, cols = rows[keep], cols[keep]
        if not len(rows):
            continue
        same_ratio = np.abs(aspect[rows] - aspect[cols]) <= rules.aspect_tolerance * np.maximum(aspect[rows], 1e-9)
        rows, cols = rows[same_ratio], cols[same_ratio]
        close = signature_correlation(signatures[rows], signatures[cols]) >= rules.duplicate_signature
        rows, cols = rows[close], cols[close]
        # Burst frames look like copies (a few pixels apart); what tells them apart is that the camera took
        # them seconds apart at one size. A copy has the original's time (or none) or another size.
        frames = (pixels[rows] == pixels[cols]) & _seconds_apart(taken[rows], taken[cols], rules)
        out.extend(zip(rows[~frames].tolist(), cols[~frames].tolist(), strict=True))
    return out


def _seconds_apart(a: np.ndarray, b: np.ndarray, rules: StackRules) -> np.ndarray:
    """Both times known and between one second and `burst_seconds` apart (a burst's spacing)."""
    gap = np.abs(a - b)
    with np.errstate(invalid="ignore"):
        return (gap >= 1.0) & (gap <= rules.burst_seconds)


def burst_pairs(
    photos: Sequence[Photo], clip: np.ndarray, signatures: np.ndarray, rules: StackRules
) -> list[tuple[int, int]]:
    """Pairs of photos taken within `burst_seconds` of each other that show one moment.

    Photos are walked in time order and each is compared with those of the few seconds before it, so the cost
    grows with the photos, not their square."""
    timed = sorted((p.taken, i) for i, p in enumerate(photos) if p.taken is not None)
    out: list[tuple[int, int]] = []
    lo = 0
    for hi, (t, j) in enumerate(timed):
        while timed[lo][0] < t - rules.burst_seconds:
            lo += 1
        for _, i in timed[lo:hi]:
            if (
                float(clip[i] @ clip[j]) >= rules.burst_clip
                and float(signatures[i] @ signatures[j]) >= rules.burst_signature
            ):
                out.append((min(i, j), max(i, j)))
    return out


def cover_of(photos: Sequence[Photo], members: Iterable[int]) -> int:
    """The best frame: the largest, then the sharpest, then the earliest (a stable tie-break)."""
    return max(
        members, key=lambda i: (photos[i].pixels, photos[i].sharpness, -(photos[i].taken or 0.0), photos[i].hash)
    )


def find_stacks(
    photos: Sequence[Photo],
    clip: np.ndarray,
    signatures: np.ndarray,
    rules: StackRules | None = None,
    apart: Iterable[str] = (),
    covers: dict[str, float] | None = None,
) -> list[Group]:
    """Group photos into stacks; every group has two contents or more.

    Args:
        photos: distinct contents, rows aligned with `clip` (L2-normalised) and `signatures`.
        apart: hashes the user took out of a stack: they join no stack.
        covers: hashes the user chose as covers, with when; the latest chosen one in a group is its cover.
    """
    rules = rules or StackRules()
    apart = set(apart)
    covers = covers or {}
    n = len(photos)
    if n == 0:
        return []
    duplicates = duplicate_pairs(photos, clip, signatures, rules)
    bursts = burst_pairs(photos, clip, signatures, rules)
    stacks, copies = _UnionFind(n), _UnionFind(n)
    blocked = {i for i, p in enumerate(photos) if p.hash in apart}
    members_of: dict[int, list[int]] = {i: [i] for i in range(n)}

    def frames(i: int, j: int) -> bool:  # two frames of one burst, never copies of each other
        a, b = photos[i].taken, photos[j].taken
        return (
            photos[i].pixels == photos[j].pixels
            and a is not None
            and b is not None
            and 1.0 <= abs(a - b) <= rules.burst_seconds
        )

    # The closest pairs first (CLIP and signature together): a copy joins the frame it was made from before the
    # frames beside it.
    duplicates.sort(key=lambda p: -float(signatures[p[0]] @ signatures[p[1]] + clip[p[0]] @ clip[p[1]]))
    for i, j in duplicates:
        if i in blocked or j in blocked:
            continue
        stacks.union(i, j)
        a, b = copies.find(i), copies.find(j)
        # A resized copy of one frame looks like every frame of its burst: it joins that frame's copies only,
        # so the frames themselves stay apart (a copy group never holds two frames).
        if a != b and not any(frames(x, y) for x in members_of[a] for y in members_of[b]):
            copies.union(a, b)
            root = copies.find(a)
            members_of[root] = members_of.pop(a if root == b else b) + members_of[root]
    for i, j in bursts:
        if i not in blocked and j not in blocked and copies.find(i) != copies.find(j):
            stacks.union(i, j)
    groups: dict[int, list[int]] = {}
    for i in range(n):
        groups.setdefault(stacks.find(i), []).append(i)
    out = []
    for members in groups.values():
        if len(members) < 2:
            continue
        copy_ids: dict[int, int] = {}
        copy_of = {photos[i].hash: copy_ids.setdefault(copies.find(i), len(copy_ids)) for i in members}
        kind = DUPLICATE if len(copy_ids) == 1 else BURST
        chosen = [photos[i].hash for i in members if photos[i].hash in covers]
        cover = max(chosen, key=lambda h: covers[h]) if chosen else photos[cover_of(photos, members)].hash
        out.append(Group(tuple(photos[i].hash for i in members), kind, cover, copy_of))
    return out
