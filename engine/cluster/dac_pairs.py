"""DAC's adaptive curriculum (algorithms.md §6): the threshold schedule, the pairs a batch selects, the loss.

Pure tensor functions shared by `DACRefiner` (a head on CLIP features) and the from-pixels benchmark. Pairs
are formed only inside a mini-batch, as in the paper, so nothing here is ever n×n.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch.nn import functional as F

# Clamp of the pair similarity inside the logs of the binary cross-entropy.
_EPS = 1e-7


@dataclass(frozen=True)
class ThresholdSchedule:
    """u(λ) = upper_start − λ, l(λ) = lower_start + lower_slope·λ, λ += step per epoch, until u ≤ l.

    The defaults are the published ones (0.95, 0.455, 0.1, 1.1·0.009): 46 epochs.
    """

    upper_start: float = 0.95
    lower_start: float = 0.455
    lower_slope: float = 0.1
    step: float = 1.1 * 0.009

    def upper(self, lam: float) -> float:
        return self.upper_start - lam

    def lower(self, lam: float) -> float:
        return self.lower_start + self.lower_slope * lam

    @property
    def lambda_end(self) -> float:
        """The λ at which u(λ) = l(λ): training stops there."""
        return (self.upper_start - self.lower_start) / (1.0 + self.lower_slope)

    def lambdas(self) -> list[float]:
        """λ of every epoch, from 0 while u(λ) > l(λ)."""
        out: list[float] = []
        lam = 0.0
        while self.upper(lam) > self.lower(lam) + 1e-12:
            out.append(lam)
            lam = len(out) * self.step  # by multiplication, so rounding never adds an epoch
        return out

    @property
    def n_epochs(self) -> int:
        return len(self.lambdas())

    @classmethod
    def over_epochs(cls, epochs: int) -> ThresholdSchedule:
        """The published thresholds, with λ rising in `epochs` equal steps instead of 1.1·0.009."""
        if epochs < 1:
            raise ValueError("epochs must be at least 1")
        base = cls()
        # A hair more than lambda_end / epochs, so exactly `epochs` values of λ stay below the end.
        return cls(step=base.lambda_end / epochs * (1.0 + 1e-9))


def label_features(logits: torch.Tensor) -> torch.Tensor:
    """l = normalise(softmax(logits)): non-negative unit rows, so l_i·l_j ∈ [0, 1]."""
    return F.normalize(torch.softmax(logits, dim=1), dim=1)


@dataclass(frozen=True)
class PairSelection:
    """The pairs of one batch that train: `mask` (B, B) selected, `target` (B, B) r ∈ {0, 1}, `forced` (B, B)
    the user-constraint pairs (always selected, with the user's r)."""

    mask: torch.Tensor
    target: torch.Tensor
    forced: torch.Tensor

    @property
    def n_same(self) -> int:
        return int((self.mask & (self.target > 0.5)).sum()) // 2

    @property
    def n_different(self) -> int:
        return int((self.mask & (self.target < 0.5)).sum()) // 2


def select_pairs(
    similarity: torch.Tensor,
    upper: float,
    lower: float,
    forced_pairs: torch.Tensor | None = None,
    forced_targets: torch.Tensor | None = None,
) -> PairSelection:
    """Pairs with s ≥ u are "same" (r=1), s < l "different" (r=0), the rest ignored; the diagonal never counts.

    Args:
        similarity: (B, B) symmetric l_i·l_j of the batch.
        upper, lower: u(λ) and l(λ).
        forced_pairs: (m, 2) batch positions of constraint pairs, selected whatever their similarity.
        forced_targets: (m,) their r (1 must-link, 0 cannot-link); overrides the threshold's r.
    """
    b = similarity.shape[0]
    with torch.no_grad():
        same = similarity >= upper
        different = similarity < lower
        off_diagonal = ~torch.eye(b, dtype=torch.bool, device=similarity.device)
        mask = (same | different) & off_diagonal
        target = same.to(similarity.dtype)
        forced = torch.zeros_like(mask)
        if forced_pairs is not None and len(forced_pairs):
            assert forced_targets is not None
            i, j = forced_pairs[:, 0], forced_pairs[:, 1]
            t = forced_targets.to(similarity.dtype)
            for a, c in ((i, j), (j, i)):
                forced[a, c] = True
                target[a, c] = t
            forced &= off_diagonal
            mask |= forced
    return PairSelection(mask, target, forced)


def pair_loss(
    similarity: torch.Tensor, selection: PairSelection, constraint_weight: float = 1.0
) -> tuple[torch.Tensor, int]:
    """Binary cross-entropy of the selected pairs: the mean over the curriculum's pairs, plus
    `constraint_weight` times the mean over the user's pairs (so a few constraints are not drowned out by
    the thousands of automatic pairs of a batch). Returns the loss and the number of pairs it used."""
    s = similarity.clamp(_EPS, 1.0 - _EPS)
    bce = -(selection.target * torch.log(s) + (1.0 - selection.target) * torch.log1p(-s))
    auto = (selection.mask & ~selection.forced).to(s.dtype)
    forced = selection.forced.to(s.dtype)
    n_auto = int(auto.sum())
    n_forced = int(forced.sum())
    # Weighted sums rather than boolean indexing: the backward of a gather over B² entries is slow on a CPU.
    loss = (bce * auto).sum() / max(n_auto, 1) + constraint_weight * (bce * forced).sum() / max(n_forced, 1)
    return loss, (n_auto + n_forced) // 2


def batch_with_constraints(
    n: int,
    batch_size: int,
    pairs: np.ndarray,
    rng: np.random.Generator,
    max_constraint_pairs: int,
) -> np.ndarray:
    """Sample indices for one batch: up to `max_constraint_pairs` constraint pairs' endpoints, filled up
    with random photos to `batch_size` (distinct indices, unsorted)."""
    chosen = np.empty(0, dtype=np.int64)
    if len(pairs) and max_constraint_pairs > 0:
        take = rng.choice(len(pairs), size=min(len(pairs), max_constraint_pairs), replace=False)
        chosen = np.unique(pairs[take].ravel())
    size = min(n, max(batch_size, len(chosen)))
    if len(chosen) >= size:
        return rng.permutation(chosen)
    rest = rng.choice(n, size=min(n, size + len(chosen)), replace=False)
    rest = rest[~np.isin(rest, chosen)][: size - len(chosen)]
    return rng.permutation(np.concatenate([chosen, rest]))


def constraints_in_batch(
    batch: np.ndarray, pairs: np.ndarray, targets: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """The constraint pairs whose two photos are both in the batch, as batch positions, and their r."""
    if not len(pairs):
        return np.empty((0, 2), dtype=np.int64), np.empty(0, dtype=np.float32)
    position = np.full(n, -1, dtype=np.int64)
    position[batch] = np.arange(len(batch))
    local = position[pairs]
    inside = (local >= 0).all(axis=1)
    return local[inside], targets[inside]


def epoch_steps(n: int, batch_size: int) -> int:
    """Mini-batches per epoch (one pass over the photos)."""
    return max(1, math.ceil(n / max(1, batch_size)))
