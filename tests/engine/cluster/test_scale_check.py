"""The second head of small automatic fits: trained at a coarser temperature, kept when its albums are more
distinct in the input features (CPPClusterer._check_scale, algorithms.md §4)."""

from __future__ import annotations

import numpy as np
import pytest

import engine.cluster.estimator as estimator_module
from engine.cluster import CPPClusterer
from engine.cluster.persist import dump_estimator, load_estimator
from engine.errors import Cancelled
from engine.progress import RecordingProgress
from tests.engine.cluster.partitions import same_partition

COARSE_PHASE = "train cluster head at a coarser scale"
FAST = {"hidden_dim": 128, "z_dim": 16, "n_steps": 80, "warmup_steps": 37, "k_max": 10}


def _sub_mode_library(sizes: list[int], seed: int, dim: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """Albums whose photos fall into four close variants each (a toy shape drawn at different sizes and
    places), with some albums three times the others, like the tiny toy libraries that were over-split."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((len(sizes), dim))
    xs, truth = [], []
    for album, size in enumerate(sizes):
        variants = rng.standard_normal((4, dim))
        pick = rng.integers(0, 4, size)
        xs.append(centres[album] + 0.15 * variants[pick] + 0.15 * rng.standard_normal((size, dim)))
        truth += [album] * size
    x = np.concatenate(xs)
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32), np.asarray(truth)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_small_albums_made_of_variants_are_not_split_into_them(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    x, _ = _sub_mode_library([24, 8, 8, 24], seed)
    kept = CPPClusterer(random_state=0, device="cpu").fit(x)
    monkeypatch.setattr(estimator_module, "SCALE_CHECK_MAX", 0)
    monkeypatch.setattr(estimator_module, "most_distinct_k", lambda albums, x, k, seeds: k)  # the head's own k
    fine_only = CPPClusterer(random_state=0, device="cpu").fit(x)
    # The default temperature's head splits the four albums into their variants; the coarser one does not.
    assert fine_only.n_clusters_ >= 9
    assert kept.config_.eta == pytest.approx(0.25)
    assert kept.n_clusters_ <= 6


def test_on_the_exact_variant_library_all_four_albums_come_back() -> None:
    x, truth = _sub_mode_library([24, 8, 8, 24], 0)
    assert same_partition(CPPClusterer(random_state=0, device="cpu").fit(x).labels_, truth)


@pytest.fixture(scope="module")
def blobs() -> np.ndarray:
    rng = np.random.default_rng(3)
    centres = rng.standard_normal((3, 32))
    x = np.repeat(centres, 30, axis=0) + 0.3 * rng.standard_normal((90, 32))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


@pytest.mark.parametrize(
    ("fine", "coarse", "kept_eta"),
    [(0.50, 0.52, 0.25), (0.50, 0.505, 0.175), (0.60, 0.40, 0.175)],
    ids=["clearly-more-distinct", "within-the-margin", "less-distinct"],
)
def test_the_coarser_head_is_kept_only_when_clearly_more_distinct(
    blobs: np.ndarray, monkeypatch: pytest.MonkeyPatch, fine: float, coarse: float, kept_eta: float
) -> None:
    scores = {0.175: fine, 0.25: coarse}
    monkeypatch.setattr(CPPClusterer, "_separation", lambda self, x: scores[round(self.config_.eta, 3)])
    est = CPPClusterer(random_state=0, device="cpu", **FAST).fit(blobs)
    assert est.config_.eta == pytest.approx(kept_eta)
    # Everything fitted comes from the kept head: its curve, its read-out, its features.
    assert np.array_equal(est.labels_, est.labels_for(est.n_clusters_))
    assert np.array_equal(est.predict(blobs), est.labels_)
    assert max(est.coding_lengths_) >= est.n_clusters_


def test_only_small_automatic_fits_train_a_second_head(blobs: np.ndarray, monkeypatch: pytest.MonkeyPatch) -> None:
    def phases(**params: object) -> list[str]:
        progress = RecordingProgress()
        CPPClusterer(random_state=0, device="cpu", **FAST, **params).fit(blobs, progress=progress)
        return [name for name, _ in progress.phases]

    small = phases()
    assert small.count("train cluster head") == 1
    assert small.count(COARSE_PHASE) == 1
    assert COARSE_PHASE not in phases(n_clusters=3)  # a k the user chose needs no choice of scale
    monkeypatch.setattr(estimator_module, "SCALE_CHECK_MAX", len(blobs))
    assert COARSE_PHASE not in phases()


def test_cancelling_the_second_head_cancels_the_fit(blobs: np.ndarray) -> None:
    class StopInSecondHead(RecordingProgress):
        def is_cancelled(self) -> bool:
            return bool(self.phases) and self.phases[-1][0] == COARSE_PHASE

    with pytest.raises(Cancelled):
        CPPClusterer(random_state=0, device="cpu", **FAST).fit(blobs, progress=StopInSecondHead())


def test_a_kept_coarser_head_is_stored_and_loaded_as_fitted() -> None:
    x, _ = _sub_mode_library([24, 8, 8, 24], 0)
    est = CPPClusterer(random_state=0, device="cpu").fit(x)
    assert est.config_.eta == pytest.approx(0.25)
    loaded = load_estimator(dump_estimator(est))
    assert loaded.config_.eta == pytest.approx(0.25)
    assert loaded.n_clusters_ == est.n_clusters_
    assert np.array_equal(loaded.predict(x), est.predict(x))


def test_from_the_bound_on_k_moves_along_one_heads_curve(monkeypatch: pytest.MonkeyPatch) -> None:
    x, _ = _sub_mode_library([24, 8, 8, 24], 0)
    asked: list[int] = []

    def most_distinct_k(albums: dict[int, np.ndarray], features: np.ndarray, k: int, seeds: list[int]) -> int:
        asked.append(len(features))
        assert set(albums) == set(fitted._curve.labels) and all(len(a) == len(x) for a in albums.values())
        return max(albums)

    monkeypatch.setattr(estimator_module, "most_distinct_k", most_distinct_k)
    fitted = CPPClusterer(random_state=0, device="cpu")
    fitted.fit(x)
    assert asked == []  # below the bound the silhouette only referees the two heads
    monkeypatch.setattr(estimator_module, "SCALE_CHECK_MAX", len(x))
    fitted.fit(x)
    assert asked == [len(x)] and fitted.n_clusters_ == max(fitted._curve.labels)
    assert fitted.config_.eta == pytest.approx(0.175)  # one head: no coarser one from the bound on
    assert CPPClusterer(n_clusters=3, random_state=0, device="cpu").fit(x).n_clusters_ == 3 and len(asked) == 1
