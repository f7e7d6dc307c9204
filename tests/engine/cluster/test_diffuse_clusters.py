"""Photos that fit no album go to Other: a cluster no more alike than random photos is not an album (§3.7)."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

import engine.cluster.separation as separation
from engine.cluster import CPPClusterer
from engine.cluster.persist import StoredEstimator, dump_estimator, load_estimator
from engine.cluster.separation import IncoherenceTest
from engine.errors import CatalogError


def _noisy_library(sizes: list[int], n_noise: int, seed: int, dim: int = 128) -> tuple[np.ndarray, np.ndarray]:
    """Albums on curved low-dimensional patches inside a shared cone, and odd photos scattered around the cone's
    axis (truth −1): each odd photo is about as close to every album as to the others, like the noisy
    synthetic set of bench/RESULTS-cluster.md."""
    rng = np.random.default_rng(seed)
    common = rng.standard_normal(dim)
    common /= np.linalg.norm(common)
    xs, truth = [], []
    for album, size in enumerate(sizes):
        centre = 0.5 * common + rng.standard_normal(dim) / np.sqrt(dim)
        basis = np.linalg.qr(rng.standard_normal((dim, 3)))[0]
        xs.append(centre + 0.3 * rng.standard_normal((size, 3)) @ basis.T + 0.02 * rng.standard_normal((size, dim)))
        truth += [album] * size
    xs.append(0.6 * common + 0.8 * rng.standard_normal((n_noise, dim)) / np.sqrt(dim))
    truth += [-1] * n_noise
    x = np.concatenate(xs)
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32), np.asarray(truth)


def test_the_cloud_of_odd_photos_is_the_one_diffuse_cluster() -> None:
    x, truth = _noisy_library([60, 50, 40], 30, seed=0)
    labels = np.where(truth < 0, 3, truth)
    assert IncoherenceTest(x, seed=0).incoherent(labels) == [3]
    assert IncoherenceTest(x[truth >= 0], seed=0).incoherent(truth[truth >= 0]) == []


def test_identical_or_blank_photos_and_tiny_clusters_are_not_judged_diffuse() -> None:
    rng = np.random.default_rng(1)
    scattered = rng.standard_normal((40, 64))
    same = np.tile(scattered[:1], (10, 1))
    x = np.vstack([scattered, same, np.zeros((10, 64))])
    labels = np.repeat([0, 1, 2], [40, 10, 10])
    labels[:2] = 3  # a cluster of two photos
    assert 1 not in IncoherenceTest(x, seed=0).incoherent(labels)
    assert 2 not in IncoherenceTest(x, seed=0).incoherent(labels)
    assert 3 not in IncoherenceTest(x, seed=0).incoherent(labels)


@pytest.fixture(scope="module")
def noisy() -> tuple[np.ndarray, np.ndarray, CPPClusterer]:
    x, truth = _noisy_library([120, 90, 70, 60, 50], 30, seed=1)
    return x, truth, CPPClusterer(random_state=0, device="cpu").fit(x)


def test_odd_photos_go_to_other_instead_of_an_album_of_their_own(noisy: tuple) -> None:
    _, truth, est = noisy
    albums = set(est.labels_[est.labels_ >= 0].tolist())
    assert len(albums) == 5
    assert (est.labels_[truth < 0] == -1).mean() >= 0.95
    assert (est.labels_[truth >= 0] >= 0).all()  # no real album loses a photo to Other


def test_without_the_test_the_odd_photos_make_an_extra_album(noisy: tuple, monkeypatch: pytest.MonkeyPatch) -> None:
    x, _, _ = noisy
    monkeypatch.setattr(separation, "INCOHERENT_RATIO", float("inf"))
    est = CPPClusterer(random_state=0, device="cpu").fit(x)
    assert len(set(est.labels_[est.labels_ >= 0].tolist())) == 6
    assert (est.labels_ >= 0).all()


def test_other_ks_read_out_later_dissolve_the_cloud_too(noisy: tuple) -> None:
    _, truth, est = noisy
    more = est.labels_for(est.n_clusters_ + 1)
    assert (more[truth < 0] == -1).mean() >= 0.9


def test_the_diffuse_clusters_are_stored_with_the_model(noisy: tuple) -> None:
    _, _, est = noisy
    loaded = load_estimator(dump_estimator(est))
    assert loaded._incoherent == est._incoherent
    for k in (est.n_clusters_, est.n_clusters_ + 1):
        assert np.array_equal(loaded.labels_for(k), est.labels_for(k))


_REMOVED = object()


def _stored_with(est: CPPClusterer, field: str, value: object = _REMOVED) -> StoredEstimator:
    """The estimator as stored, with one fitted field of its description replaced (or removed)."""
    stored = dump_estimator(est)
    description = json.loads(stored.description)
    if value is _REMOVED:
        del description["fitted"][field]
    else:
        description["fitted"][field] = value
    return dataclasses.replace(stored, description=json.dumps(description))


def test_a_model_stored_before_diffuse_clusters_loads_with_none(noisy: tuple) -> None:
    _, _, est = noisy
    loaded = load_estimator(_stored_with(est, "incoherent"))
    assert loaded._incoherent == {}
    assert len(set(loaded.labels_for(est.n_clusters_ + 1).tolist()) - {-1}) >= 5
    assert load_estimator(_stored_with(est, "album_counts")).album_counts_ == {}


def test_album_counts_leave_out_the_diffuse_cluster_and_are_stored(noisy: tuple) -> None:
    _, _, est = noisy
    for k, count in est.album_counts_.items():
        labels = est.labels_for(k)
        assert count == len(np.unique(labels[labels >= 0])), k  # exact: the sample is the whole library
    assert est.album_counts_[est.n_clusters_] == est.n_clusters_ - 1
    loaded = load_estimator(dump_estimator(est))
    assert loaded.album_counts_ == est.album_counts_


@pytest.mark.parametrize(
    ("field", "bad"),
    [
        *(("incoherent", bad) for bad in ({"x": 1}, [[3]], [[999, [0]]], [[6, [6]]], [[6, ["0"]]])),
        *(("album_counts", bad) for bad in ({"x": 1}, [[6]], [[999, 1]], [[6, 7]], [[6, 0]], [[6, "5"]])),
    ],
)
def test_damaged_fitted_fields_read_as_a_damaged_model(noisy: tuple, field: str, bad: object) -> None:
    with pytest.raises(CatalogError):
        load_estimator(_stored_with(noisy[2], field, bad))
