"""How well CPPClusterer chooses the number of albums: chosen k against the truth, with ACC.

Usage:
    python bench/k_choice.py [--toy 24] [--toy-seed 0] [--with-ring] [--separated 10] [--threads 2]

Three families, each row one fit with automatic k (the app's path):
- well separated: unit-norm 512-d Gaussian clusters of different sizes (k = 6…15, 40–250 points each),
  where the right k is unambiguous;
- toy libraries: `bench/toy_libraries.generated_specs` (3–15 concepts of the six colours and six shapes the toy
  CLIP was trained on, 50–500 photos, balanced, imbalanced 3:1, or sharing colours and shapes), photos rendered
  by the toy world and embedded by the toy CLIP; the k-means column (true k given, 10 restarts) shows how
  separable the concepts are in the features. `--with-ring` generates the libraries of sessions 6–10 instead,
  whose shapes included rings, which the toy CLIP was not trained on and reads as stars; the summary then counts
  apart the libraries holding a star and a ring of one colour (bench/toy_separability.py);
- the noisy synthetic CLIP-like set of bench/RESULTS-cluster.md (12 clusters, 3 % noise), whose noise points
  should land in Other (the "albums · Other" column) rather than make an album of their own.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.datasets import clustering_scores, synthetic_clip_like  # noqa: E402
from bench.toy_libraries import SHAPES, SHAPES_WITH_RING, available, features, generated_specs  # noqa: E402


def separated_set(k: int, seed: int, dim: int = 512) -> tuple[np.ndarray, np.ndarray]:
    """k well-separated clusters of 40–250 points: random unit centres, small isotropic spread."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(40, 251, size=k)
    centres = rng.standard_normal((k, dim))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    x = np.concatenate(
        [c + 0.6 * rng.standard_normal((m, dim)) / np.sqrt(dim) for c, m in zip(centres, sizes, strict=True)]
    )
    y = np.repeat(np.arange(k), sizes)
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32), y


def fit(x: np.ndarray) -> tuple[int, np.ndarray, float, float]:
    """Chosen k, labels, seconds, and the Sinkhorn temperature of the head kept (0.25: the coarser one of a
    small library, algorithms.md §4)."""
    from engine.cluster import CPPClusterer

    start = time.perf_counter()
    model = CPPClusterer(random_state=0, device="cpu").fit(x)
    return model.n_clusters_, model.labels_, time.perf_counter() - start, model.config_.eta


def kmeans_acc(x: np.ndarray, y: np.ndarray, k: int) -> float:
    from sklearn.cluster import KMeans

    return clustering_scores(y, KMeans(k, n_init=10, random_state=0).fit_predict(x))["ACC"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--toy", type=int, default=24)
    ap.add_argument(
        "--toy-seed",
        type=int,
        default=0,
        help="seed of the generated toy libraries",
    )
    ap.add_argument(
        "--with-ring",
        action="store_true",
        help="the libraries of sessions 6–10, whose shapes include rings the toy CLIP was not trained on "
        "(seeds 0–8 of those: the sets the rules were tuned on; 11, 12: generated after)",
    )
    ap.add_argument("--separated", type=int, default=10)
    ap.add_argument("--noisy", action=argparse.BooleanOptionalAction, default=True)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    print(
        "| set | n | true k | chosen k | ±1 | albums · Other | ACC (chosen k) | k-means ACC (true k) | η kept | fit s |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    tally: dict[str, list[tuple[int, float]]] = {}

    # Per family: whether the albums a person sees (the chosen k less clusters sent to Other) are within tolerance.
    album_hits: dict[str, list[int]] = {}
    confusable: list[bool] = []  # per toy library: holds a star and a ring of one colour

    def row(family: str, name: str, x: np.ndarray, y: np.ndarray, k: int, tolerance: float) -> None:
        chosen, labels, seconds, eta = fit(x)
        # Albums can be fewer than k: small and diffuse clusters go to Other (algorithms.md §3.7).
        albums, other = len(np.unique(labels[labels >= 0])), int((labels < 0).sum())
        keep = y >= 0
        acc = clustering_scores(y[keep], labels[keep])["ACC"]
        ok = abs(chosen - k) <= tolerance
        tally.setdefault(family, []).append((int(ok), acc))
        album_hits.setdefault(family, []).append(int(abs(albums - k) <= tolerance))
        km = kmeans_acc(x[keep], y[keep], k)
        mark = "yes" if ok else "**no**"
        print(
            f"| {name} | {len(x)} | {k} | {chosen} | {mark} | {albums} · {other} | {acc:.3f} | {km:.3f} | {eta:.3g} "
            f"| {seconds:.2f} |",
            flush=True,
        )

    for i in range(args.separated):
        k = 6 + i % 10
        x, y = separated_set(k, seed=i)
        row("separated (exact)", f"separated-{i:02d}", x, y, k, 0)
    if available():
        shapes = SHAPES_WITH_RING if args.with_ring else SHAPES
        for spec in generated_specs(args.toy, seed=args.toy_seed, shapes=shapes):
            x, y = features(spec)
            row("toy (±1)", spec.name, x, y, spec.k, 1)
            confusable.append(spec.confusable())
    if args.noisy:
        x, y = synthetic_clip_like(n=5000, n_clusters=12, seed=0)
        row("noisy synthetic (±20 %)", "synthetic CLIP-like, 3 % noise", x, y, 12, 0.2 * 12)
    print()
    for family, hits in tally.items():
        oks, accs = zip(*hits, strict=True)
        shown = album_hits[family]
        print(
            f"- {family}: {sum(oks)} of {len(oks)} within tolerance, mean ACC {np.mean(accs):.3f}; "
            f"albums shown within tolerance: {sum(shown)}"
        )
    if any(confusable):
        oks = [ok for ok, _ in tally["toy (±1)"]]
        for label, want in (("with a star and a ring of one colour (CONFUSABLE_SHAPES)", True), ("others", False)):
            part = [ok for ok, c in zip(oks, confusable, strict=True) if c == want]
            print(f"  - toy libraries {label}: {sum(part)} of {len(part)} within ±1")


if __name__ == "__main__":
    main()
