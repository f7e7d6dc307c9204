"""Choosing k: the spectral gap of the membership when it is clear, the coding length otherwise."""

from __future__ import annotations

import numpy as np
import pytest

from engine.cluster.choose_k import (
    GAP_CLEAR,
    SEPARATION_STEP,
    automatic_k,
    coding_length_curve,
    most_distinct_k,
    spectral_gap,
)
from engine.cluster.separation import album_silhouette, grouping_silhouette
from engine.cluster.spectral import spectral_embedding
from engine.progress import NullProgress
from tests.engine.cluster.partitions import block_affinity, same_partition


def _features(truth: np.ndarray, dim: int = 8, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((truth.max() + 1, dim))
    z = centres[truth] + 0.3 * rng.standard_normal((len(truth), dim))
    return z / np.linalg.norm(z, axis=1, keepdims=True)


def test_gap_is_the_widest_fall_after_k() -> None:
    values = np.array([1.0, 0.95, 0.95, 0.94, 0.30, 0.25, 0.2])
    k, width = spectral_gap(values, k_cap=6)
    assert k == 4
    assert width == pytest.approx(0.64)


def test_gap_never_says_one_cluster_and_respects_the_cap() -> None:
    values = np.array([1.0, 0.1, 0.09, 0.05, 0.04, 0.01])
    k, width = spectral_gap(values, k_cap=4)
    assert 2 <= k <= 4
    assert width < GAP_CLEAR  # the fall after k = 1 is not a candidate
    values = np.array([1.0, 0.95, 0.94, 0.93, 0.1])
    assert spectral_gap(values, k_cap=3)[0] != 4  # the real gap lies beyond the cap


def test_gap_needs_a_spectrum_long_enough() -> None:
    assert spectral_gap(np.array([1.0, 0.5]), k_cap=5) is None
    assert spectral_gap(np.array([1.0, 0.9, 0.2]), k_cap=1) is None


def test_the_embedding_keeps_one_eigenvalue_beyond_its_vectors() -> None:
    w, _ = block_affinity([20, 15, 10], link=0.01)
    emb = spectral_embedding(w, 4)
    assert emb.vectors.shape[1] == 4
    assert len(emb.values) == 5
    assert np.all(np.diff(emb.values) <= 1e-12)  # largest first
    d = w.sum(1)
    full = np.sort(np.linalg.eigvalsh(w / np.sqrt(d[:, None] * d[None, :])))[::-1]
    np.testing.assert_allclose(emb.values, full[:5], atol=1e-9)


def test_a_clear_gap_sets_k_and_joins_the_curve() -> None:
    w, truth = block_affinity([14, 12, 12, 10, 9, 8], link=0.002)
    z = _features(truth)
    emb = spectral_embedding(w, 12)
    assert spectral_gap(emb.values, 12)[1] >= GAP_CLEAR
    # A curve that stopped short of 6 (as an early-stopped grid would) still gets 6 from the gap.
    curve = coding_length_curve(emb, z, [1, 2, 3, 4], [0, 1], NullProgress())
    k = automatic_k(curve, emb, z, [0, 1])
    assert k == 6
    assert 6 in curve.lengths and list(curve.lengths) == sorted(curve.lengths)
    assert same_partition(curve.labels[6], truth)


def test_without_a_clear_gap_the_coding_length_decides() -> None:
    rng = np.random.default_rng(3)
    w = rng.random((60, 60))
    w = (w + w.T) / 2  # no block structure: the spectrum falls gently after its top
    emb = spectral_embedding(w, 10)
    assert spectral_gap(emb.values, 10)[1] < GAP_CLEAR
    z = _features(rng.integers(0, 3, 60))
    curve = coding_length_curve(emb, z, list(range(1, 9)), [0, 1], NullProgress())
    before = dict(curve.lengths)
    assert automatic_k(curve, emb, z, [0, 1]) == curve.best_k()
    assert curve.lengths == before


def _shared_colour_clusters(k: int, per: int, seed: int = 0, dim: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """k clusters whose centres are a 'colour' shared by three of them plus a weaker 'shape', like the toy
    libraries where a blue circle and a blue hexagon are both albums."""
    rng = np.random.default_rng(seed)
    colours, shapes = rng.standard_normal((k, dim)), rng.standard_normal((k, dim))
    truth = np.repeat(np.arange(k), per)
    pairs = [(j // 3, j % 3 + 3 * (j // 9)) for j in range(k)]
    centres = np.stack([colours[c] + 0.35 * shapes[s] for c, s in pairs])
    x = centres[truth] + 0.5 * np.sqrt(dim / 8) * rng.standard_normal((len(truth), dim)) / np.sqrt(dim)
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32), truth


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fourteen_small_albums_sharing_colours_are_all_found(seed: int) -> None:
    # In the learned 16-d features the coding length alone chose 12 or 13 here, merging same-colour clusters;
    # the membership's spectrum shows all 14.
    from engine.cluster import CPPClusterer

    x, truth = _shared_colour_clusters(14, 10, seed)
    est = CPPClusterer(random_state=0, device="cpu").fit(x)
    assert est.n_clusters_ == 14
    assert same_partition(est.labels_, truth)


def test_blocks_of_one_or_two_photos_are_not_albums() -> None:
    # Six real blocks and a pair of odd photos with a block of their own: the gap says 7, the albums are 6.
    w, truth = block_affinity([14, 12, 12, 10, 9, 8, 2], link=0.002)
    z = _features(truth)
    emb = spectral_embedding(w, 12)
    assert spectral_gap(emb.values, 12)[0] == 7
    curve = coding_length_curve(emb, z, list(range(1, 10)), [0, 1], NullProgress())
    assert automatic_k(curve, emb, z, [0, 1]) == 6


def _four_albums(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Four distinct albums of 40 photos in 32-d pretrained features, and the truth."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((4, 32)) * 3
    return np.concatenate([c + rng.standard_normal((40, 32)) for c in centres]), np.repeat(np.arange(4), 40)


def _partitions(truth: np.ndarray) -> dict[int, np.ndarray]:
    """Curve partitions around the truth: two albums merged (3), the truth (4), one album split in halves (5)."""
    split = truth.copy()
    split[np.flatnonzero(truth == 0)[::2]] = 4
    return {2: np.minimum(truth, 1), 3: np.minimum(truth, 2), 4: truth, 5: split}


SEEDS = [0, 1, 2]


@pytest.mark.parametrize("chosen", [3, 4, 5])
def test_k_moves_to_where_the_albums_are_clearly_more_distinct(chosen: int) -> None:
    x, truth = _four_albums()
    assert most_distinct_k(_partitions(truth), x, chosen, SEEDS) == 4


def test_a_pair_the_head_merges_at_every_k_is_judged_by_what_the_features_allow(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import engine.cluster.choose_k as choose_k

    x, truth = _four_albums()
    merged = np.minimum(truth, 2)  # albums 2 and 3 as one
    poor = merged.copy()
    poor[np.flatnonzero(truth == 0)[::2]] = 3  # the head's 4: the pair still merged, another album split instead
    assert album_silhouette(x, poor) < album_silhouette(x, merged)
    # k-means in the features separates the pair, so 4 albums can be more distinct than 3: k moves to 4.
    assert most_distinct_k({3: merged, 4: poor}, x, 3, SEEDS) == 4
    # Judged by the head's own partitions only, 4 would look worse than 3.
    monkeypatch.setattr(choose_k, "grouping_silhouette", lambda rows, groups, seeds: -1.0)
    assert most_distinct_k({3: merged, 4: poor}, x, 3, SEEDS) == 3


def test_where_k_means_groups_worse_the_heads_own_albums_speak(monkeypatch: pytest.MonkeyPatch) -> None:
    import engine.cluster.choose_k as choose_k

    x, truth = _four_albums()
    asked: list[tuple[int, int]] = []

    def poor_grouping(rows: np.ndarray, groups: int, seeds: list[int]) -> float:
        asked.append((len(rows), groups))
        return 0.0  # albums curved in feature space, which k-means cuts across

    monkeypatch.setattr(choose_k, "grouping_silhouette", poor_grouping)
    assert most_distinct_k(_partitions(truth), x, 3, SEEDS) == 4
    assert asked == [(160, 4), (160, 5)]  # only the ks above the head's k are grouped
    asked.clear()
    most_distinct_k(_partitions(truth), x, 2, SEEDS)
    assert asked == [(160, 3), (160, 4)]  # and up to twice it: every album a merged pair


def _two_levels(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two kinds of photo far apart, each of three albums: clothes (shirts, coats, dresses) and shoes."""
    rng = np.random.default_rng(seed)
    kinds = rng.standard_normal((2, 32)) * 4
    albums = np.concatenate([kind + rng.standard_normal((3, 32)) for kind in kinds])
    truth = np.repeat(np.arange(6), 30)
    return albums[truth] + 0.6 * rng.standard_normal((len(truth), 32)), truth


def test_fewer_albums_are_judged_by_the_heads_own_albums_alone() -> None:
    x, truth = _two_levels()
    kinds = truth // 3
    # k-means finds the coarser level cleanly, and the silhouette favours it over the six albums.
    assert grouping_silhouette(x, 2, SEEDS) > album_silhouette(x, truth) + 0.1
    mixed = truth % 2  # the head's own partition at k = 2 is not the coarser level
    assert most_distinct_k({2: mixed, 6: truth}, x, 6, SEEDS) == 6
    assert most_distinct_k({2: kinds, 6: truth}, x, 6, SEEDS) == 2  # its own coarser albums still may win


def test_each_step_away_costs_separation(monkeypatch: pytest.MonkeyPatch) -> None:
    import engine.cluster.choose_k as choose_k

    monkeypatch.setattr(choose_k, "grouping_silhouette", lambda rows, groups, seeds: -1.0)  # the albums alone
    x, truth = _four_albums()
    nudged = truth.copy()
    nudged[:2] = [4, 5]  # k = 6: two photos alone, a little less distinct than the truth two steps away
    gain = album_silhouette(x, truth) - album_silhouette(x, nudged)
    assert gain > 0
    monkeypatch.setattr(choose_k, "SEPARATION_STEP", gain)  # two steps cost twice the gain: stay
    assert most_distinct_k({4: truth, 6: nudged}, x, 6, SEEDS) == 6
    monkeypatch.setattr(choose_k, "SEPARATION_STEP", gain / 4)  # two steps cost half of it: move
    assert most_distinct_k({4: truth, 6: nudged}, x, 6, SEEDS) == 4
    assert SEPARATION_STEP == 0.01


def test_one_cluster_stays_and_photos_in_other_take_no_part() -> None:
    x, truth = _four_albums()
    assert most_distinct_k(_partitions(truth), x, 1, SEEDS) == 1  # one cluster has no silhouette to compare
    # Odd photos sent to Other by k = 5 do not count against it: its albums are the four true ones.
    odd = np.random.default_rng(1).standard_normal((12, 32)) * 3
    x_odd = np.concatenate([x, odd])
    albums = {4: np.concatenate([truth, np.zeros(12, int)]), 5: np.concatenate([truth, np.full(12, -1)])}
    assert most_distinct_k(albums, x_odd, 4, SEEDS) == 5
