"""How distinct a partition's clusters are in the pretrained features: the mean cosine silhouette, how distinct
k-means can make as many groups there, and which clusters are no more alike than photos picked at random (coding
rate against random draws)."""

from __future__ import annotations

import numpy as np

from engine.cluster.coding_rate import EPS2, gram_logdet
from engine.cluster.kmeans import kmeans


def _unit_rows(x: np.ndarray) -> np.ndarray:
    """x in float64 with unit rows (zero rows stay zero)."""
    f = np.asarray(x, dtype=np.float64)
    return f / np.maximum(np.linalg.norm(f, axis=1, keepdims=True), 1e-12)


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
    f = _unit_rows(x)
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


def album_silhouette(x: np.ndarray, labels: np.ndarray) -> float:
    """`cosine_silhouette` of the albums a partition makes: rows labelled −1 (they go to Other) take no part;
    −1 when fewer than two albums are left."""
    kept = np.asarray(labels) >= 0
    albums, relabelled = np.unique(np.asarray(labels)[kept], return_inverse=True)
    return cosine_silhouette(np.asarray(x)[kept], relabelled) if len(albums) >= 2 else -1.0


# How distinctly photos can be grouped is judged on at most this many of them (`grouping_silhouette`): one k-means
# start costs about 0.04 s at 1000 × 512 (0.09 s at 2000), and a fit groups each k on its curve from its own k to
# twice it, once per seed (`choose_k.most_distinct_k`).
GROUPING_ROWS = 1000


def grouping_silhouette(x: np.ndarray, groups: int, seeds: list[int]) -> float:
    """How distinct `groups` groups of the rows of x can be: the mean cosine silhouette of k-means on the unit
    rows, the start of lowest inertia among one per seed; −1 for fewer than two groups (or rows to fill them).

    It asks what the features allow at that number of groups, whatever partition a model made of them.
    """
    f = _unit_rows(x)
    if len(f) > GROUPING_ROWS:
        f = f[np.sort(np.random.default_rng(seeds[0]).choice(len(f), GROUPING_ROWS, replace=False))]
    if groups < 2 or len(f) <= groups:
        return -1.0
    labels = min((kmeans(f, groups, seed) for seed in seeds), key=lambda fitted: fitted[1])[0]
    return cosine_silhouette(f, labels)


# An album must code in clearly fewer nats than as many photos drawn at random from the library: a fifth more
# marks a diffuse cloud, not a group of alike photos (algorithms.md §3.7). Clusters of the toy libraries
# measured up to 1.10 (1 487 clusters of 168 libraries), and the noise album that CPP made on each of eight
# noisy synthetic sets 1.30–1.40, with their real albums at most 0.64.
INCOHERENT_RATIO = 1.2
# Rates are compared on at most this many photos of a cluster (and of each random draw), so a cluster costs
# one determinant of at most this size however large it is.
RATE_ROWS = 128
_DRAWS = 3


def _rate(f: np.ndarray) -> float:
    """Coding rate ½ logdet(I + D/(m ε²) FᵀF) of m unit rows."""
    return 0.5 * gram_logdet(f, EPS2)


class IncoherenceTest:
    """Finds clusters whose photos are no more alike than photos drawn at random from the same library.

    Such a cluster is a diffuse cloud: the photos that fit no album, which the head may still gather into
    one block of Π because they are all far from everything else. Each cluster's coding rate (on at most
    `RATE_ROWS` of its photos) is set against the median rate of `_DRAWS` random draws of as many photos from
    the whole sample; the draws are cached by size, so the partitions of many k share them.
    """

    def __init__(self, x: np.ndarray, seed: int) -> None:
        self._f = _unit_rows(x)
        self._rng = np.random.default_rng(seed)
        self._baseline: dict[int, float] = {}

    def incoherent(self, labels: np.ndarray) -> list[int]:
        """Ids of the clusters of `labels` (0…k−1 over the sample) that code more than `INCOHERENT_RATIO` times
        as expensively as random photos; clusters of fewer than 3 photos are not judged."""
        found = []
        for cluster in range(int(labels.max()) + 1 if len(labels) else 0):
            members = np.flatnonzero(labels == cluster)
            if len(members) < 3 or len(members) >= len(self._f):
                continue
            if len(members) > RATE_ROWS:
                members = self._rng.choice(members, RATE_ROWS, replace=False)
            # Strictly above: identical or all-zero rows rate 0 against draws of rate 0, and are not diffuse.
            if _rate(self._f[members]) > INCOHERENT_RATIO * self._random_rate(len(members)):
                found.append(cluster)
        return found

    def _random_rate(self, m: int) -> float:
        if m not in self._baseline:
            draws = [self._f[self._rng.choice(len(self._f), m, replace=False)] for _ in range(_DRAWS)]
            self._baseline[m] = float(np.median([_rate(d) for d in draws]))
        return self._baseline[m]
