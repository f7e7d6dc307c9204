"""Album stability: how many photos keep their album when the library grows and is re-clustered, and after
"fewer albums" then "more albums".

A toy library of 12 concepts (coloured shapes the toy CLIP of ../shared/models/toyclip knows) is indexed and
clustered; then, per run:
  1. new photos: 10 % more photos of the same concepts are indexed (placed at once by the incremental
     assignment, an "import"), and the library is re-clustered (k chosen by coding length). Score: the share
     of the photos that were there before (and that the user did not move) that are in the same album after.
  2. fewer then more: `recluster(fewer=True)` then `recluster(more=True)`. Score: the same share, against the
     albums before "fewer".
Two variants: the machine's albums untouched, and with the user's edits first (3 albums renamed, one
pinned, 6 photos moved between albums), where the user's albums must keep every photo (counted too).
Target (issue 15): at least 95 % of the untouched photos keep their album after new photos + re-cluster.

    python bench/album_trust.py [--per-concept 30] [--new-share 0.1] [--seeds 1 2 3]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SHARED = Path(__file__).resolve().parents[2] / "shared"
TOYCLIP = SHARED / "models" / "toyclip"
MAKE_LIBRARY = SHARED / "toyworld" / "make_library.py"
CONCEPTS = (
    "red:circle,green:square,blue:triangle,yellow:star,orange:hexagon,black:cross,"
    "red:square,green:triangle,blue:star,yellow:hexagon,orange:cross,black:circle"
)
COLOURS = ("red", "green", "blue", "yellow", "orange", "black")
SHAPES = ("circle", "square", "triangle", "star", "hexagon", "cross")


@dataclass
class Run:
    seed: int
    edits: bool
    photos: int = 0
    new: int = 0
    k: list[int] = field(default_factory=list)  # first clustering, after new photos, fewer, more
    purity: float = 0.0  # first clustering: share of photos in an album whose majority concept is theirs
    new_joined: float = 0.0  # share of the new photos the import placed in an album at once
    new_right: float = 0.0  # ... of those, in the album of their own concept
    kept_after_new: float = 0.0
    kept_after_fewer_more: float = 0.0
    grouped_after_fewer_more: float = 0.0  # same, up to the album's identity (an album re-created counts)
    users_kept: str = "–"  # the user's albums: photos kept / photos they held, over both steps
    seconds_recluster: float = 0.0


def make_photos(folder: Path, per_concept: int, seed: int) -> dict[str, str]:
    drawn = ["--per-concept", str(per_concept), "--seed", str(seed), "--concepts", CONCEPTS]
    made = subprocess.run(
        [sys.executable, str(MAKE_LIBRARY), str(folder), *drawn], capture_output=True, text=True, check=True
    ).stdout
    return {str((folder / rel).resolve()): concept for rel, concept in json.loads(made).items()}


def album_of(library) -> dict[int, int | None]:
    return {p: a.id for a in library.albums.albums() for p in a.members}


def kept_share(before: dict[int, int | None], after: dict[int, int | None], photos: set[int]) -> float:
    return sum(before[p] == after[p] for p in photos) / len(photos)


def grouped_share(before: dict[int, int | None], after: dict[int, int | None], photos: set[int]) -> float:
    """Share of the photos still grouped as before: each album before is mapped to the album (or Other) that
    holds most of its photos after, one to one, largest first; a photo counts when it followed its album."""
    groups: dict[int | None, list[int]] = {}
    for p in photos:
        groups.setdefault(before[p], []).append(p)
    taken: set[int | None] = set()
    followed = 0
    for album, members in sorted(groups.items(), key=lambda item: -len(item[1])):
        counts = Counter(after[p] for p in members)
        if album is None:  # Other stays Other
            followed += counts.get(None, 0)
            continue
        target = next((a for a, _ in counts.most_common() if a is not None and a not in taken), None)
        if target is not None:
            taken.add(target)
            followed += counts[target]
    return followed / len(photos)


def run(seed: int, per_concept: int, new_share: float, edits: bool) -> Run:
    from engine.library import Library
    from engine.paths import display

    result = Run(seed, edits)
    with tempfile.TemporaryDirectory(prefix="album-trust-") as tmp:
        root = Path(tmp)
        truth = make_photos(root / "photos" / "first", per_concept, seed)
        library = Library(root / "lib")
        library.set_model("toyclip", str(TOYCLIP / "toyclip.safetensors"), str(TOYCLIP / "toyclip.json"))
        words = root / "shapes.txt"  # the toy CLIP knows colours and shapes only: the user's own word list
        words.write_text("\n".join(f"{c} {s}" for c in COLOURS for s in SHAPES), "utf-8")
        library.set_vocabulary(library.vocabulary_choice().use_file(words))
        library.index([root / "photos"])
        result.k.append(library.recluster().k)
        concept = {r.id: truth[display(r.path)] for r in library.photos()}
        first = set(concept)
        result.photos = len(first)
        albums = [a for a in library.albums.albums() if a.id is not None]
        result.purity = sum(max(Counter(concept[p] for p in a.members).values()) for a in albums) / len(first)

        moved: set[int] = set()
        users: dict[int, set[int]] = {}
        if edits:
            rng = random.Random(seed)
            for i, album in enumerate(rng.sample(albums, 3)):
                library.albums.rename(album.id, f"Trip {i + 1}")
            library.albums.pin(albums[-1].id)
            for _ in range(3):
                source, target = rng.sample(albums, 2)
                photos = rng.sample(source.members, 2)
                library.albums.move(photos, target.id)
                moved.update(photos)
            listing = library.albums.albums()
            users = {a.id: set(a.members) for a in listing if a.id is not None and (a.user_named or a.pinned)}
        untouched = first - moved

        # 1. 10 % new photos, placed by the import, then a re-cluster.
        before = album_of(library)
        new_truth = make_photos(root / "photos" / "new", max(1, round(per_concept * new_share)), seed + 100)
        library.index([root / "photos"])
        concept.update({r.id: new_truth[display(r.path)] for r in library.photos() if r.id not in concept})
        new_ids = set(concept) - first
        result.new = len(new_ids)
        placed = album_of(library)
        joined = [p for p in new_ids if placed[p] is not None]
        majority = {
            a.id: Counter(concept[p] for p in a.members if p in first).most_common(1)[0][0]
            for a in library.albums.albums()
            if a.id is not None and any(p in first for p in a.members)
        }
        result.new_joined = len(joined) / len(new_ids)
        result.new_right = sum(majority.get(placed[p]) == concept[p] for p in joined) / max(1, len(joined))
        started = time.perf_counter()
        result.k.append(library.recluster().k)
        result.seconds_recluster = time.perf_counter() - started
        after_new = album_of(library)
        result.kept_after_new = kept_share(before, after_new, untouched)

        # 2. Fewer, then more.
        result.k.append(library.recluster(fewer=True).k)
        result.k.append(library.recluster(more=True).k)
        after = album_of(library)
        result.kept_after_fewer_more = kept_share(after_new, after, untouched | (new_ids - moved))
        result.grouped_after_fewer_more = grouped_share(after_new, after, untouched | (new_ids - moved))
        if users:
            held = sum(len(m) for m in users.values())
            kept = sum(sum(after[p] == a for p in m) for a, m in users.items())
            result.users_kept = f"{kept}/{held}"
        library.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-concept", type=int, default=30)
    parser.add_argument("--new-share", type=float, default=0.1)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    args = parser.parse_args()
    if not (TOYCLIP / "toyclip.safetensors").exists():
        sys.exit(f"needs the toy CLIP at {TOYCLIP}")
    load = os.getloadavg()
    print(f"{os.cpu_count()} CPUs; load average at start {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print(
        "| seed | user's edits | photos + new | k: first → +new → fewer → more | purity | new joined at once"
        " (right album) | untouched kept after +new & re-cluster | kept after fewer → more (same grouping)"
        " | user's photos kept | re-cluster s |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    runs = []
    for edits in (False, True):
        for seed in args.seeds:
            r = run(seed, args.per_concept, args.new_share, edits)
            runs.append(r)
            print(
                f"| {r.seed} | {'yes' if r.edits else 'no'} | {r.photos} + {r.new} | {' → '.join(map(str, r.k))}"
                f" | {r.purity:.3f} | {r.new_joined:.0%} ({r.new_right:.0%}) | {r.kept_after_new:.1%}"
                f" | {r.kept_after_fewer_more:.1%} ({r.grouped_after_fewer_more:.1%}) | {r.users_kept}"
                f" | {r.seconds_recluster:.1f} |",
                flush=True,
            )
    for edits in (False, True):
        chosen = [r for r in runs if r.edits == edits]
        print(
            f"median ({'with' if edits else 'without'} the user's edits): kept after +new & re-cluster"
            f" {statistics.median(r.kept_after_new for r in chosen):.1%}, after fewer → more"
            f" {statistics.median(r.kept_after_fewer_more for r in chosen):.1%}"
            f" (same grouping {statistics.median(r.grouped_after_fewer_more for r in chosen):.1%}), re-cluster"
            f" {statistics.median(r.seconds_recluster for r in chosen):.1f} s"
        )
    load = os.getloadavg()
    print(f"load average at end {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


if __name__ == "__main__":
    main()
