"""How well the toy CLIP's features tell two toy-world concepts apart, pair by pair.

Usage:
    python bench/toy_separability.py [--photos 40] [--with-ring] [--zero-shot] [--threads 2]

For every two shapes of one colour (all colours), and every two colours of one shape (all shapes), a library
of `--photos` photos of each concept is rendered and embedded (`bench/toy_libraries.features`, cached), then:
- 2-means ACC: the two concepts found without labels (cosine, 10 restarts), what clustering can hope for;
- linear probe: 5-fold cross-validated accuracy of a logistic regression given the labels, what the features
  hold at all;
- silhouette: the mean cosine silhouette of the true two concepts (`engine.cluster.separation`).
Each figure is the mean over the colours (or shapes) with the lowest in brackets. A pair that even the probe
separates poorly tests the features, not the clustering. `--with-ring` adds rings, the shape the libraries of
sessions 6–10 also drew (`toy_libraries.SHAPES_WITH_RING`).

`--zero-shot` asks instead what the model's own text tower reads each shape the toy world draws as: every
concept's photos are matched to the prompts "a photo of a {colour} {shape}" of all the world's shapes in the
six colours; per shape, the share read as the right concept and the shape read most often. A shape the model
was not trained on reads as another.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.k_choice import kmeans_acc  # noqa: E402
from bench.toy_libraries import (  # noqa: E402
    COLOURS,
    SHAPES,
    SHAPES_WITH_RING,
    ToySpec,
    available,
    features,
    toy_embedder,
)


def pair_scores(a: tuple[str, str], b: tuple[str, str], photos: int) -> tuple[float, float, float]:
    """(2-means ACC, linear-probe accuracy, silhouette of the truth) for concepts a and b, as (colour, shape)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_score

    from engine.cluster.separation import album_silhouette

    spec = ToySpec(f"pair-{a}-{b}", ((*a, photos), (*b, photos)), seed=7)
    x, y = features(spec)
    unit = x / np.linalg.norm(x, axis=1, keepdims=True)
    probe = cross_val_score(LogisticRegression(max_iter=2000), unit, y, cv=5).mean()
    return kmeans_acc(unit, y, 2), float(probe), album_silhouette(x, y)


def zero_shot(photos: int) -> None:
    """Per shape of the toy world: top-1 of the toy CLIP's text tower over all the world's concepts in the six
    colours, and the shape its photos are read as most often."""
    from collections import Counter

    embedder = toy_embedder()
    from world import SHAPES as WORLD_SHAPES  # type: ignore[import-not-found]

    concepts = [(c, s) for c in COLOURS for s in WORLD_SHAPES]
    text = embedder.embed_texts([f"a photo of a {c} {s}" for c, s in concepts])
    text /= np.linalg.norm(text, axis=1, keepdims=True)
    print("| shape | trained on (model card) | zero-shot top-1 | read as |")
    print("|---|---|---|---|")
    for shape in WORLD_SHAPES:
        right, read = [], Counter()
        for colour in COLOURS:
            x, _ = features(ToySpec(f"zero-shot-{colour}-{shape}", ((colour, shape, photos),), seed=11))
            guess = (x / np.linalg.norm(x, axis=1, keepdims=True) @ text.T).argmax(axis=1)
            right.extend(guess == concepts.index((colour, shape)))
            read.update(concepts[g][1] for g in guess)
        top = ", ".join(f"{s} {n}" for s, n in read.most_common(2))
        known = "yes" if shape in SHAPES else "no"
        print(f"| {shape} | {known} | {np.mean(right):.2f} | {top} (of {sum(read.values())}) |", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--photos", type=int, default=40, help="photos of each concept")
    ap.add_argument("--with-ring", action="store_true", help="rings too (the libraries of sessions 6–10)")
    ap.add_argument("--zero-shot", action="store_true", help="what the text tower reads each shape as")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    if not available():
        sys.exit("needs ../shared (the toy world and the toy CLIP)")
    import torch

    torch.set_num_threads(args.threads)
    if args.zero_shot:
        zero_shot(args.photos)
        return
    shapes = SHAPES_WITH_RING if args.with_ring else SHAPES
    rows = []
    for kind, pairs, over in (
        ("same colour", list(itertools.combinations(shapes, 2)), COLOURS),
        ("same shape", list(itertools.combinations(COLOURS, 2)), shapes),
    ):
        for first, second in pairs:
            scores = []
            for shared in over:
                a, b = (
                    ((shared, first), (shared, second))
                    if kind == "same colour"
                    else ((first, shared), (second, shared))
                )
                scores.append(pair_scores(a, b, args.photos))
            acc, probe, sil = np.array(scores).T
            rows.append((probe.mean(), kind, f"{first} / {second}", acc, probe, sil))
    print("| pair | shared | 2-means ACC | linear probe | silhouette of the truth |")
    print("|---|---|---|---|---|")
    for _, kind, pair, acc, probe, sil in sorted(rows, key=lambda r: r[0]):
        print(
            f"| {pair} | {kind} | {acc.mean():.2f} ({acc.min():.2f}) | {probe.mean():.2f} ({probe.min():.2f}) "
            f"| {sil.mean():.2f} ({sil.min():.2f}) |",
            flush=True,
        )


if __name__ == "__main__":
    main()
