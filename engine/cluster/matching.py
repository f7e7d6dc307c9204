"""A one-to-one matching of maximum total value (the assignment problem), for albums and names.

scipy's `linear_sum_assignment` lives in `scipy.optimize`, whose import (linear programming and all) cost
0.11 s of every re-cluster; `scipy.sparse.csgraph`, which the spectral read-out imports anyway, solves the
same problem (`min_weight_full_bipartite_matching`, LAPJVsp).
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import min_weight_full_bipartite_matching


def max_value_matching(value: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows and columns of a matching of maximum total value: min(m, n) pairs, rows ascending, as
    `scipy.optimize.linear_sum_assignment(value, maximize=True)` gives (the same total; among equal totals the
    pairs may differ).

    Args:
        value: (m, n) finite values; a very negative one (−1e9) keeps a pair out whenever another way exists.
    """
    value = np.asarray(value, dtype=np.float64)
    if value.ndim != 2:
        raise ValueError(f"value must be a 2-D matrix, got shape {value.shape}")
    if 0 in value.shape:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    # The sparse solver reads a zero as "no edge", so the costs are shifted to 1 and above. Every full matching
    # has min(m, n) pairs, so a constant shift leaves the best one the best.
    cost = value.max() - value + 1.0
    rows, cols = min_weight_full_bipartite_matching(sparse.csr_matrix(cost))
    order = np.argsort(rows)
    return rows[order].astype(np.int64), cols[order].astype(np.int64)
