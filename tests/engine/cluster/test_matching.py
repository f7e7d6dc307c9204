"""The assignment solver albums and names use, against scipy's `linear_sum_assignment`."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment

from engine.cluster.matching import max_value_matching


@pytest.mark.parametrize("seed", range(5))
def test_same_best_total_as_scipy_with_ties_zeros_and_forbidden_pairs(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for _ in range(200):
        m, n = rng.integers(1, 12, 2)
        value = rng.integers(0, 4, (m, n)).astype(float)  # many ties, many zeros
        value[rng.random((m, n)) < 0.2] = -1e9
        rows, cols = max_value_matching(value)
        want_rows, want_cols = linear_sum_assignment(value, maximize=True)
        assert len(rows) == min(m, n)
        assert list(rows) == sorted(rows) and len(set(cols)) == len(cols)
        assert value[rows, cols].sum() == pytest.approx(value[want_rows, want_cols].sum())


def test_a_clear_best_matching_is_found() -> None:
    value = np.array([[1.0, 9.0, 0.0], [8.0, 1.0, 0.0]])
    rows, cols = max_value_matching(value)
    assert rows.tolist() == [0, 1] and cols.tolist() == [1, 0]
    rows, cols = max_value_matching(value.T)  # more rows than columns
    assert rows.tolist() == [0, 1] and cols.tolist() == [1, 0]


def test_empty_and_bad_shapes() -> None:
    rows, cols = max_value_matching(np.zeros((0, 3)))
    assert rows.size == cols.size == 0
    with pytest.raises(ValueError, match="2-D"):
        max_value_matching(np.zeros(3))
