"""Soft membership Π: entropic projection of the code affinity onto doubly stochastic matrices."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch


def sinkhorn_membership(
    codes: torch.Tensor,
    eta: float = 0.175,
    n_iter: int = 5,
    other: torch.Tensor | None = None,
) -> torch.Tensor:
    """Membership Π from cluster codes by log-domain Sinkhorn (algorithms.md §2).

    The affinity |C Cᵀ| / η is projected towards the doubly stochastic matrices by alternating
    row and column normalisations in the log domain (stable for small η), then rows are scaled to sum
    to 1. With enough iterations both rows and columns sum to 1; the reference uses 5.

    Args:
        codes: (n, d) L2-normalised cluster codes, one sample per row.
        eta: temperature; smaller means sharper neighbourhoods.
        n_iter: Sinkhorn iterations (each one row and one column normalisation).
        other: (m, d) codes for the columns; defaults to `codes` (the square case).

    Returns:
        (n, m) membership with rows summing to 1.
    """
    import torch

    cols = codes if other is None else other
    log_pi = (codes @ cols.T).abs() / eta
    # Potentials instead of rewriting log_pi in place: two n×m temporaries at a time, which matters at
    # read-out where n = m is ten thousand.
    u = torch.zeros(log_pi.shape[0], dtype=log_pi.dtype, device=log_pi.device)
    v = torch.zeros(log_pi.shape[1], dtype=log_pi.dtype, device=log_pi.device)
    for _ in range(n_iter):
        u = -torch.logsumexp(log_pi + v[None, :], dim=1)
        v = -torch.logsumexp(log_pi + u[:, None], dim=0)
    log_pi = log_pi + v[None, :]
    log_pi = log_pi - torch.logsumexp(log_pi, dim=1, keepdim=True)
    return log_pi.exp()
