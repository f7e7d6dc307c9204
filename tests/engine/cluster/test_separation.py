"""The cosine silhouette that referees the scale of small fits and moves k along the curve, and how distinctly the
features can be grouped at a given number of groups."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import silhouette_score

import engine.cluster.separation as separation
from engine.cluster.separation import album_silhouette, cosine_silhouette, grouping_silhouette


@pytest.mark.parametrize(("n", "k", "chunk"), [(40, 2, 2048), (300, 7, 64), (501, 12, 100)])
def test_equals_scikit_learns_cosine_silhouette(n: int, k: int, chunk: int) -> None:
    rng = np.random.default_rng(n)
    x = rng.standard_normal((n, 16))
    labels = rng.integers(0, k, n)
    labels[:3] = [0, 0, k - 1]  # every label present at least once
    x[labels == 1] += 1.5  # one cluster stands apart, so the score is not near 0 everywhere
    assert cosine_silhouette(x, labels, chunk=chunk) == pytest.approx(silhouette_score(x, labels, metric="cosine"))


def test_a_photo_alone_in_its_album_scores_zero() -> None:
    x = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0]])
    labels = np.array([0, 0, 1])
    assert cosine_silhouette(x, labels) == pytest.approx(silhouette_score(x, labels, metric="cosine"))


def test_distinct_albums_score_higher_than_an_album_split_in_two() -> None:
    rng = np.random.default_rng(0)
    centres = rng.standard_normal((2, 32)) * 3
    x = np.concatenate([c + rng.standard_normal((30, 32)) for c in centres])
    whole = np.repeat([0, 1], 30)
    split = np.concatenate([np.zeros(30, int), np.repeat([1, 2], 15)])
    assert cosine_silhouette(x, whole) > cosine_silhouette(x, split) + 0.1


def test_one_album_has_no_silhouette() -> None:
    assert cosine_silhouette(np.eye(3), np.zeros(3, dtype=int)) == -1.0


def test_photos_going_to_other_take_no_part_in_the_albums_silhouette() -> None:
    rng = np.random.default_rng(1)
    centres = rng.standard_normal((2, 32)) * 3
    x = np.concatenate([c + rng.standard_normal((30, 32)) for c in centres] + [rng.standard_normal((10, 32)) * 3])
    albums = np.repeat([0, 1, -1], [30, 30, 10])
    # The odd photos' rows are simply left out (and the labels need not be contiguous).
    assert album_silhouette(x, albums) == pytest.approx(cosine_silhouette(x[:60], albums[:60]))
    assert album_silhouette(x, np.where(albums == 1, 5, albums)) == pytest.approx(album_silhouette(x, albums))
    assert album_silhouette(x, np.where(albums == 1, -1, albums)) == -1.0  # one album left


def _blobs(sizes: list[int], seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((len(sizes), 32)) * 3
    x = np.concatenate([c + rng.standard_normal((m, 32)) for c, m in zip(centres, sizes, strict=True)])
    return x, np.repeat(np.arange(len(sizes)), sizes)


def test_grouping_finds_the_groups_the_features_hold() -> None:
    x, truth = _blobs([30, 20, 40, 25])
    assert grouping_silhouette(x, 4, [0, 1]) == pytest.approx(cosine_silhouette(x, truth))
    # Into fewer or more groups than the features hold, the best grouping is less distinct.
    assert grouping_silhouette(x, 3, [0, 1]) < grouping_silhouette(x, 4, [0, 1]) - 0.05
    assert grouping_silhouette(x, 6, [0, 1]) < grouping_silhouette(x, 4, [0, 1]) - 0.05


def test_grouping_keeps_the_start_of_lowest_inertia() -> None:
    x, _ = _blobs([30, 30, 30, 30, 30, 30], seed=3)
    starts = [separation.kmeans(separation._unit_rows(x), 6, seed) for seed in range(6)]
    best = min(starts, key=lambda fitted: fitted[1])[0]
    assert grouping_silhouette(x, 6, list(range(6))) == pytest.approx(cosine_silhouette(x, best))


def test_grouping_needs_two_groups_and_rows_to_fill_them() -> None:
    x, _ = _blobs([5, 5])
    assert grouping_silhouette(x, 1, [0]) == -1.0
    assert grouping_silhouette(x[:3], 3, [0]) == -1.0


def test_grouping_a_large_library_judges_a_fixed_sample(monkeypatch: pytest.MonkeyPatch) -> None:
    x, truth = _blobs([60, 60, 60])
    monkeypatch.setattr(separation, "GROUPING_ROWS", 50)
    seen: list[int] = []
    kmeans = separation.kmeans

    def counting_kmeans(f: np.ndarray, k: int, seed: int) -> tuple[np.ndarray, float]:
        seen.append(len(f))
        return kmeans(f, k, seed)

    monkeypatch.setattr(separation, "kmeans", counting_kmeans)
    first = grouping_silhouette(x, 3, [4, 5])
    assert seen == [50, 50]
    assert grouping_silhouette(x, 3, [4, 5]) == first  # the same rows each time: k is judged alike across ks
    assert first == pytest.approx(cosine_silhouette(x, truth), abs=0.05)
