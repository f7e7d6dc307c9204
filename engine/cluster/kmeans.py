"""k-means for the spectral read-out (algorithms.md §3.4): greedy k-means++ seeding and Lloyd's iterations.

The read-out clusters at most a few thousand rows of at most 60 spectral coordinates, dozens of times per fit
(every candidate k, several seeds). scikit-learn's `KMeans` served here before, but importing scikit-learn
takes 0.9 s (it imports scipy.stats), more than fitting a few hundred photos, and its per-call checks cost
more than the arithmetic at this size.
"""

from __future__ import annotations

import math

import numpy as np


def _squared_distances(x: np.ndarray, x_sq: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """(n, k) squared Euclidean distances, clipped at 0 (the expansion can round slightly below)."""
    d = x_sq[:, None] - 2.0 * (x @ centres.T) + (centres * centres).sum(1)[None, :]
    return np.maximum(d, 0.0)


def plus_plus_centres(x: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """k starting centres by greedy k-means++: each new centre is the best of 2 + ⌊ln k⌋ candidates drawn
    with probability proportional to the squared distance to the nearest centre so far."""
    n = x.shape[0]
    x_sq = (x * x).sum(1)
    trials = 2 + int(math.log(k))
    centres = np.empty((k, x.shape[1]), dtype=x.dtype)
    centres[0] = x[rng.integers(n)]
    closest = _squared_distances(x, x_sq, centres[:1])[:, 0]
    for c in range(1, k):
        total = closest.sum()
        if total <= 0.0:
            # Every row already sits on a centre (duplicates): any row will do.
            candidates = rng.integers(n, size=trials)
        else:
            candidates = np.searchsorted(np.cumsum(closest), rng.random(trials) * total)
            candidates = np.minimum(candidates, n - 1)
        to_candidates = _squared_distances(x, x_sq, x[candidates])  # (n, trials)
        potentials = np.minimum(closest[:, None], to_candidates).sum(0)
        best = int(np.argmin(potentials))
        centres[c] = x[candidates[best]]
        closest = np.minimum(closest, to_candidates[:, best])
    return centres


def kmeans(x: np.ndarray, k: int, seed: int = 0, max_iter: int = 300, tol: float = 1e-4) -> tuple[np.ndarray, float]:
    """Partition the rows of x into k clusters; returns (labels (n,), inertia).

    Lloyd's iterations from `plus_plus_centres` until no row changes cluster, or the centres move less than
    `tol` times the data's mean variance (in squared distance, summed over centres), as scikit-learn measures
    it. A cluster left empty restarts at the row farthest from its centre, so k clusters always come back when
    x has k distinct rows.
    """
    x = np.asarray(x, dtype=np.float64)
    n = x.shape[0]
    if k <= 1 or n <= 1:
        labels = np.zeros(n, dtype=np.int64)
        return labels, float(((x - x.mean(0)) ** 2).sum()) if n else 0.0
    rng = np.random.default_rng(seed)
    x_sq = (x * x).sum(1)
    centres = plus_plus_centres(x, k, rng)
    threshold = tol * float(np.var(x, axis=0).mean())
    previous: np.ndarray | None = None
    for _ in range(max_iter):
        distances = _squared_distances(x, x_sq, centres)
        labels = distances.argmin(1)
        if previous is not None and np.array_equal(labels, previous):
            break  # converged exactly: the means below would be the centres again
        previous = labels
        counts = np.bincount(labels, minlength=k)
        members = np.zeros((n, k))
        members[np.arange(n), labels] = 1.0
        moved = (members.T @ x) / np.maximum(counts, 1)[:, None]
        nearest = distances[np.arange(n), labels]
        for empty in np.flatnonzero(counts == 0):
            far = int(np.argmax(nearest))
            moved[empty] = x[far]
            nearest[far] = 0.0
        shift = float(((moved - centres) ** 2).sum())
        centres = moved
        if shift <= threshold:
            break
    distances = _squared_distances(x, x_sq, centres)
    labels = distances.argmin(1).astype(np.int64)
    return labels, float(distances[np.arange(n), labels].sum())
