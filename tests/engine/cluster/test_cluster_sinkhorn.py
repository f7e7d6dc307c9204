"""The Sinkhorn membership is a proper (doubly) stochastic matrix and stays finite at low temperature."""

from __future__ import annotations

import torch
from torch.nn import functional as F

from engine.cluster.sinkhorn import sinkhorn_membership


def _codes(n: int, d: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return F.normalize(torch.randn(n, d, generator=g), dim=1)


def test_rows_and_columns_sum_to_one_when_converged() -> None:
    pi = sinkhorn_membership(_codes(64, 8, 0), eta=0.175, n_iter=100)
    assert (pi >= 0).all()
    torch.testing.assert_close(pi.sum(1), torch.ones(64), atol=1e-4, rtol=0)
    torch.testing.assert_close(pi.sum(0), torch.ones(64), atol=1e-3, rtol=0)


def test_rows_sum_to_one_after_few_iterations() -> None:
    pi = sinkhorn_membership(_codes(50, 8, 1), eta=0.175, n_iter=5)
    torch.testing.assert_close(pi.sum(1), torch.ones(50), atol=1e-5, rtol=0)
    # Five iterations already bring the columns close to doubly stochastic.
    assert (pi.sum(0) - 1).abs().max() < 0.2


def test_low_temperature_is_finite_and_sharp() -> None:
    codes = _codes(40, 8, 2)
    pi = sinkhorn_membership(codes, eta=0.01, n_iter=20)
    assert torch.isfinite(pi).all()
    # At low temperature each sample's membership concentrates on its most similar codes (itself first).
    assert (pi.argmax(1) == torch.arange(40)).float().mean() > 0.9


def test_rectangular_columns() -> None:
    pi = sinkhorn_membership(_codes(10, 4, 3), other=_codes(30, 4, 4))
    assert pi.shape == (10, 30)
    torch.testing.assert_close(pi.sum(1), torch.ones(10), atol=1e-5, rtol=0)
