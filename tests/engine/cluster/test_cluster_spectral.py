"""Spectral read-out, including graphs with more connected components than k."""

from __future__ import annotations

import numpy as np
import pytest

from engine.cluster.spectral import spectral_embedding, spectral_labels, symmetric_affinity
from tests.engine.cluster.partitions import block_affinity, same_partition


def test_connected_blocks_are_recovered() -> None:
    w, truth = block_affinity([30, 20, 10], link=0.01)
    emb = spectral_embedding(w, 5)
    assert emb.n_components == 1
    labels, _ = spectral_labels(emb, 3, np.eye(60))
    assert same_partition(labels, truth)


@pytest.mark.parametrize("k", [2, 3, 4])
def test_more_components_than_k_are_merged_not_failed(k: int) -> None:
    w, truth = block_affinity([25, 20, 15, 10], link=0.0)
    emb = spectral_embedding(w, 6)
    assert emb.n_components == 4
    features = np.eye(4)[truth]
    labels, _ = spectral_labels(emb, k, features)
    assert len(np.unique(labels)) == k
    # Every component stays whole inside one cluster.
    for block in range(4):
        assert len(np.unique(labels[truth == block])) == 1
    if k == 4:
        assert same_partition(labels, truth)


def test_isolated_node_does_not_break_the_embedding() -> None:
    w, _ = block_affinity([10, 10], link=0.01)
    w = np.pad(w, ((0, 1), (0, 1)))  # node 20 has no links at all
    emb = spectral_embedding(w, 3)
    assert np.isfinite(emb.vectors).all()
    assert emb.n_components == 2
    labels, _ = spectral_labels(emb, 2, np.eye(21))
    assert len(np.unique(labels)) == 2


def test_sparsified_affinity_is_symmetric_and_keeps_neighbours() -> None:
    w, truth = block_affinity([15, 15], link=0.001)
    sparse_w = symmetric_affinity(w, n_neighbors=5)
    dense = sparse_w.toarray()
    np.testing.assert_allclose(dense, dense.T)
    rows, cols = np.nonzero(dense)
    assert (truth[rows] == truth[cols]).all()  # the strongest links are all within blocks


def test_large_graph_uses_arpack_and_agrees() -> None:
    w, truth = block_affinity([900, 700], link=0.001)
    emb = spectral_embedding(w, 3, seed=1)
    labels, _ = spectral_labels(emb, 2, np.eye(2)[truth])
    assert same_partition(labels, truth)
