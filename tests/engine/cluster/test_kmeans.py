"""The read-out's k-means: k-means++ seeding, Lloyd's iterations, empty clusters, determinism."""

from __future__ import annotations

import numpy as np
import pytest

from engine.cluster.kmeans import kmeans, plus_plus_centres
from tests.engine.cluster.partitions import same_partition


def _blobs(k: int, per: int, dim: int, spread: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((k, dim)) * 3
    truth = np.repeat(np.arange(k), per)
    return centres[truth] + spread * rng.standard_normal((k * per, dim)), truth


@pytest.mark.parametrize(("k", "dim"), [(2, 2), (7, 7), (20, 20)])
def test_separated_blobs_are_recovered(k: int, dim: int) -> None:
    x, truth = _blobs(k, 15, dim, spread=0.2)
    labels, inertia = kmeans(x, k, seed=0)
    assert same_partition(labels, truth)
    # The inertia is the sum of squared distances to the cluster means.
    means = np.stack([x[labels == c].mean(0) for c in range(k)])
    assert inertia == pytest.approx(float(((x - means[labels]) ** 2).sum()), rel=1e-9)


def test_same_seed_same_partition_and_seeds_differ_in_their_start() -> None:
    x, _ = _blobs(6, 20, 4, spread=1.5)
    np.testing.assert_array_equal(kmeans(x, 6, seed=3)[0], kmeans(x, 6, seed=3)[0])
    starts = {tuple(plus_plus_centres(x, 6, np.random.default_rng(s))[0]) for s in range(5)}
    assert len(starts) > 1


def test_plus_plus_spreads_its_centres_over_the_blobs() -> None:
    x, truth = _blobs(8, 10, 8, spread=0.1)
    centres = plus_plus_centres(x, 8, np.random.default_rng(0))
    nearest_blob = {int(truth[np.argmin(((x - c) ** 2).sum(1))]) for c in centres}
    assert len(nearest_blob) == 8  # one centre in every blob


def test_k_clusters_come_back_even_with_duplicated_rows() -> None:
    # Many copies of a few rows: a centre can start on a copy of another's row and lose every point.
    x = np.repeat(np.eye(5), [30, 1, 1, 1, 1], axis=0)
    labels, inertia = kmeans(x, 5, seed=0)
    assert len(np.unique(labels)) == 5
    assert inertia == pytest.approx(0.0, abs=1e-12)


def test_one_cluster_and_one_row() -> None:
    x, _ = _blobs(3, 5, 2, spread=1.0)
    labels, inertia = kmeans(x, 1)
    assert not labels.any()
    assert inertia == pytest.approx(float(((x - x.mean(0)) ** 2).sum()))
    assert kmeans(x[:1], 3)[0].tolist() == [0]
