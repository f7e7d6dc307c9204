"""Coding rates of the MLC objective and the coding length used to choose k (algorithms.md §2, §4).

Convention: the spec writes Z as d×n (samples in columns); here, as in every array of the engine, Z is
n×d with one sample per row, so the spec's Z Zᵀ is `Z.T @ Z` below.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import torch

EPS2 = 0.1  # ε², hard-coded by the reference implementation.


def logdet_spd(m: torch.Tensor) -> torch.Tensor:
    """Log-determinant of a (batch of) symmetric positive definite matrices via Cholesky.

    Every matrix fed here is I + PSD, so its eigenvalues are ≥ 1 and Cholesky is stable in float32.
    """
    import torch

    chol = torch.linalg.cholesky(m)
    return 2.0 * torch.log(torch.diagonal(chol, dim1=-2, dim2=-1)).sum(-1)


def expansion_rate(z: torch.Tensor, eps2: float = EPS2) -> torch.Tensor:
    """R(Z) = ½ logdet(I_d + d/(n ε²) Z Zᵀ) for z of shape (n, d).

    Uses the n×n Gram form when n < d (Sylvester's determinant identity gives the same value).
    """
    import torch

    n, d = z.shape
    scale = d / (n * eps2)
    gram = z @ z.T if n < d else z.T @ z
    eye = torch.eye(gram.shape[0], dtype=z.dtype, device=z.device)
    return 0.5 * logdet_spd(eye + scale * gram)


def compression_rate(z: torch.Tensor, pi: torch.Tensor, eps2: float = EPS2) -> torch.Tensor:
    """R_c(Z, Π) = Σ_j (tr Π_j / 2n) · logdet(I_d + d/(tr Π_j ε²) Z Π_j Zᵀ), Π_j = diag(column j of Π).

    Args:
        z: (n, d) features, one sample per row.
        pi: (n, m) membership; column j weights the samples of the j-th soft neighbourhood.
        eps2: ε².

    Every column's weighted covariance is built at once, never as an n×d×n tensor: with d ≤ n, one GEMM
    Πᵀ · vec(z_i z_iᵀ) gives the m (d×d) matrices; with n < d the m (n×n) Gram forms
    I_n + a_j diag(√π_j) Z Zᵀ diag(√π_j) have the same determinants and are smaller.
    """
    import torch

    n, d = z.shape
    trace = pi.sum(0)  # (m,)
    # Normalising each column first keeps a column with ~0 mass finite; its weight tr/2n vanishes anyway.
    weights = pi / trace.clamp_min(1e-12)
    scale = d / eps2
    if d <= n:
        outer = (z[:, :, None] * z[:, None, :]).reshape(n, d * d)
        cov = (weights.T @ outer).reshape(-1, d, d)
        eye = torch.eye(d, dtype=z.dtype, device=z.device)
        mats = eye + scale * cov
    else:
        gram = z @ z.T
        root = weights.T.clamp_min(0).sqrt()  # (m, n)
        eye = torch.eye(n, dtype=z.dtype, device=z.device)
        mats = eye + scale * (root[:, :, None] * gram[None] * root[:, None, :])
    return (trace / (2.0 * n) * logdet_spd(mats)).sum()


def coding_length(z: np.ndarray, labels: np.ndarray, eps2: float = EPS2) -> float:
    """Total coding length L of a partition (algorithms.md §4), in nats, computed in float64.

    L = Σ_clusters [ (m_j + d)/2 · logdet(I_d + d/(ε² m_j) Z_j Z_jᵀ) + m_j · (−log(m_j / N)) ].
    Samples labelled −1 are not coded; N counts the coded samples.

    Args:
        z: (N, d) features.
        labels: (N,) integer cluster labels.
        eps2: ε².
    """
    z = np.asarray(z, dtype=np.float64)
    labels = np.asarray(labels)
    coded = labels >= 0
    total_n = int(coded.sum())
    d = z.shape[1]
    length = 0.0
    for label in np.unique(labels[coded]):
        zj = z[labels == label]
        m = zj.shape[0]
        length += (m + d) / 2.0 * gram_logdet(zj, eps2) + m * -math.log(m / total_n)
    return float(length)


def gram_logdet(z: np.ndarray, eps2: float = EPS2) -> float:
    """logdet(I + d/(ε² m) ZᵀZ) of m rows in d dimensions, twice their coding rate, in float64; from the m×m
    Gram matrix when that is the smaller (the two determinants are equal)."""
    z = np.asarray(z, dtype=np.float64)
    m, d = z.shape
    gram = z @ z.T if m < d else z.T @ z
    _, logdet = np.linalg.slogdet(np.eye(gram.shape[0]) + d / (eps2 * m) * gram)
    return float(logdet)
