"""The cosine silhouette that referees the scale of small fits and moves k along the curve of larger ones."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import silhouette_score

from engine.cluster.separation import album_silhouette, cosine_silhouette


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
