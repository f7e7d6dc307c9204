"""How distinct a partition's clusters are in the pretrained features: the mean cosine silhouette."""

from __future__ import annotations

import numpy as np


def cosine_silhouette(x: np.ndarray, labels: np.ndarray, chunk: int = 2048) -> float:
    """Mean silhouette of `labels` (0…k−1) over the rows of x, with cosine distance; −1 for fewer than two
    clusters.

    For each row, a is its mean distance to the rest of its cluster and b the smallest mean distance to
    another cluster; its silhouette is (b − a) / max(a, b), and 0 when its cluster has no other member
    (Rousseeuw 1987, as scikit-learn computes it). Rows are taken `chunk` at a time, so memory is
    chunk × n rather than n².
    """
    labels = np.asarray(labels)
    k = int(labels.max()) + 1 if len(labels) else 0
    if k < 2:
        return -1.0
    f = np.asarray(x, dtype=np.float64)
    f = f / np.maximum(np.linalg.norm(f, axis=1, keepdims=True), 1e-12)
    onehot = np.zeros((len(f), k))
    onehot[np.arange(len(f)), labels] = 1.0
    counts = onehot.sum(axis=0)
    scores = np.empty(len(f))
    for start in range(0, len(f), chunk):
        rows = slice(start, start + chunk)
        own = labels[rows]
        # Sum of distances to every cluster: Σ_j (1 − cos) = |cluster| − (row · Σ_j f_j).
        sums = counts[None, :] - f[rows] @ (f.T @ onehot)
        index = np.arange(len(own))
        members = counts[own]
        # The row's distance to itself is 0 and is not one of the "others".
        a = sums[index, own] / np.maximum(members - 1, 1)
        means = sums / np.maximum(counts, 1)[None, :]
        means[index, own] = np.inf
        means[:, counts == 0] = np.inf
        b = means.min(axis=1)
        s = (b - a) / np.maximum(np.maximum(a, b), 1e-12)
        scores[rows] = np.where(members > 1, s, 0.0)
    return float(scores.mean())
