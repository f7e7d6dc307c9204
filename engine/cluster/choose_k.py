"""Choosing the number of clusters by minimum coding length, without retraining (algorithms.md §4)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from engine.cluster.coding_rate import EPS2, coding_length
from engine.cluster.spectral import SpectralEmbedding, spectral_labels
from engine.progress import ProgressReporter, check_cancelled

# Dense where a personal library's album count usually lies, sparser beyond: the curve is flat there
# and each candidate costs a k-means.
_BASE_GRID = (*range(1, 16), 18, 20, 22, 25, 28, 32, 36, 40, 45, 50, 55, 60)
# Candidates in a row coding worse than the best before the grid may stop (see `coding_length_curve`).
_RISING = 4


def k_grid(k_max: int, n: int, n_distinct: int | None = None) -> list[int]:
    """Candidate k values: 1…k_max, dense at small k, capped so clusters average at least two samples."""
    cap = max(1, min(k_max, n // 2, n_distinct if n_distinct is not None else n))
    grid = [k for k in _BASE_GRID if k <= cap]
    if cap not in grid and cap > _BASE_GRID[-1]:
        grid.append(cap)
    return grid or [1]


@dataclass
class KCurve:
    """The coding-length curve over the candidate k and the best partition of the sample for each."""

    lengths: dict[int, float] = field(default_factory=dict)
    labels: dict[int, np.ndarray] = field(default_factory=dict)

    def best_k(self) -> int:
        """The k of smallest coding length (the smaller k on a tie)."""
        return min(self.lengths, key=lambda k: (self.lengths[k], k))


def partition_for_k(
    embedding: SpectralEmbedding,
    z: np.ndarray,
    k: int,
    seeds: list[int],
    eps2: float = EPS2,
) -> tuple[np.ndarray, float]:
    """The partition of lowest coding length over k-means seeds, and that length.

    Seeds are compared by coding length rather than k-means inertia, so the partition kept is the one
    the criterion would choose.
    """
    best: tuple[np.ndarray, float] | None = None
    for seed in seeds:
        labels, _ = spectral_labels(embedding, k, z, seed=seed)
        length = coding_length(z, labels, eps2)
        if best is None or length < best[1]:
            best = (labels, length)
        if k <= 1 or embedding.n_components >= k:
            break  # deterministic: other seeds give the same partition
    assert best is not None
    return best


def coding_length_curve(
    embedding: SpectralEmbedding,
    z: np.ndarray,
    grid: list[int],
    seeds: list[int],
    progress: ProgressReporter,
    eps2: float = EPS2,
) -> KCurve:
    """L(k) along the grid, until the curve has clearly passed its minimum; raises `Cancelled` between
    candidates on request.

    The grid stops once k is beyond 2·k* + 5 (k* the best so far) and the last `_RISING` candidates all
    coded worse than k*: far past the minimum the curve only rises, and each candidate costs a k-means
    that grows with k. What is kept still reaches well above k*, for "more albums".
    """
    progress.phase("choose number of albums", len(grid))
    curve = KCurve()
    worse = 0
    for k in grid:
        check_cancelled(progress)
        labels, length = partition_for_k(embedding, z, k, seeds, eps2)
        best = curve.best_k() if curve.lengths else k
        worse = worse + 1 if curve.lengths and length >= curve.lengths[best] else 0
        curve.lengths[k] = length
        curve.labels[k] = labels
        progress.advance(1)
        if worse >= _RISING and k > 2 * curve.best_k() + 5:
            progress.advance(len(grid) - grid.index(k) - 1)  # the bar ends full
            break
    return curve
