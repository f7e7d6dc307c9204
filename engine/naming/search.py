"""Text search over photo embeddings: the photos a CLIP text query describes, best first.

Cosine similarities between CLIP text and image embeddings live on a scale that depends on the model
(about 0.15–0.35 for real CLIP, something else for a tiny one), so no absolute threshold can tell a match
from a non-match. The threshold here is relative instead, and invariant to that scale (see `search`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import TYPE_CHECKING

import numpy as np

from engine.errors import InvalidInputError
from engine.naming.text_features import prompt_key

if TYPE_CHECKING:
    from engine.catalog import Catalog

# Background rule: the query must beat this fraction of the background captions for the photo.
BACKGROUND_QUANTILE = 0.99
# Library rule with background captions: a lenient check against the photos that fail the background
# rule (structured worlds, where half the library shares a colour or a shape with the query, put true
# matches only 2.5–3 robust standard deviations above that null set).
Z_WITH_BACKGROUND = 2.0
# Without background captions, the only evidence: a match stands this many robust standard deviations
# above the whole library, a level that grows with the library so that a query unrelated to every photo
# gets about FALSE_HITS chance matches in expectation.
Z_WITHOUT_BACKGROUND = 4.0
FALSE_HITS = 0.05
# Background captions this close to the query are the query itself (the same text in the vocabulary).
_SAME_CAPTION = 0.99
# Fewer non-matching photos than this say nothing about the null distribution.
_MIN_NULL = 8
_MAD_TO_SIGMA = 1.4826
# Photos per block when comparing with the background captions (block × b float32 at a time).
_BLOCK_ELEMENTS = 1 << 24
_MAX_BLOCK_ROWS = 4096


def cached_text_features(catalog: Catalog, model_id: int, prompt_sets: Sequence[Sequence[str]]) -> np.ndarray | None:
    """(m, D) prompt-ensemble features of the background captions when the catalog holds them all; else None.

    Reads only the catalog, so a search needs no model for them once they were embedded with this model.
    """
    keys = [prompt_key(prompts) for prompts in prompt_sets]
    cached = catalog.term_embeddings(model_id, set(keys))
    if not keys or any(key not in cached for key in keys):
        return None
    return np.stack([cached[key] for key in keys]).astype(np.float32)


@dataclass(frozen=True)
class SearchHit:
    """One matching photo.

    Attributes:
        index: row of `photo_features`.
        score: cosine similarity to the query.
    """

    index: int
    score: float


def search(
    query_features: np.ndarray,
    photo_features: np.ndarray,
    *,
    limit: int = 50,
    background_features: np.ndarray | None = None,
    min_score: float | None = None,
) -> list[SearchHit]:
    """The photos that match a text query, best first.

    Cosine scales differ between models (real CLIP's narrow cone puts everything in 0.15–0.35), so both
    rules compare similarities with each other, never with a constant:

    - Background rule (with `background_features`, the primary evidence): for that photo, at most 1% of
      the background captions score higher than the query (the query lies at or above their 99th
      percentile; with fewer than 100 captions it must beat them all): the photo would rather be
      described by the query than by the other captions. Only similarities of one photo are compared,
      so any per-photo shift or scale cancels out. Captions that are the query itself (cosine ≥ 0.99,
      e.g. the same word in the vocabulary) are left out of the background.
      Library check: the match must also stand 2 robust standard deviations (median absolute
      deviation) above the photos that fail the background rule, which drops photos that the query
      "describes best" only because every caption fits them poorly.
    - Distribution rule (without background): the similarity must stand z robust standard deviations
      above the median of the whole library, z = max(4, Φ⁻¹(1 − 0.05/n)), so that a query unrelated to
      every photo yields about 0.05 chance matches. Median and MAD follow any shift and scale of the
      similarities. This assumes matches are a minority and stand out from a unimodal bulk; in small
      structured worlds (a toy CLIP of coloured shapes, where every yellow photo half-matches "yellow
      star") it is conservative and may return nothing, so pass background captions when available.

    Args:
        query_features: (D,) unit text embedding of the query, or (q, D) for a prompt ensemble (averaged,
            then renormalised).
        photo_features: (n, D) unit image embeddings.
        limit: the most hits returned.
        background_features: (b, D) text embeddings of unrelated or generic captions (e.g. the naming
            vocabulary); strongly recommended, without it only the library rule applies.
        min_score: an absolute cosine threshold that replaces both rules.

    Returns:
        At most `limit` hits, highest score first; empty when nothing passes or the library is empty.

    Raises:
        InvalidInputError: on mismatched dimensions, non-finite or zero features, or limit < 1.
    """
    if isinstance(limit, bool) or not isinstance(limit, int | np.integer) or limit < 1:
        raise InvalidInputError(f"limit must be an integer of at least 1, got {limit!r}")
    photos = np.asarray(photo_features)
    if photos.ndim >= 1 and photos.shape[0] == 0:
        return []
    if photos.ndim != 2:
        raise InvalidInputError(f"photo_features must be 2-D (n, D), got shape {photos.shape}")
    query = _query_vector(query_features, photos.shape[1])
    if not np.isfinite(photos).all():
        raise InvalidInputError("photo_features contain NaN or infinite values")
    background = _background(background_features, photos.shape[1], query)

    scores = _similarities(photos, query)
    if min_score is not None:
        match = scores >= min_score
    elif background is not None:
        match = _beats_background(photos, scores, background)
        null = scores[~match]
        if null.size >= _MIN_NULL:
            match &= _stands_out(scores, null, Z_WITH_BACKGROUND)
    else:
        z = max(Z_WITHOUT_BACKGROUND, NormalDist().inv_cdf(1.0 - FALSE_HITS / scores.size))
        match = _stands_out(scores, scores, z)

    hits = np.flatnonzero(match)
    # Best first; equal scores keep photo order (lexsort's last key is the primary one).
    hits = hits[np.lexsort((hits, -scores[hits]))][:limit]
    return [SearchHit(index=int(i), score=float(scores[i])) for i in hits]


def _query_vector(query_features: np.ndarray, dim: int) -> np.ndarray:
    query = np.asarray(query_features, dtype=np.float64)
    if query.ndim == 2:
        if query.shape[0] == 0:
            raise InvalidInputError("the query ensemble is empty")
        query = query.mean(axis=0)
    if query.ndim != 1:
        raise InvalidInputError(f"query_features must be (D,) or (q, D), got shape {query.shape}")
    if query.shape[0] != dim:
        raise InvalidInputError(f"the query has dimension {query.shape[0]} but the photo features have {dim}")
    norm = float(np.linalg.norm(query))
    if not np.isfinite(norm) or norm == 0.0:
        raise InvalidInputError("the query embedding is zero or not finite")
    return (query / norm).astype(np.float32)


def _background(background_features: np.ndarray | None, dim: int, query: np.ndarray) -> np.ndarray | None:
    """The background captions as a (D, b) float32 matrix, without the query itself; None when empty."""
    if background_features is None:
        return None
    background = np.asarray(background_features, dtype=np.float32)
    if background.ndim != 2 or background.shape[1] != dim:
        raise InvalidInputError(f"background_features must have shape (b, {dim}), got {background.shape}")
    if not np.isfinite(background).all():
        raise InvalidInputError("background_features contain NaN or infinite values")
    background = background[background @ query < _SAME_CAPTION]
    if background.shape[0] == 0:
        return None
    return np.ascontiguousarray(background.T)


def _blocks(n: int, width: int) -> range:
    return range(0, n, max(1, min(_MAX_BLOCK_ROWS, _BLOCK_ELEMENTS // max(width, 1))))


def _similarities(photos: np.ndarray, query: np.ndarray) -> np.ndarray:
    scores = np.empty(photos.shape[0], dtype=np.float32)
    step = 65536  # blocks only to bound the float32 copy of the photo features
    for start in range(0, photos.shape[0], step):
        scores[start : start + step] = np.asarray(photos[start : start + step], dtype=np.float32) @ query
    return scores


def _beats_background(photos: np.ndarray, scores: np.ndarray, background_t: np.ndarray) -> np.ndarray:
    """Whether, for each photo, the query is beaten by at most (1 − quantile) of the background captions."""
    b = background_t.shape[1]
    allowed = int(np.floor((1.0 - BACKGROUND_QUANTILE) * b + 1e-9))
    out = np.empty(photos.shape[0], dtype=bool)
    blocks = _blocks(photos.shape[0], b)
    for start in blocks:
        stop = start + blocks.step
        sims = np.asarray(photos[start:stop], dtype=np.float32) @ background_t
        beaten_by = np.count_nonzero(sims > scores[start:stop, None], axis=1)
        out[start:stop] = beaten_by <= allowed
    return out


def _stands_out(scores: np.ndarray, null: np.ndarray, z: float) -> np.ndarray:
    """Scores more than z robust standard deviations above the null sample's median."""
    centre = float(np.median(null))
    spread = _MAD_TO_SIGMA * float(np.median(np.abs(null - centre)))
    if spread <= 0.0:
        spread = float(null.std())
    return scores > centre + z * spread
