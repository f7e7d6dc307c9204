"""Cluster names from CLIP's text tower (self-labeling, algorithms.md §5).

Every photo votes for its top-k candidate names with its zero-shot probabilities; a cluster is named by
the candidate with the largest vote, names are made distinct across clusters by an optimal assignment,
and a cluster whose photos do not agree gets an honest generic name instead of a wrong one.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from engine.errors import InvalidInputError

DEFAULT_GENERIC: tuple[str, ...] = ("Mixed photos", "Everyday moments", "Assorted photos", "Miscellaneous")
DEFAULT_MIN_CONFIDENCE = 0.3
MAX_ALTERNATIVES = 4

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# One similarity block is at most this many float32 (64 MiB), and at most 4096 photos tall.
_BLOCK_ELEMENTS = 1 << 24
_MAX_BLOCK_ROWS = 4096
# Candidates per cluster that take part in resolving name collisions.
_SHORTLIST = 8
# A qualified duplicate ("Beach (2)") is worth this fraction of the winner's score, so a cluster takes its
# next candidate instead whenever that one scores at least half as well (and is itself confident).
_QUALIFIER_VALUE = 0.5
_FORBIDDEN = -1e9


@dataclass(frozen=True)
class ClusterName:
    """The name given to one cluster.

    Attributes:
        label: the cluster label it names.
        name: the name, distinct (case-insensitively) from every other cluster's and from the reserved names.
        confidence: in [0, 1], see `name_clusters`.
        date_from: earliest capture time among the members that have one.
        date_to: latest capture time among the members that have one.
        generic: True when the name is a fall-back, not a confident label.
        alternatives: up to four next-best candidate names, best first, none of them taken.
    """

    label: int
    name: str
    confidence: float
    date_from: datetime | None
    date_to: datetime | None
    generic: bool
    alternatives: tuple[str, ...]

    @property
    def title(self) -> str:
        """The name with its date span ("Beach · Jul 2023"), or the name alone when no dates are known."""
        span = format_date_span(self.date_from, self.date_to)
        return f"{self.name} · {span}" if span else self.name


def format_date_span(date_from: datetime | None, date_to: datetime | None) -> str:
    """A short English date span: "12 Mar 2022", "Jul 2023", "Mar–Jun 2021", "2019–2024", or "".

    Month names are fixed English abbreviations (not strftime's locale-dependent %b). One missing end
    is treated as a span of a single instant.
    """
    first = date_from if date_from is not None else date_to
    last = date_to if date_to is not None else date_from
    if first is None or last is None:
        return ""
    if last < first:
        first, last = last, first
    if first.date() == last.date():
        return f"{first.day} {_MONTHS[first.month - 1]} {first.year}"
    if (first.year, first.month) == (last.year, last.month):
        return f"{_MONTHS[first.month - 1]} {first.year}"
    if first.year == last.year:
        return f"{_MONTHS[first.month - 1]}–{_MONTHS[last.month - 1]} {first.year}"
    return f"{first.year}–{last.year}"


def name_clusters(
    image_features: np.ndarray,
    labels: np.ndarray,
    text_features: np.ndarray,
    candidate_names: Sequence[str],
    capture_times: Sequence[datetime | None],
    *,
    generic_names: Sequence[str] = DEFAULT_GENERIC,
    temperature: float = 0.01,
    top_k: int = 5,
    min_confidence: float = DEFAULT_MIN_CONFIDENCE,
    reserved: Sequence[str] = (),
    current: Mapping[int, str] | None = None,
) -> list[ClusterName]:
    """Name every cluster (label ≥ 0) from the candidates' CLIP text embeddings.

    Votes: each photo takes a softmax over all candidates of cos/temperature and gives its top-k
    candidates their probabilities as votes. Probability weighting (rather than rank weighting) lets a
    photo CLIP is sure about cast a nearly whole vote for one name and an ambiguous photo spread a small
    one; cutting at top-k stops the long tail of thousands of tiny probabilities from adding up to a
    consensus nobody voted for. A candidate's score in a cluster is the sum of its votes; the winner is
    the highest-scoring candidate.

    Confidence of a name j for cluster c: sqrt(share · coverage), where share = score(j) / (all votes cast
    by c's photos), the fraction of the cluster's vote mass that went to j, and coverage = the fraction
    of c's photos with j in their top-k, corrected for chance: (f − k/m) / (1 − k/m), floored at 0 (k/m is
    the rate at which a random candidate lands in a top-k; when m ≤ k coverage carries no information and
    counts as 1). Share falls when CLIP is unsure about the photos, coverage when the photos disagree; a
    near-synonym splitting the vote ("dog" / "puppy") lowers share but not coverage, so the geometric
    mean stays honest for real vocabularies. Pure noise lands near 0; one photo alone cannot disagree
    with itself, so a singleton cluster is as confident as CLIP is about its photo. The default threshold
    0.3 sits between clean clusters (≥ 0.6 with a toy CLIP of coloured shapes, whose mixed clusters score
    about 0.1) and clusters where the winner holds only about a tenth of the votes.

    Distinct names: the confident clusters are assigned names by a maximum-weight matching (Hungarian
    algorithm) between clusters and their best candidates, weighted by share, among candidates whose own
    confidence for that cluster reaches `min_confidence` and that are not reserved. Each cluster may
    instead take its winner with a qualifier ("Beach (2)") at half the winner's weight, so a next
    candidate at least half as good is preferred and the qualifier is the last resort (also for a winner
    that is reserved). The confidence reported is that of the name given. Exact ties go to the larger
    cluster. Clusters under `min_confidence` get the generic names in turn
    ("Mixed photos", "Everyday moments", ..., then "Mixed photos 2", ...), marked generic.

    Args:
        image_features: (n, D) unit rows.
        labels: (n,) integer cluster labels; −1 is "Other" and is never named.
        text_features: (m, D) unit rows, one per candidate, in the same space as the images.
        candidate_names: (m,) names; the first letter is capitalised, the rest kept. Names equal up to
            case share one concept and pool their votes.
        capture_times: (n,) capture time of each photo, or None.
        generic_names: fall-back names for weak clusters.
        temperature: softmax temperature over cosine similarities (CLIP's logit scale 100).
        top_k: candidates each photo votes for.
        min_confidence: below this a cluster gets a generic name.
        reserved: names already taken (e.g. user album names) that no automatic name may equal,
            case-insensitively.
        current: the name each cluster label shows now, where it has one. When clusters share a winner and
            some must take a qualifier, each keeps the one it showed ("Beach", "Beach (2)"), so refining the
            names never moves "Beach" to another album and renames the first "Beach (2)".

    Returns:
        One ClusterName per label ≥ 0 present in `labels`, in increasing label order.

    Raises:
        InvalidInputError: on mismatched shapes or lengths, non-finite features, or bad parameters.
    """
    x, lab, t, names = _validated(image_features, labels, text_features, candidate_names, capture_times)
    if not 0.0 <= min_confidence <= 1.0:
        raise InvalidInputError(f"min_confidence must lie in [0, 1], got {min_confidence}")
    if not temperature > 0:
        raise InvalidInputError(f"temperature must be positive, got {temperature}")
    if top_k < 1:
        raise InvalidInputError(f"top_k must be at least 1, got {top_k}")
    generic = [g.strip() for g in generic_names if g.strip()]
    if not generic:
        raise InvalidInputError("generic_names must hold at least one non-empty name")

    members = np.flatnonzero(lab >= 0)
    if members.size == 0:
        return []
    cluster_ids, cluster_of = np.unique(lab[members], return_inverse=True)
    sizes = np.bincount(cluster_of, minlength=len(cluster_ids))
    m = len(names)
    k = min(top_k, m)

    # Candidates equal up to case are one name ("key"); display[key] is its capitalised form.
    display_by_fold: dict[str, str] = {}
    key_of: dict[str, int] = {}
    cand_key = np.empty(m, dtype=np.int64)
    for i, raw in enumerate(names):
        shown = raw[0].upper() + raw[1:]
        fold = shown.casefold()
        if fold not in key_of:
            key_of[fold] = len(key_of)
            display_by_fold[fold] = shown
        cand_key[i] = key_of[fold]
    display = list(display_by_fold.values())
    reserved_fold = {r.strip().casefold() for r in reserved if r.strip()}
    key_reserved = np.array([d.casefold() in reserved_fold for d in display], dtype=bool)

    top_idx, top_prob = _top_votes(x, members, t, temperature, k)
    scores = _cluster_scores(cand_key[top_idx], top_prob, cluster_of, len(display), len(cluster_ids))

    chance = k / m
    tables: list[_Table] = []
    for c, (keys, score, count) in enumerate(scores):
        share = score / max(float(score.sum()), 1e-30)
        coverage = count / sizes[c]
        # Chance-corrected; with m ≤ k every candidate is in every top-k, so coverage says nothing.
        coverage = np.clip((coverage - chance) / (1.0 - chance), 0.0, 1.0) if chance < 1.0 else np.ones_like(coverage)
        tables.append(_Table(keys, share, np.sqrt(share * coverage)))

    key_by_cluster, qualified = _assign(tables, sizes, key_reserved, min_confidence)
    date_from, date_to = _date_spans(capture_times, members, cluster_of, len(cluster_ids))

    # Names, in order of precedence: plain candidate names, qualified duplicates, generic fall-backs.
    taken = set(reserved_fold)
    chosen: list[str | None] = [None] * len(tables)
    for c, key in enumerate(key_by_cluster):
        if key is not None and not qualified[c]:
            chosen[c] = display[key]
            taken.add(display[key].casefold())
    for c, key in enumerate(key_by_cluster):
        if key is not None and qualified[c]:
            base = display[key]
            if base.casefold() not in taken:  # its plain name ended up free: no qualifier needed
                chosen[c] = base
            else:
                chosen[c] = _first_free((f"{base} ({i})" for i in itertools.count(2)), taken)
            taken.add(chosen[c].casefold())
    _keep_shown_names(chosen, key_by_cluster, tables, [(current or {}).get(int(c)) for c in cluster_ids])
    generic_pool = (g if r == 1 else f"{g} {r}" for r in itertools.count(1) for g in generic)
    for c, key in enumerate(key_by_cluster):
        if key is None:
            chosen[c] = _first_free(generic_pool, taken)
            taken.add(chosen[c].casefold())

    result = []
    for c, label in enumerate(cluster_ids):
        table, key = tables[c], key_by_cluster[c]
        row = 0 if key is None else int(np.flatnonzero(table.keys == key)[0])
        confidence = float(table.conf[row]) if table.keys.size else 0.0
        free = (display[a] for a in table.keys.tolist() if a != key and display[a].casefold() not in taken)
        alternatives = tuple(itertools.islice(free, MAX_ALTERNATIVES))
        result.append(
            ClusterName(
                label=int(label),
                name=str(chosen[c]),
                confidence=min(max(confidence, 0.0), 1.0),
                date_from=date_from[c],
                date_to=date_to[c],
                generic=key is None,
                alternatives=alternatives,
            )
        )
    return result


@dataclass
class _Table:
    """One cluster's candidate names (keys), best score first, with their share and confidence."""

    keys: np.ndarray
    share: np.ndarray
    conf: np.ndarray


def _validated(
    image_features: np.ndarray,
    labels: np.ndarray,
    text_features: np.ndarray,
    candidate_names: Sequence[str],
    capture_times: Sequence[datetime | None],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    x = np.asarray(image_features)
    t = np.asarray(text_features)
    lab = np.asarray(labels)
    if x.ndim != 2:
        raise InvalidInputError(f"image_features must be 2-D (n, D), got shape {x.shape}")
    if t.ndim != 2:
        raise InvalidInputError(f"text_features must be 2-D (m, D), got shape {t.shape}")
    if t.shape[1] != x.shape[1]:
        raise InvalidInputError(
            f"image and text features differ in dimension: {x.shape[1]} (images) vs {t.shape[1]} (text)"
        )
    if lab.ndim != 1 or lab.shape[0] != x.shape[0]:
        raise InvalidInputError(f"labels must have shape ({x.shape[0]},) like the image rows, got {lab.shape}")
    if lab.size and not np.issubdtype(lab.dtype, np.integer):
        raise InvalidInputError(f"labels must be integers, got dtype {lab.dtype}")
    if lab.size and lab.min() < -1:
        raise InvalidInputError("labels must be ≥ 0, or −1 for photos in no cluster")
    if len(capture_times) != x.shape[0]:
        raise InvalidInputError(f"capture_times has {len(capture_times)} entries for {x.shape[0]} photos")
    names = [str(name).strip() for name in candidate_names]
    if len(names) != t.shape[0]:
        raise InvalidInputError(f"{len(names)} candidate names for {t.shape[0]} text feature rows")
    if any(not name for name in names):
        raise InvalidInputError("candidate names must be non-empty")
    if np.any(lab >= 0) and not names:
        raise InvalidInputError("no candidate names to name the clusters with")
    if not np.isfinite(x).all() or not np.isfinite(t).all():
        raise InvalidInputError("features contain NaN or infinite values")
    return x, lab.astype(np.int64, copy=False), t, names


def _top_votes(
    x: np.ndarray, rows_of: np.ndarray, t: np.ndarray, temperature: float, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """The k best candidates of photos x[rows_of] and their softmax probabilities, a block at a time."""
    n, m = rows_of.shape[0], t.shape[0]
    rows = max(1, min(_MAX_BLOCK_ROWS, _BLOCK_ELEMENTS // m))
    tt = np.ascontiguousarray(t.T, dtype=np.float32)
    inv_t = np.float32(1.0 / temperature)
    top_idx = np.empty((n, k), dtype=np.int64)
    top_prob = np.empty((n, k), dtype=np.float32)
    for start in range(0, n, rows):
        sims = np.asarray(x[rows_of[start : start + rows]], dtype=np.float32) @ tt
        idx = np.argpartition(sims, m - k, axis=1)[:, m - k :] if k < m else np.tile(np.arange(m), (len(sims), 1))
        top = np.take_along_axis(sims, idx, axis=1)
        peak = top.max(axis=1, keepdims=True)
        # The softmax normaliser needs every candidate; done in place so the block is the only big array.
        sims -= peak
        sims *= inv_t
        np.exp(sims, out=sims)
        norm = sims.sum(axis=1, keepdims=True)
        top_idx[start : start + rows] = idx
        top_prob[start : start + rows] = np.exp((top - peak) * inv_t) / norm
    return top_idx, top_prob


def _cluster_scores(
    vote_keys: np.ndarray, vote_prob: np.ndarray, cluster_of: np.ndarray, n_keys: int, n_clusters: int
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per cluster: its voted keys sorted by score (best first), their scores and how many photos voted.

    Sparse throughout: only (cluster, key) pairs that received a vote exist, so many clusters times a
    large vocabulary never becomes a dense matrix.
    """
    n, k = vote_keys.shape
    photo = np.repeat(np.arange(n, dtype=np.int64), k)
    code = photo * n_keys + vote_keys.ravel()
    weight = vote_prob.ravel().astype(np.float64)
    # A photo votes once per name even when the vocabulary repeats a name (its probabilities add up).
    code, inverse = np.unique(code, return_inverse=True)
    weight = np.bincount(inverse, weights=weight)
    photo, key = np.divmod(code, n_keys)
    pair, inverse = np.unique(cluster_of[photo] * n_keys + key, return_inverse=True)
    score = np.bincount(inverse, weights=weight)
    count = np.bincount(inverse)
    cluster, key = np.divmod(pair, n_keys)
    order = np.lexsort((-score, cluster))
    cluster, key, score, count = cluster[order], key[order], score[order], count[order]
    bounds = np.searchsorted(cluster, np.arange(n_clusters + 1))
    return [(key[a:b], score[a:b], count[a:b].astype(np.float64)) for a, b in itertools.pairwise(bounds.tolist())]


def _assign(
    tables: list[_Table], sizes: np.ndarray, reserved: np.ndarray, min_confidence: float
) -> tuple[list[int | None], list[bool]]:
    """The name key of every cluster (None: generic) and whether it needs a qualifier, by optimal matching.

    A reserved name can still be a cluster's winner (the concept is right, only the name is taken), so a
    cluster of beach photos next to the user's own "Beach" album becomes "Beach (2)" unless a close
    candidate fits it too; it is never a column of the matching.
    """
    key_by_cluster: list[int | None] = [None] * len(tables)
    qualified = [False] * len(tables)
    confident = [c for c, tb in enumerate(tables) if tb.keys.size and tb.conf[0] >= min_confidence]
    if not confident:
        return key_by_cluster, qualified
    shortlists = []
    for c in confident:
        tb = tables[c]
        eligible = np.flatnonzero((tb.conf[:_SHORTLIST] >= min_confidence) & ~reserved[tb.keys[:_SHORTLIST]])
        shortlists.append((tb.keys[eligible], tb.share[eligible]))
    columns = {int(key): j for j, key in enumerate(np.unique(np.concatenate([keys for keys, _ in shortlists])))}
    n_rows, n_keys = len(confident), len(columns)
    value = np.full((n_rows, n_keys + n_rows), _FORBIDDEN)
    # A vanishing bonus for size breaks exact ties (two clusters of one concept) in favour of the larger.
    tie_break = 1.0 + 1e-6 * sizes[confident] / sizes[confident].max()
    for r, (keys, share) in enumerate(shortlists):
        value[r, [columns[int(key)] for key in keys]] = share * tie_break[r]
        value[r, n_keys + r] = _QUALIFIER_VALUE * tables[confident[r]].share[0]

    from engine.cluster.matching import max_value_matching

    rows, cols = max_value_matching(value)
    key_at = {j: key for key, j in columns.items()}
    for r, j in zip(rows, cols, strict=True):
        c = confident[r]
        if j < n_keys:
            key_by_cluster[c] = key_at[j]
        else:
            key_by_cluster[c] = int(tables[c].keys[0])
            qualified[c] = True
    return key_by_cluster, qualified


def _keep_shown_names(
    chosen: list[str | None],
    key_by_cluster: list[int | None],
    tables: list[_Table],
    current: list[str | None],
) -> None:
    """Among clusters whose winner is the same name and that were given it, plain or qualified ("Beach",
    "Beach (2)", …), hand each name back to the cluster that showed it before; the others take the names left,
    in the order they had. Each cluster keeps a name of its own winner, so only who wears which one changes."""
    groups: dict[int, list[int]] = {}
    for c, key in enumerate(key_by_cluster):
        if key is not None and tables[c].keys.size and int(tables[c].keys[0]) == key:
            groups.setdefault(key, []).append(c)
    for members in groups.values():
        if len(members) < 2:
            continue
        names = {str(chosen[c]).casefold(): str(chosen[c]) for c in members}
        was = {c: current[c].casefold() for c in members if current[c]}
        shown = Counter(was.values())
        keeps = {c: names.pop(name) for c, name in was.items() if shown[name] == 1 and name in names}
        left = iter([str(chosen[c]) for c in members if str(chosen[c]).casefold() in names])
        for c in members:
            chosen[c] = keeps[c] if c in keeps else next(left)


def _date_spans(
    capture_times: Sequence[datetime | None], members: np.ndarray, cluster_of: np.ndarray, n_clusters: int
) -> tuple[list[datetime | None], list[datetime | None]]:
    """Earliest and latest capture time of each cluster (None where no member has one)."""
    first: list[datetime | None] = [None] * n_clusters
    last: list[datetime | None] = [None] * n_clusters
    try:
        for photo, c in zip(members.tolist(), cluster_of.tolist(), strict=True):
            when = capture_times[photo]
            if when is None:
                continue
            lo, hi = first[c], last[c]
            if lo is None or when < lo:
                first[c] = when
            if hi is None or when > hi:
                last[c] = when
    except TypeError as exc:
        raise InvalidInputError("capture_times must be datetimes or None, all naive or all timezone-aware") from exc
    return first, last


def _first_free(names: Iterable[str], taken: set[str]) -> str:
    """The first of an endless pool of names that is not taken (case-insensitively)."""
    return next(name for name in names if name.casefold() not in taken)
