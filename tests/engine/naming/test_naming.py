"""Naming clusters from text embeddings: synthetic CLIP-like spaces, no model weights."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import numpy as np
import pytest

from engine.errors import InvalidInputError
from engine.naming.names import ClusterName, format_date_span, name_clusters

D = 64
WORDS = ["beach", "mountain", "cat", "golden retriever", "birthday party", "snowy mountain", "receipt", "car"]
VOCAB = WORDS + [f"thing {i}" for i in range(50 - len(WORDS))]


def unit(a: np.ndarray) -> np.ndarray:
    return a / np.linalg.norm(a, axis=-1, keepdims=True)


def candidates(seed: int, m: int = len(VOCAB)) -> np.ndarray:
    return unit(np.random.default_rng(seed).standard_normal((m, D))).astype(np.float32)


def photos_of(direction: np.ndarray, count: int, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """Noisy copies of a text direction: normalise(t + σ·noise), noise of unit expected norm."""
    noise = rng.standard_normal((count, D)) / np.sqrt(D)
    return unit(direction[None, :] + sigma * noise).astype(np.float32)


def world(
    clusters: list[int | np.ndarray | None], sizes: list[int], sigma: float = 0.5, seed: int = 0, m: int = len(VOCAB)
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """Photos, labels 0..k-1, candidate embeddings and names. A cluster is built from a candidate index,
    an explicit direction, or (None) pure noise."""
    rng = np.random.default_rng(1000 + seed)
    text = candidates(seed, m)
    xs, labels = [], []
    for label, (source, size) in enumerate(zip(clusters, sizes, strict=True)):
        if source is None:
            xs.append(unit(rng.standard_normal((size, D))).astype(np.float32))
        else:
            direction = text[source] if isinstance(source, int) else source
            xs.append(photos_of(direction, size, sigma, rng))
        labels += [label] * size
    return np.vstack(xs), np.array(labels), text, VOCAB[:m]


def run(x, labels, text, names, **kwargs) -> list[ClusterName]:
    return name_clusters(x, labels, text, names, [None] * len(labels), **kwargs)


def test_each_cluster_gets_the_candidate_it_was_built_from() -> None:
    x, labels, text, names = world([0, 3, 4, 12], [30, 25, 20, 15])
    result = run(x, labels, text, names)
    assert [r.label for r in result] == [0, 1, 2, 3]
    assert [r.name for r in result] == ["Beach", "Golden retriever", "Birthday party", "Thing 4"]
    for r in result:
        assert not r.generic
        assert 0.9 < r.confidence <= 1.0
        assert len(r.alternatives) <= 4
        assert r.name not in r.alternatives
        assert not {a.casefold() for a in r.alternatives} & {o.name.casefold() for o in result}


def test_other_is_never_named_and_labels_keep_their_values() -> None:
    x, labels, text, names = world([0, 1, 2], [10, 10, 10])
    labels = np.select([labels == 0, labels == 1], [-1, 7], default=3)
    result = run(x, labels, text, names)
    assert [(r.label, r.name) for r in result] == [(3, "Cat"), (7, "Mountain")]
    assert run(x, np.full(len(labels), -1), text, names) == []
    assert run(x[:0], labels[:0], text, names) == []


def test_two_clusters_of_one_concept_get_distinct_names() -> None:
    x, labels, text, names = world([0, 0, 1], [20, 30, 20])
    result = run(x, labels, text, names)
    # No other candidate fits them, so the qualifier is the honest answer; the larger cluster keeps the name.
    assert [r.name for r in result] == ["Beach (2)", "Beach", "Mountain"]
    assert all(not r.generic and r.confidence > 0.9 for r in result)


def test_the_album_that_showed_a_name_keeps_it_when_another_shares_its_winner() -> None:
    x, labels, text, names = world([0, 0, 1], [20, 30, 20])
    # Cluster 0 showed "Beach" before (the smaller one, which would otherwise take the qualifier).
    result = run(x, labels, text, names, current={0: "beach", 1: "Album 2"})
    assert [r.name for r in result] == ["Beach", "Beach (2)", "Mountain"]
    # Both showed it, or neither: the larger keeps it, as without names before.
    for current in ({0: "Beach", 1: "Beach"}, {0: "Mountain", 1: "Cat"}, {}):
        assert [r.name for r in run(x, labels, text, names, current=current)] == ["Beach (2)", "Beach", "Mountain"]


def test_qualified_names_stay_with_the_albums_that_showed_them() -> None:
    x, labels, text, names = world([0, 0, 0, 1], [20, 30, 25, 20])
    assert [r.name for r in run(x, labels, text, names)] == ["Beach (2)", "Beach", "Beach (3)", "Mountain"]
    shown = {0: "Beach (2)", 2: "Beach", 3: "Mountain"}  # cluster 1 is new: it takes the name left
    assert [r.name for r in run(x, labels, text, names, current=shown)] == [
        "Beach (2)",
        "Beach (3)",
        "Beach",
        "Mountain",
    ]


def test_a_name_shown_before_is_not_kept_by_a_cluster_whose_winner_it_is_not() -> None:
    x, labels, text, names = world([0, 1], [20, 20])
    assert [r.name for r in run(x, labels, text, names, current={0: "Mountain", 1: "Beach"})] == ["Beach", "Mountain"]


def test_a_close_next_candidate_is_preferred_to_a_qualifier() -> None:
    text = candidates(0)
    between = unit(text[0] + text[1])  # photos as much beach as mountain
    x, labels, text, names = world([0, between], [30, 30])
    result = run(x, labels, text, names)
    assert [r.name for r in result] == ["Beach", "Mountain"]
    assert result[1].confidence >= 0.3
    assert "Beach" not in result[1].alternatives  # taken by the other cluster


def test_confidence_falls_as_noise_rises() -> None:
    sigmas = [0.5, 2.0, 3.0, 4.0, 5.0, 7.0]
    means = []
    for sigma in sigmas:
        conf = [
            r.confidence
            for seed in range(4)
            for r in run(*world([0, 1, 2], [30, 30, 30], sigma=sigma, seed=seed), min_confidence=0.0)
        ]
        means.append(np.mean(conf))
    assert all(0.0 <= c <= 1.0 for c in means)
    assert all(a > b for a, b in itertools.pairwise(means)), means
    assert means[0] > 0.9 and means[-1] < 0.3


def test_a_cluster_of_noise_gets_an_honest_generic_name() -> None:
    x, labels, text, names = world([0, None, 1, None], [25, 40, 25, 40])
    result = run(x, labels, text, names)
    assert [r.generic for r in result] == [False, True, False, True]
    assert [r.name for r in result] == ["Beach", "Mixed photos", "Mountain", "Everyday moments"]
    assert result[1].confidence < 0.3 and result[3].confidence < 0.3
    assert len(result[1].alternatives) == 4  # still offered as rename suggestions


def test_generic_names_stay_distinct_and_avoid_reserved_ones() -> None:
    x, labels, text, names = world([None, None, None], [30, 30, 30])
    result = run(x, labels, text, names, generic_names=("Misc",), reserved=["misc"])
    assert [r.name for r in result] == ["Misc 2", "Misc 3", "Misc 4"]
    assert all(r.generic for r in result)


def test_reserved_names_are_avoided_case_insensitively() -> None:
    x, labels, text, names = world([0, 2], [20, 20])
    result = run(x, labels, text, names, reserved=["BEACH", "Beach (2)"])
    assert [r.name for r in result] == ["Beach (3)", "Cat"]
    text0 = candidates(0)
    x, labels, text, names = world([unit(text0[0] + text0[1]), 2], [20, 20])
    assert run(x, labels, text, names, reserved=["beach"])[0].name == "Mountain"


def test_duplicate_candidate_names_pool_their_votes() -> None:
    text0 = candidates(0)
    x, labels, text, names = world([unit(text0[0] + text0[1]), 1, 2], [20, 10, 20])
    names = ["Beach", "beach", *names[2:]]  # two embeddings, one name
    result = run(x, labels, text, names)
    assert [r.name for r in result] == ["Beach", "Beach (2)", "Cat"]
    assert result[0].confidence > 0.9  # split between the two embeddings, whole once pooled


@pytest.mark.parametrize("m", [1, 3])
def test_few_candidates_and_singletons_still_get_distinct_names(m: int) -> None:
    x, labels, text, names = world([0, 0, None], [1, 5, 1], m=m)
    result = run(x, labels, text, names)
    assert len(result) == 3
    assert len({r.name.casefold() for r in result}) == 3
    assert all(0.0 <= r.confidence <= 1.0 for r in result)


def test_date_span_of_members_with_a_time() -> None:
    x, labels, text, names = world([0, 1, 2], [3, 3, 2])
    times = [
        datetime(2023, 7, 2, 10),
        None,
        datetime(2023, 7, 20, 18),
        datetime(2019, 5, 1),
        datetime(2024, 1, 1),
        None,
        None,
        None,
    ]
    result = name_clusters(x, labels, text, names, times)
    assert (result[0].date_from, result[0].date_to) == (datetime(2023, 7, 2, 10), datetime(2023, 7, 20, 18))
    assert result[0].title == "Beach · Jul 2023"
    assert result[1].title == "Mountain · 2019–2024"
    assert (result[2].date_from, result[2].date_to, result[2].title) == (None, None, "Cat")


def test_mixed_naive_and_aware_times_are_rejected() -> None:
    x, labels, text, names = world([0], [2])
    with pytest.raises(InvalidInputError, match="timezone"):
        name_clusters(x, labels, text, names, [datetime(2020, 1, 1), datetime(2020, 1, 2, tzinfo=UTC)])


@pytest.mark.parametrize(
    ("first", "last", "expected"),
    [
        (datetime(2022, 3, 12, 9), datetime(2022, 3, 12, 23), "12 Mar 2022"),
        (datetime(2023, 7, 1), datetime(2023, 7, 31), "Jul 2023"),
        (datetime(2021, 3, 5), datetime(2021, 6, 1), "Mar–Jun 2021"),
        (datetime(2019, 12, 31), datetime(2024, 1, 1), "2019–2024"),
        (datetime(2024, 1, 1), datetime(2019, 12, 31), "2019–2024"),
        (datetime(2020, 2, 3), None, "3 Feb 2020"),
        (None, datetime(2020, 9, 3), "3 Sep 2020"),
        (None, None, ""),
    ],
)
def test_format_date_span(first: datetime | None, last: datetime | None, expected: str) -> None:
    assert format_date_span(first, last) == expected


def test_title_formats() -> None:
    def title(first: datetime | None, last: datetime | None) -> str:
        return ClusterName(0, "Party", 0.9, first, last, False, ()).title

    assert title(datetime(2022, 3, 12, 20), datetime(2022, 3, 12, 23)) == "Party · 12 Mar 2022"
    assert title(datetime(2021, 3, 1), datetime(2021, 6, 30)) == "Party · Mar–Jun 2021"
    assert title(None, None) == "Party"


def test_bad_inputs_raise_clear_errors() -> None:
    x, labels, text, names = world([0, 1], [5, 5])
    times = [None] * len(labels)
    with pytest.raises(InvalidInputError, match="candidate names"):
        name_clusters(x, labels, text, names[:-1], times)
    with pytest.raises(InvalidInputError, match="labels"):
        name_clusters(x, labels[:-1], text, names, times)
    with pytest.raises(InvalidInputError, match="dimension"):
        name_clusters(x[:, :10], labels, text, names, times)
    with pytest.raises(InvalidInputError, match="capture_times"):
        name_clusters(x, labels, text, names, times[:-1])
    with pytest.raises(InvalidInputError, match="2-D"):
        name_clusters(x[0], labels, text, names, times)
    with pytest.raises(InvalidInputError, match="integers"):
        name_clusters(x, labels.astype(float), text, names, times)
    with pytest.raises(InvalidInputError, match="NaN"):
        name_clusters(np.full_like(x, np.nan), labels, text, names, times)
    with pytest.raises(InvalidInputError, match="no candidate"):
        name_clusters(x, labels, text[:0], [], times)
    with pytest.raises(InvalidInputError, match="top_k"):
        name_clusters(x, labels, text, names, times, top_k=0)
    with pytest.raises(InvalidInputError, match="min_confidence"):
        name_clusters(x, labels, text, names, times, min_confidence=1.5)


@pytest.mark.slow  # 20 000 photos against 3 000 names
def test_a_large_library_and_vocabulary_run_in_blocks() -> None:
    rng = np.random.default_rng(0)
    n, m = 20000, 3000
    text = unit(rng.standard_normal((m, D))).astype(np.float32)
    labels = rng.integers(-1, 40, n)
    x = unit(text[np.maximum(labels, 0) * 7] + rng.standard_normal((n, D)).astype(np.float32) / np.sqrt(D))
    result = name_clusters(x.astype(np.float32), labels, text, [f"concept {i}" for i in range(m)], [None] * n)
    assert [r.name for r in result] == [f"Concept {7 * label}" for label in range(40)]


def test_refining_names_leaves_a_shared_name_with_the_album_that_had_it(tmp_path) -> None:
    from engine.catalog import Catalog
    from engine.naming.album_names import album_names, write_album_names

    x, labels, text, names = world([0, 0, 1], [20, 30, 20])
    hashes = [f"h{i}" for i in range(len(labels))]
    with Catalog(tmp_path / "c.sqlite") as catalog:
        with catalog.transaction():
            first, second, third = (catalog.albums.create(name) for name in ("Beach", "Album 2", "Album 3"))
        placement = dict(zip(hashes, np.array([first, second, third])[labels].tolist(), strict=True))
        given = album_names(catalog, placement, hashes, x, text, names, ["Mixed photos"])
        with catalog.transaction():
            write_album_names(catalog, given)
        # The larger second album also wins "Beach"; the first had it, so the qualifier goes to the second.
        assert catalog.albums.live_names() == {first: "Beach", second: "Beach (2)", third: "Mountain"}
