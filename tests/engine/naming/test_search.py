"""Text search with an adaptive threshold: synthetic CLIP-like spaces, no model weights."""

from __future__ import annotations

import numpy as np
import pytest

from engine.errors import InvalidInputError
from engine.naming.search import SearchHit, search

D = 64
N_VOCAB = 60
N_PLANTED = 25


def unit(a: np.ndarray) -> np.ndarray:
    return a / np.linalg.norm(a, axis=-1, keepdims=True)


def library(seed: int = 0, n: int = 2000, planted: int = N_PLANTED, sigma: float = 0.5, squeeze: float = 0.0):
    """A library of photos made from a vocabulary of captions, `planted` of them from the query.

    Concepts live in the first D − 2 dimensions. With `squeeze` > 0, images are pushed towards one
    extra direction and texts towards another, at an angle (the narrow cones and modality gap of real
    CLIP): every similarity becomes (x·t + squeeze²·cos gap) / (1 + squeeze²), a compressed, shifted scale.

    Returns photos, vocabulary, query, an unrelated query and the set of planted rows.
    """
    rng = np.random.default_rng(seed)

    def directions(count: int) -> np.ndarray:
        a = rng.standard_normal((count, D))
        a[:, -2:] = 0
        return unit(a)

    query, unrelated = directions(2)
    vocab = directions(4 * N_VOCAB)
    far = (np.abs(vocab @ query) < 0.3) & (np.abs(vocab @ unrelated) < 0.3)
    vocab = vocab[far][:N_VOCAB]

    def noisy(rows: np.ndarray) -> np.ndarray:
        noise = rng.standard_normal(rows.shape) / np.sqrt(D)
        noise[:, -2:] = 0
        return unit(rows + sigma * noise)

    photos = np.vstack([noisy(np.tile(query, (planted, 1))), noisy(vocab[rng.integers(0, N_VOCAB, n - planted)])])
    if squeeze:
        image_axis = np.zeros(D)
        image_axis[-2] = 1.0
        text_axis = np.zeros(D)
        text_axis[-2:] = (0.3, np.sqrt(1 - 0.3**2))
        photos = unit(photos + squeeze * image_axis)
        vocab, query, unrelated = (unit(t + squeeze * text_axis) for t in (vocab, query, unrelated))
    order = rng.permutation(n)
    planted_rows = set(np.flatnonzero(order < planted).tolist())
    as32 = np.float32
    return photos[order].astype(as32), vocab.astype(as32), query.astype(as32), unrelated.astype(as32), planted_rows


def indices(hits: list[SearchHit]) -> set[int]:
    return {h.index for h in hits}


@pytest.mark.parametrize("with_background", [True, False])
def test_planted_matches_come_first_and_alone(with_background: bool) -> None:
    photos, vocab, query, _, planted = library()
    hits = search(query, photos, limit=100, background_features=vocab if with_background else None)
    assert indices(hits) == planted
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)
    assert scores[-1] > max(float(photos[i] @ query) for i in range(len(photos)) if i not in planted)


@pytest.mark.parametrize("with_background", [True, False])
def test_a_query_unrelated_to_every_photo_finds_nothing(with_background: bool) -> None:
    for seed in range(5):
        photos, vocab, _, unrelated, _ = library(seed)
        assert search(unrelated, photos, background_features=vocab if with_background else None) == []


@pytest.mark.parametrize("with_background", [True, False])
def test_the_threshold_follows_a_compressed_similarity_scale(with_background: bool) -> None:
    photos, vocab, query, unrelated, planted = library(squeeze=3.0)
    sims = photos @ query
    assert sims.min() > 0.2 and sims.max() < 0.4  # real CLIP's scale, not the toy's −0.5…1
    background = vocab if with_background else None
    assert indices(search(query, photos, limit=100, background_features=background)) == planted
    assert search(unrelated, photos, background_features=background) == []


def test_a_query_that_fits_most_of_the_library() -> None:
    photos, vocab, query, _, planted = library(n=400, planted=300)
    hits = search(query, photos, limit=1000, background_features=vocab)
    assert indices(hits) == planted


def test_the_query_itself_in_the_background_does_not_compete() -> None:
    photos, vocab, query, _, planted = library()
    background = np.vstack([vocab, query[None, :]])
    assert indices(search(query, photos, limit=100, background_features=background)) == planted


def test_a_prompt_ensemble_is_averaged() -> None:
    photos, vocab, query, _, planted = library()
    rng = np.random.default_rng(5)
    ensemble = unit(query + 0.2 * rng.standard_normal((4, D)) / np.sqrt(D)).astype(np.float32)
    assert indices(search(ensemble, photos, limit=100, background_features=vocab)) == planted


def test_limit_and_explicit_threshold() -> None:
    photos, vocab, query, _, planted = library()
    hits = search(query, photos, limit=5, background_features=vocab)
    assert len(hits) == 5 and indices(hits) <= planted
    everything = search(query, photos, limit=len(photos), min_score=-1.0)
    assert len(everything) == len(photos)
    assert search(query, photos, min_score=1.01) == []


def test_libraries_larger_than_one_block() -> None:
    photos, vocab, query, _, planted = library(n=5000)
    assert indices(search(query, photos, limit=100, background_features=vocab)) == planted


def test_bad_inputs_raise_clear_errors() -> None:
    photos, vocab, query, _, _ = library(n=100)
    with pytest.raises(InvalidInputError, match="dimension"):
        search(query[:10], photos)
    with pytest.raises(InvalidInputError, match="limit"):
        search(query, photos, limit=0)
    with pytest.raises(InvalidInputError, match="background"):
        search(query, photos, background_features=vocab[:, :10])
    with pytest.raises(InvalidInputError, match="zero"):
        search(np.zeros(D, dtype=np.float32), photos)
    with pytest.raises(InvalidInputError, match="NaN"):
        search(query, np.full_like(photos, np.nan))
    with pytest.raises(InvalidInputError, match="2-D"):
        search(query, photos[0])


def test_an_empty_library_finds_nothing() -> None:
    _, vocab, query, _, _ = library(n=100)
    assert search(query, np.zeros((0, D), dtype=np.float32), background_features=vocab) == []
