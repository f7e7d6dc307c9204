"""DAC refinement on top of CPP: CPP alone vs CPP + DAC vs CPP + DAC taught by 1 % simulated user corrections.

Usage:
    python bench/dac_refine.py [--datasets synthetic fashion] [--synthetic-n 5000] [--user-share 0.01]
                               [--epochs N] [--threads 2]

Same features as bench/cluster_quality.py (synthetic CLIP-like, Fashion-MNIST test as PCA-128), CPP with the
true k. The simulated user sorts a random `--user-share` of the photos into their true albums (the CPP
cluster matched to the class), and every pair among them is a constraint (must-link within a class,
cannot-link across). As in the product, DAC is warm-started from CPP's labels, taught by the pairs, and the
user's own placements are kept as the user made them. Prints one
markdown table: ACC/NMI/ARI on all scored photos, ACC on the photos the user did not touch (the
generalisation), the share of the user's pairs the labels satisfy, and the time of each step. Synthetic
noise points (truth −1) are left out of the scores and never sorted by the user.
"""

from __future__ import annotations

import argparse
import sys
import time
from itertools import combinations
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.datasets import clustering_scores, fashion_mnist_test, hungarian_accuracy, synthetic_clip_like


def simulated_user(
    truth: np.ndarray, cpp_labels: np.ndarray, share: float, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The photos a user sorted (a random share of the scored ones), the init labels with their corrections,
    and the must-link / cannot-link pairs among them."""
    from scipy.optimize import linear_sum_assignment

    rng = np.random.default_rng(seed)
    scored = np.flatnonzero(truth >= 0)
    sorted_rows = np.sort(rng.choice(scored, size=max(2, round(share * len(scored))), replace=False))
    classes = np.unique(truth[scored])
    k = int(cpp_labels.max()) + 1
    # Class → the CPP cluster it shares most photos with (one-to-one), so the user's albums are the machine's.
    overlap = np.zeros((len(classes), k), dtype=np.int64)
    ok = (truth >= 0) & (cpp_labels >= 0)
    np.add.at(overlap, (np.searchsorted(classes, truth[ok]), cpp_labels[ok]), 1)
    rows, cols = linear_sum_assignment(-overlap)
    album_of = dict(zip(classes[rows].tolist(), cols.tolist(), strict=True))
    init = cpp_labels.copy()
    for r in sorted_rows:
        init[r] = album_of.get(int(truth[r]), init[r])
    must, cannot = [], []
    for a, b in combinations(sorted_rows.tolist(), 2):
        (must if truth[a] == truth[b] else cannot).append((a, b))
    return sorted_rows, init, np.array(must, dtype=np.int64).reshape(-1, 2), np.array(cannot).reshape(-1, 2)


def evaluate(name: str, x: np.ndarray, y: np.ndarray, k: int, args: argparse.Namespace) -> list[str]:
    from engine.cluster import CPPClusterer
    from engine.cluster.dac import DACRefiner, constraint_agreement

    keep = y >= 0
    rows = []

    def row(method: str, pred: np.ndarray, seconds: float) -> None:
        scores = clustering_scores(y[keep], pred[keep])
        untouched = keep.copy()
        untouched[user_rows] = False
        acc_untouched = hungarian_accuracy(y[untouched], pred[untouched])
        agreement = constraint_agreement(pred, must, cannot)
        rows.append(
            f"| {name} | {method} | {scores['ACC']:.3f} | {scores['NMI']:.3f} | {scores['ARI']:.3f}"
            f" | {acc_untouched:.3f} | {agreement:.3f} | {int((pred != cpp).sum())} | {seconds:.1f} |"
        )

    start = time.perf_counter()
    cpp = CPPClusterer(n_clusters=k, random_state=args.seed).fit(x).labels_
    cpp_seconds = time.perf_counter() - start
    user_rows, init, must, cannot = simulated_user(y, cpp, args.user_share, args.seed)
    print(
        f"[{name}] simulated user: {len(user_rows)} photos sorted, {len(must)} must-link and {len(cannot)}"
        f" cannot-link pairs",
        flush=True,
    )
    row("CPP (true k)", cpp, cpp_seconds)
    row(f"CPP + user's {args.user_share:.0%} placed (no DAC)", init, 0.0)

    start = time.perf_counter()
    dac = DACRefiner(k, random_state=args.seed, epochs=args.epochs).fit(x, init_labels=cpp)
    row("CPP + DAC", dac.labels_, time.perf_counter() - start)
    print(f"[{name}] CPP + DAC: {len(dac.history_)} epochs", flush=True)

    start = time.perf_counter()
    # As the product does: the warm start is the machine's clustering, the user's decisions are the pairs.
    dac = DACRefiner(k, random_state=args.seed, epochs=args.epochs).fit(x, cpp, must, cannot)
    pred = dac.labels_.copy()
    pred[user_rows] = init[user_rows]  # the product never overrides the user's own placements
    row(f"CPP + DAC + user's {args.user_share:.0%} as constraints", pred, time.perf_counter() - start)

    # The product's warm start (engine.albums.refine.follow_corrections): each user move from cluster A to album S
    # also starts A's look-alikes of the moved photos in S; then the pairs, as above.
    from engine.albums.refine import carry_corrections

    flows: dict[tuple[int, int], list[int]] = {}
    for r in user_rows.tolist():
        if init[r] != cpp[r] and cpp[r] >= 0:
            flows.setdefault((int(cpp[r]), int(init[r])), []).append(r)
    carried = carry_corrections(cpp, x, flows, set(user_rows.tolist()))
    carried[user_rows] = init[user_rows]
    row(f"CPP + user's {args.user_share:.0%} + look-alikes carried (no DAC)", carried, 0.0)
    start = time.perf_counter()
    dac = DACRefiner(k, random_state=args.seed, epochs=args.epochs).fit(x, carried, must, cannot)
    pred = dac.labels_.copy()
    pred[user_rows] = init[user_rows]
    row(
        f"CPP + DAC + user's {args.user_share:.0%}, look-alikes carried (the product)",
        pred,
        time.perf_counter() - start,
    )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="+", default=["synthetic", "fashion"], choices=["synthetic", "fashion"])
    parser.add_argument("--synthetic-n", type=int, default=5000)
    parser.add_argument("--user-share", type=float, default=0.01, help="share of photos the simulated user sorts")
    parser.add_argument("--epochs", type=int, default=None, help="DAC epochs (default: the published 46)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    rows = []
    for name in args.datasets:
        if name == "synthetic":
            x, y = synthetic_clip_like(n=args.synthetic_n, n_clusters=12, seed=args.seed)
            rows += evaluate(f"synthetic CLIP-like (n={len(x)}, k=12)", x, y, 12, args)
        else:
            x, y = fashion_mnist_test()
            rows += evaluate("Fashion-MNIST test (PCA-128, L2)", x, y, 10, args)
    print()
    print("| data | method | ACC | NMI | ARI | ACC untouched | user pairs kept | photos ≠ CPP | s |")
    print("|---|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
