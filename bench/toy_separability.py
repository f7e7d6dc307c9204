"""How well the toy CLIP's features tell two toy-world concepts apart, pair by pair.

Usage:
    python bench/toy_separability.py [--photos 40] [--threads 2]

For every two shapes of one colour (all colours), and every two colours of one shape (all shapes), a library
of `--photos` photos of each concept is rendered and embedded (`bench/toy_libraries.features`, cached), then:
- 2-means ACC: the two concepts found without labels (cosine, 10 restarts), what clustering can hope for;
- linear probe: 5-fold cross-validated accuracy of a logistic regression given the labels, what the features
  hold at all;
- silhouette: the mean cosine silhouette of the true two concepts (`engine.cluster.separation`).
Each figure is the mean over the colours (or shapes) with the lowest in brackets. A pair that even the probe
separates poorly tests the features, not the clustering: the choice-of-k benchmark reports the libraries
holding one apart (`toy_libraries.CONFUSABLE`).
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
from bench.toy_libraries import COLOURS, SHAPES, ToySpec, available, features  # noqa: E402


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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--photos", type=int, default=40, help="photos of each concept")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    if not available():
        sys.exit("needs ../shared (the toy world and the toy CLIP)")
    import torch

    torch.set_num_threads(args.threads)
    rows = []
    for kind, pairs, over in (
        ("same colour", list(itertools.combinations(SHAPES, 2)), COLOURS),
        ("same shape", list(itertools.combinations(COLOURS, 2)), SHAPES),
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
