"""Stacks: the thresholds' evidence, and clustering time with and without stacking.

Usage:
    python bench/stacking.py thresholds [--scenes 60]
    python bench/stacking.py clustering [--bursts 45] [--singles 23]

`thresholds` renders toy-world scenes (tests/engine/stacks/toy_scenes.py), shoots each as a burst of four
frames and a blurred fifth, saves a re-encoded copy (half size, JPEG quality 60) and renders four distinct
photos of the same concept; it prints the CLIP cosine (toy CLIP) and the thumbnail signature correlation
(engine/stacks/signature.py) of burst pairs, copy pairs and distinct pairs: the numbers behind
engine/stacks/rules.StackRules.

`clustering` builds a library where about 30 % of the photos are burst frames (45 bursts of 3–5 frames, 23
distinct photos of each of its 18 concepts), indexes it with the toy CLIP, and re-clusters it twice: with its
stacks (one representative per stack is fitted) and with the stacks cleared (every photo fitted). It prints
the photos fitted, the seconds and the album purity (share of photos whose album's majority concept is theirs).
"""

from __future__ import annotations

import argparse
import io
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TOYCLIP = ROOT.parent / "shared" / "models" / "toyclip"


def _jpeg(image: Image.Image, quality: int) -> Image.Image:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    buffer.seek(0)
    return Image.open(buffer).convert("RGB")


