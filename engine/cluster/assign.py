"""Out-of-sample assignment: each photo goes to the cluster whose subspace of Z explains it best.

Rate reduction makes every cluster's features span a low-dimensional subspace of their own, so the
energy of z's projection on a cluster's principal directions is the natural membership score (and it
lies in [0, 1] for unit z, which makes it usable as a confidence).
"""

from __future__ import annotations

import numpy as np


class SubspaceAssigner:
    """Nearest cluster subspace in Z, fitted on the labelled sample.

    Args:
        rank: principal directions kept per cluster (fewer when the cluster has fewer members). The same
            rank for every cluster keeps the scores comparable: a larger subspace always explains more.
    """

    def __init__(self, rank: int = 8) -> None:
        self.rank = rank

    def fit(self, z: np.ndarray, labels: np.ndarray) -> SubspaceAssigner:
        """Fit one subspace per label ≥ 0 of z (n, d)."""
        z = np.asarray(z, dtype=np.float32)
        self.classes_ = np.unique(labels[labels >= 0])
        d = z.shape[1]
        bases = np.zeros((len(self.classes_), d, self.rank), dtype=np.float32)
        for i, label in enumerate(self.classes_):
            zj = z[labels == label]
            # Right singular vectors of Z_j (uncentred: features live on the sphere, through the origin).
            _, _, vt = np.linalg.svd(zj, full_matrices=False)
            r = min(self.rank, vt.shape[0])
            bases[i, :, :r] = vt[:r].T
        self.bases_ = bases
        return self

    def scores(self, z: np.ndarray, chunk: int = 16384) -> np.ndarray:
        """(n, n_classes) projection energies ‖U_jᵀ z‖²."""
        z = np.asarray(z, dtype=np.float32)
        flat = self.bases_.transpose(1, 0, 2).reshape(z.shape[1], -1)  # (d, classes·rank)
        out = np.empty((z.shape[0], len(self.classes_)), dtype=np.float32)
        for start in range(0, z.shape[0], chunk):
            proj = z[start : start + chunk] @ flat
            out[start : start + chunk] = (proj**2).reshape(proj.shape[0], len(self.classes_), -1).sum(-1)
        return out

    def predict(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Labels (from the fitted label set) and their scores for every row of z."""
        s = self.scores(z)
        best = s.argmax(1)
        return self.classes_[best], s[np.arange(len(best)), best]
