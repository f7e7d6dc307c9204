"""Clustering quality of CPPClusterer against k-means on synthetic CLIP-like data and Fashion-MNIST.

Usage:
    python bench/cluster_quality.py [--datasets synthetic fashion] [--synthetic-n 5000] [--threads 2]

Prints one markdown table: ACC (Hungarian), NMI, ARI and fit time of CPP with the true k, CPP choosing k
itself, and scikit-learn KMeans (true k, n_init=10), on the same features. Synthetic noise points
(truth −1) are left out of the scores; CPP's "Other" (−1) predictions count as wrong for ACC.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.datasets import clustering_scores, fashion_mnist_test, synthetic_clip_like


def _row(data: str, method: str, k: int, scores: dict[str, float], seconds: float, other: int) -> str:
    return (
        f"| {data} | {method} | {k} | {scores['ACC']:.3f} | {scores['NMI']:.3f} | {scores['ARI']:.3f} "
        f"| {other} | {seconds:.1f} |"
    )


def evaluate(name: str, x: np.ndarray, y: np.ndarray, true_k: int, seed: int) -> list[str]:
    """Fit the three methods on x and score them against y."""
    from sklearn.cluster import KMeans

    from engine.cluster import CPPClusterer

    keep = y >= 0
    rows = []
    start = time.perf_counter()
    km = KMeans(n_clusters=true_k, n_init=10, random_state=seed).fit(x)
    rows.append(
        _row(
            name,
            "KMeans (true k, n_init=10)",
            true_k,
            clustering_scores(y[keep], km.labels_[keep]),
            time.perf_counter() - start,
            0,
        )
    )
    for label, n_clusters in (("CPP (true k)", true_k), ("CPP (chooses k)", None)):
        start = time.perf_counter()
        model = CPPClusterer(n_clusters=n_clusters, random_state=seed).fit(x)
        seconds = time.perf_counter() - start
        pred = model.labels_
        rows.append(
            _row(
                name, label, model.n_clusters_, clustering_scores(y[keep], pred[keep]), seconds, int((pred == -1).sum())
            )
        )
        if n_clusters is None:
            curve = ", ".join(f"{k}: {v:.0f}" for k, v in sorted(model.coding_lengths_.items()))
            print(f"[{name}] coding length curve L(k): {curve}", flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="+", default=["synthetic", "fashion"], choices=["synthetic", "fashion"])
    parser.add_argument("--synthetic-n", type=int, default=5000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    rows = []
    for name in args.datasets:
        if name == "synthetic":
            x, y = synthetic_clip_like(n=args.synthetic_n, n_clusters=12, seed=args.seed)
            label = f"synthetic CLIP-like (n={len(x)}, D=512, k=12, 3% noise)"
            rows += evaluate(label, x, y, 12, args.seed)
        else:
            x, y = fashion_mnist_test()
            rows += evaluate("Fashion-MNIST test (PCA-128, L2)", x, y, 10, args.seed)
    print()
    print("| data | method | k | ACC | NMI | ARI | Other (−1) | fit s |")
    print("|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
