"""Coding rates and coding length against a direct float64 NumPy computation of the spec's formulas."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from engine.cluster.coding_rate import coding_length, compression_rate, expansion_rate, logdet_spd


def _unit_rows(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    z = rng.standard_normal((n, d))
    return z / np.linalg.norm(z, axis=1, keepdims=True)


def _np_expansion(z: np.ndarray, eps2: float) -> float:
    n, d = z.shape
    return 0.5 * np.linalg.slogdet(np.eye(d) + d / (n * eps2) * z.T @ z)[1]


def _np_compression(z: np.ndarray, pi: np.ndarray, eps2: float) -> float:
    # The spec literally: Z (d×n) Π_j Zᵀ with Π_j = diag(column j), one column at a time.
    n, d = z.shape
    zt = z.T
    total = 0.0
    for j in range(pi.shape[1]):
        tr = pi[:, j].sum()
        cov = zt @ np.diag(pi[:, j]) @ zt.T
        total += tr / (2 * n) * np.linalg.slogdet(np.eye(d) + d / (tr * eps2) * cov)[1]
    return total


@pytest.mark.parametrize(("n", "d"), [(40, 8), (6, 16)])  # d ≤ n uses d×d matrices, n < d the Gram form
def test_expansion_rate_matches_numpy(n: int, d: int) -> None:
    z = _unit_rows(np.random.default_rng(n), n, d)
    got = expansion_rate(torch.from_numpy(z).float(), eps2=0.1).item()
    assert got == pytest.approx(_np_expansion(z, 0.1), rel=1e-4)


@pytest.mark.parametrize(("n", "d"), [(30, 8), (7, 12)])
def test_compression_rate_matches_numpy(n: int, d: int) -> None:
    rng = np.random.default_rng(d)
    z = _unit_rows(rng, n, d)
    pi = rng.random((n, n)) ** 4  # uneven weights, like a sharp membership
    pi /= pi.sum(1, keepdims=True)
    got = compression_rate(torch.from_numpy(z).float(), torch.from_numpy(pi).float(), eps2=0.1).item()
    assert got == pytest.approx(_np_compression(z, pi, 0.1), rel=1e-4)


def test_compression_rate_is_smaller_for_a_clustered_membership() -> None:
    rng = np.random.default_rng(0)
    z = torch.from_numpy(_unit_rows(rng, 20, 6)).float()
    uniform = torch.full((20, 20), 1 / 20)
    identity = torch.eye(20)
    # Each sample alone codes in a 1-d subspace: much cheaper than everyone sharing the whole space.
    assert compression_rate(z, identity).item() < compression_rate(z, uniform).item()


def test_logdet_spd_batched() -> None:
    rng = np.random.default_rng(1)
    a = rng.standard_normal((5, 4, 4))
    m = np.eye(4) + a @ a.transpose(0, 2, 1)
    got = logdet_spd(torch.from_numpy(m)).numpy()
    np.testing.assert_allclose(got, np.linalg.slogdet(m)[1], rtol=1e-10)


def test_coding_length_matches_direct_formula() -> None:
    rng = np.random.default_rng(2)
    z = _unit_rows(rng, 50, 10)
    labels = rng.integers(0, 3, size=50)
    expected = 0.0
    for j in range(3):
        zj = z[labels == j].T  # d × m_j, as in the spec
        m = zj.shape[1]
        logdet = np.linalg.slogdet(np.eye(10) + 10 / (0.1 * m) * zj @ zj.T)[1]
        expected += (m + 10) / 2 * logdet + m * -math.log(m / 50)
    assert coding_length(z, labels, eps2=0.1) == pytest.approx(expected, rel=1e-10)


def test_coding_length_ignores_other_and_prefers_true_clusters() -> None:
    rng = np.random.default_rng(3)
    # Three clusters on three orthogonal lines: the right partition codes shorter than one cluster.
    basis = np.eye(9)[:3]
    labels = np.repeat(np.arange(3), 40)
    z = basis[labels] + 0.01 * rng.standard_normal((120, 9))
    z /= np.linalg.norm(z, axis=1, keepdims=True)
    assert coding_length(z, labels) < coding_length(z, np.zeros(120, dtype=int))
    with_other = labels.copy()
    with_other[:5] = -1
    assert coding_length(z, with_other) == pytest.approx(coding_length(z[5:], labels[5:]))