def _thumbnail_bytes(image: Image.Image) -> bytes:
    thumb = image.copy()
    thumb.thumbnail((256, 256))
    buffer = io.BytesIO()
    thumb.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def thresholds(scenes: int) -> None:
    from engine.embed.embedder import load_embedder
    from engine.settings import ModelSpec
    from engine.stacks.signature import signature_and_sharpness
    from tests.engine.stacks.toy_scenes import CONCEPTS, MARGIN, burst_frame, reencoded, render

    embedder = load_embedder(
        ModelSpec("toyclip", str(TOYCLIP / "toyclip.safetensors"), str(TOYCLIP / "toyclip.json")), device="cpu"
    )
    rng = random.Random(1)
    pairs: dict[str, list[tuple[float, float]]] = {"burst": [], "copy": [], "distinct": []}
    sharp_wins = 0
    for n in range(scenes):
        colour, shape = CONCEPTS[n % len(CONCEPTS)]
        scene = render(colour, shape, n, 480 + 2 * MARGIN)
        frames = [_jpeg(burst_frame(scene, rng), 90) for _ in range(4)]
        blurred = _jpeg(burst_frame(scene, rng, 2.5), 90)
        copy = _jpeg(reencoded(frames[0]), 60)
        others = [_jpeg(render(colour, shape, 10**6 + n * 10 + k), 90) for k in range(4)]
        images = [*frames, blurred, copy, *others]
        clip = embedder.embed_images([embedder.preprocess(i) for i in images])
        sig = [signature_and_sharpness(_thumbnail_bytes(i)) for i in images]

        def pair(a: int, b: int, clip: np.ndarray = clip, sig: list = sig) -> tuple[float, float]:
            return float(clip[a] @ clip[b]), float(sig[a][0] @ sig[b][0])

        pairs["burst"] += [pair(a, b) for a in range(5) for b in range(a + 1, 5)]
        pairs["copy"].append(pair(0, 5))
        pairs["distinct"] += [pair(0, 6 + k) for k in range(4)]
        pairs["distinct"] += [pair(6 + a, 6 + b) for a in range(4) for b in range(a + 1, 4)]
        sharp_wins += all(sig[f][1] > sig[4][1] for f in range(4))
    print(f"{scenes} scenes; toy CLIP cosine and signature correlation per pair kind")
    print("| pairs | n | CLIP min | CLIP p1 | CLIP median | CLIP max | signature min | signature p99 | signature max |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, values in pairs.items():
        c = np.array([v[0] for v in values])
        s = np.array([v[1] for v in values])
        print(
            f"| {name} | {len(values)} | {c.min():.4f} | {np.percentile(c, 1):.4f} | {np.median(c):.4f} | {c.max():.4f}"
            f" | {s.min():.4f} | {np.percentile(s, 99):.4f} | {s.max():.4f} |"
        )
    print(f"blurred frame less sharp than all four sharp frames: {sharp_wins}/{scenes} scenes")


def clustering(bursts: int, singles: int) -> None:
    from engine.catalog.stacks import NewStack
    from engine.library import Library
    from engine.paths import display
    from tests.engine.stacks.toy_scenes import make_library

    folder = Path(tempfile.mkdtemp(prefix="stacking-"))
    try:
        truth = make_library(folder / "photos", scenes=bursts, singles_per_concept=singles, seed=7, copies=False)
        frames = sum(len(b) for b in truth.bursts)
        print(f"{len(truth.files)} photos, {frames} burst frames ({frames / len(truth.files):.0%}) in {bursts} bursts")
        library = Library(folder / "lib")
        library.set_model("toyclip", str(TOYCLIP / "toyclip.safetensors"), str(TOYCLIP / "toyclip.json"))
        library.index([folder / "photos"])
        concept = {str(p.resolve()): c for p, c in truth.concept.items()}
        library.recluster()  # warm-up: the first re-cluster also embeds the naming vocabulary once
        stacks = list(library.catalog.stacks.all())
        runs: dict[str, list[tuple[int, float, int, float]]] = {"with stacks": [], "without stacks": []}
        for label in ("with stacks", "without stacks", "with stacks", "without stacks"):
            restore = [NewStack(s.kind, s.cover_hash, dict(s.members)) for s in stacks]
            library.catalog.stacks.replace(restore if label == "with stacks" else [])
            fitted = len(library.photos()) - sum(s.size - 1 for s in library.stacks.stacks())
            started = time.perf_counter()
            summary = library.recluster()
            seconds = time.perf_counter() - started
            rows = {r.id: concept[display(r.path)] for r in library.photos()}
            hits = 0
            for album in library.albums.albums():
                if album.id is None:
                    continue
                counts = Counter(rows[p] for p in album.members)
                hits += counts.most_common(1)[0][1]
            runs[label].append((fitted, seconds, summary.k, hits / len(rows)))
        print("Whole re-cluster (fit, reconcile, naming from cached text features, commit), two runs each:")
        print("| clustering | photos fitted | seconds (run 1, run 2) | albums | purity |")
        print("|---|---|---|---|---|")
        for label, results in runs.items():
            times = ", ".join(f"{r[1]:.1f}" for r in results)
            ks = "/".join(str(r[2]) for r in results)
            purity = "/".join(f"{r[3]:.3f}" for r in results)
            print(f"| {label} | {results[0][0]} | {times} | {ks} | {purity} |")
        # The fit alone, on the same features.
        from engine.albums.recluster import library_features
        from engine.cluster import CPPClusterer
        from engine.stacks.fold import representatives

        library.catalog.stacks.replace([NewStack(s.kind, s.cover_hash, dict(s.members)) for s in stacks])
        features = library_features(library.catalog, library.model_id())
        rep = representatives(library.catalog, features.unique)
        row = {h: i for i, h in enumerate(features.unique)}
        reps = list(dict.fromkeys(rep[h] for h in features.unique))
        print("CPPClusterer(random_state=0).fit alone, three runs each, alternating (median):")
        print("| features | rows | wall s | CPU s |")
        print("|---|---|---|---|")
        inputs = {"one per stack": features.x[[row[h] for h in reps]], "every photo": features.x}
        times: dict[str, list[tuple[float, float]]] = {label: [] for label in inputs}
        for _ in range(3):
            for label, x in inputs.items():
                wall, cpu = time.perf_counter(), time.process_time()
                CPPClusterer(random_state=0).fit(x)
                times[label].append((time.perf_counter() - wall, time.process_time() - cpu))
        for label, x in inputs.items():
            wall = float(np.median([t[0] for t in times[label]]))
            cpu = float(np.median([t[1] for t in times[label]]))
            print(f"| {label} | {len(x)} | {wall:.1f} | {cpu:.1f} |")
        library.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="what", required=True)
    t = sub.add_parser("thresholds")
    t.add_argument("--scenes", type=int, default=60)
    c = sub.add_parser("clustering")
    c.add_argument("--bursts", type=int, default=45)
    c.add_argument("--singles", type=int, default=23)
    args = parser.parse_args()
    if args.what == "thresholds":
        thresholds(args.scenes)
    else:
        clustering(args.bursts, args.singles)


if __name__ == "__main__":
    main()
