"""`CPPClusterer`: rate-reduction clustering of photo features with an automatic choice of k."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import sparse

from engine.cluster.assign import SubspaceAssigner
from engine.cluster.choose_k import (
    KCurve,
    automatic_k,
    coding_length_curve,
    k_grid,
    most_distinct_k,
    partition_for_k,
)
from engine.cluster.coding_rate import EPS2
from engine.cluster.params import ClustererParams
from engine.cluster.separation import IncoherenceTest, album_silhouette
from engine.cluster.spectral import SpectralEmbedding, spectral_embedding, symmetric_affinity
from engine.errors import InvalidInputError
from engine.progress import ProgressReporter, check_cancelled, ensure_progress

# Below this many photos a fit runs torch on one thread: its matrices are too small for a second thread to
# pay for the hand-offs, and on a busy machine (a laptop with a browser open) waiting for a descheduled
# thread made a 300-photo fit ten times slower (57–92 s on two threads against 6–10 s on one, load ≈ 5).
SMALL_FIT = 2000
# Below this many photos automatic k also trains a head at η × COARSER_ETA and keeps the one whose albums are
# more distinct in X by at least SCALE_MARGIN of silhouette (`CPPClusterer._check_scale`). On the toy libraries
# of bench/k_choice.py it put k within ±1 of the truth on 65 of 72 (61 before) of the sets the numbers were
# picked on, and on 40 of 48 (37 before) of two sets generated afterwards; bench/RESULTS-cluster.md has the
# tables. The bound keeps the cost: a 200-photo fit takes 0.35 s, 0.68 s with the second head, and the whole
# re-cluster command stays within its 3 s. 300 instead gave one library more on the tuning sets and one fewer on
# two others. From this many photos on, k instead moves along the one head's curve to where the albums are
# clearly more distinct (`choose_k.most_distinct_k`): below it that moved 70 of 81 libraries within ±1 to 67.
SCALE_CHECK_MAX = 200
COARSER_ETA = 10 / 7  # 0.175 → 0.25
# With no margin, one tuning library (84 photos, 14 concepts) kept a coarser head that won by 0.002 and made
# 10 albums; the finer head's 14 were right.
SCALE_MARGIN = 0.01


@contextmanager
def intra_op_threads(count: int | None) -> Iterator[None]:
    """Run torch's operators, BLAS and OpenMP (scikit-learn's k-means) on `count` threads inside the block
    (None: leave the settings alone)."""
    import torch
    from threadpoolctl import threadpool_limits

    before = torch.get_num_threads()
    if count is not None and count < before:
        torch.set_num_threads(count)
    try:
        with threadpool_limits(limits=count):  # limits=None changes nothing
            yield
    finally:
        if torch.get_num_threads() != before:
            torch.set_num_threads(before)


class InvalidInputTypeError(InvalidInputError, TypeError):
    """Input of a type that is no numeric array at all: an `InvalidInputError` and, as numpy says, a `TypeError`."""


def resolve_device(device: str) -> str:
    """ "auto" → cuda, then mps, then cpu; anything else is passed to torch as given."""
    import torch

    if device != "auto":
        return device
    if torch.cuda.is_available():
        return "cuda"
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def as_float32(x: Any, name: str = "X") -> np.ndarray:
    """x as a float32 array of any shape, or `InvalidInputError` for data no float array can hold.

    The messages carry the phrases scikit-learn's checks look for ("sparse", "Complex data not supported").
    """
    if sparse.issparse(x):
        raise InvalidInputTypeError(f"{name} is a sparse matrix: sparse input is not supported, pass a dense array")
    try:
        arr = np.asarray(x)
        if not np.iscomplexobj(arr):
            arr = arr.astype(np.float32, copy=False)
    except TypeError as exc:
        raise InvalidInputTypeError(f"{name} must be a numeric array: {exc}") from exc
    except ValueError as exc:
        raise InvalidInputError(f"{name} must be a numeric array: {exc}") from exc
    if np.iscomplexobj(arr):
        # A cast to float would silently drop the imaginary part.
        raise InvalidInputError(f"Complex data not supported in {name}")
    if not arr.flags.writeable:
        # torch.from_numpy warns on read-only memory (e.g. a memory-mapped file); a copy is cheap next to a fit.
        arr = arr.copy()
    return arr


def validate_features(x: Any, name: str = "X") -> np.ndarray:
    """X as a C-contiguous float32 (n, D) array, or `InvalidInputError` saying what is wrong."""
    arr = as_float32(x, name)
    if arr.ndim != 2:
        hint = ". Reshape your data: X.reshape(-1, 1) if it has one feature, X.reshape(1, -1) if it is one sample"
        raise InvalidInputError(
            f"{name} must be 2-D (n_samples, n_features), got shape {arr.shape}" + (hint if arr.ndim == 1 else "")
        )
    if arr.shape[0] == 0:
        raise InvalidInputError(f"{name} is empty: 0 sample(s) (shape={arr.shape}) while a minimum of 1 is required.")
    if arr.shape[1] == 0:
        raise InvalidInputError(f"{name} is empty: 0 feature(s) (shape={arr.shape}) while a minimum of 1 is required.")
    if not np.isfinite(arr).all():
        raise InvalidInputError(f"{name} contains NaN or infinite values")
    return np.ascontiguousarray(arr)


def check_n_features(x: np.ndarray, estimator: Any) -> None:
    """Refuse rows of another width than the fit's, in scikit-learn's words."""
    expected = estimator.n_features_in_
    if expected is not None and x.shape[1] != expected:
        raise InvalidInputError(
            f"X has {x.shape[1]} features, but {type(estimator).__name__} is expecting {expected} features as input"
        )


def count_distinct_rows(x: np.ndarray, chunk: int = 65536) -> int:
    """Number of exactly distinct rows.

    Each row's bytes are hashed to 64 bits with integer arithmetic (a projection through BLAS could give
    identical rows slightly different keys, so 30 copies of one photo counted as 2), chunk by chunk:
    sorting the rows themselves would copy the whole matrix, 2 GiB at a million photos. Two different
    rows share a key with probability about n²/2⁶⁴, which cannot matter for a count that only caps k.
    """
    rows = np.ascontiguousarray(x)
    words = rows.view(np.uint8).reshape(rows.shape[0], -1)
    pad = (-words.shape[1]) % 8
    rng = np.random.default_rng(0x5EED)
    multipliers = rng.integers(1, 2**63, size=(words.shape[1] + pad) // 8, dtype=np.uint64) | np.uint64(1)
    keys = np.empty(rows.shape[0], dtype=np.uint64)
    with np.errstate(over="ignore"):
        for start in range(0, rows.shape[0], chunk):
            block = words[start : start + chunk]
            if pad:
                block = np.pad(block, ((0, 0), (0, pad)))
            block = np.ascontiguousarray(block).view(np.uint64)
            # Multiply-xorshift per word, summed modulo 2⁶⁴: order-dependent through the per-column multipliers.
            mixed = block * multipliers
            mixed ^= mixed >> np.uint64(29)
            keys[start : start + chunk] = mixed.sum(axis=1, dtype=np.uint64)
    return int(np.unique(keys).size)


@dataclass(frozen=True)
class _Readout:
    """How raw partition ids of one k become album labels: a subspace assigner and an id map."""

    assigner: SubspaceAssigner
    mapping: np.ndarray  # raw id → album label, −1 for dissolved clusters
    labels: np.ndarray  # labels of the training set


class CPPClusterer(ClustererParams):
    """Cluster features (e.g. CLIP embeddings) with CPP: an MLC head, spectral read-out, automatic k.

    Args:
        n_clusters: number of clusters, or None to choose it (minimum coding length, raised to the blocks
            under a clear spectral gap of Π; below `SCALE_CHECK_MAX` photos also a second head at a coarser
            η, kept when its albums are more distinct; from it on, k moved along the curve to where the albums
            are clearly more distinct; algorithms.md §4).
        random_state: seed of every random choice (head init, batches, sample, k-means).
        device: "auto" (cuda → mps → cpu), or a torch device string.
        k_max: largest k considered when choosing k (capped by n).
        eta: Sinkhorn temperature (0.175 suits ~10 clusters; lower for many more).
        hidden_dim, z_dim, batch_size, n_steps, warmup_steps, lr: training sizes; None picks them from n
            (see `mlc_head.default_config`).
        sinkhorn_iters: Sinkhorn iterations in training and read-out.
        max_sample: read-out sample size; Π is max_sample² floats, the rest is assigned out-of-sample.
        n_neighbors: links kept per node of the read-out graph; None keeps the dense Π.
        n_seeds: k-means seeds per candidate k; the partition with the smallest coding length is kept.
        min_cluster_size: clusters smaller than this dissolve into label −1 ("Other"); it is lowered to
            n // (4k) for tiny inputs so that small data sets keep their clusters.
        subspace_rank: principal directions per cluster for out-of-sample assignment.

    Attributes (after fit):
        labels_: (n,) album labels 0…, largest album first; −1 for "Other".
        n_clusters_: the k used (given, or chosen; not always the curve's minimum, see `automatic_k`).
        coding_lengths_: {k: L(k)} for every k tried, in nats, on the read-out sample.
        n_features_in_: D, the width of X.
        config_: the kept head's training sizes; config_.eta is η, or the coarser η a small library's second
            head was trained at when it was kept.
        album_counts_: {k: albums} for every k on the curve: k less the clusters that go to "Other" (small or
            diffuse, algorithms.md §3.7), so "fewer" / "more" can promise a different number of albums.

    A scikit-learn clusterer by protocol (`get_params`, `set_params`, `clone`, tags, `fit_predict`) without
    importing scikit-learn (`engine.cluster.params`); `engine.cluster.sklearn_adapter.SklearnCPPClusterer` is
    the same estimator as a subclass of scikit-learn's `BaseEstimator` and `ClusterMixin`, for code that checks
    types. `transform` gives the learned features. `fit(X, y)` ignores y, as every scikit-learn clusterer does.
    """

    def __init__(
        self,
        n_clusters: int | None = None,
        random_state: int | None = 0,
        device: str = "auto",
        *,
        k_max: int = 60,
        eta: float = 0.175,
        hidden_dim: int | None = None,
        z_dim: int | None = None,
        batch_size: int | None = None,
        n_steps: int | None = None,
        warmup_steps: int | None = None,
        lr: float | None = None,
        sinkhorn_iters: int = 5,
        max_sample: int = 5000,
        n_neighbors: int | None = None,
        n_seeds: int = 4,
        min_cluster_size: int = 5,
        subspace_rank: int = 8,
    ) -> None:
        self.n_clusters = n_clusters
        self.random_state = random_state
        self.device = device
        self.k_max = k_max
        self.eta = eta
        self.hidden_dim = hidden_dim
        self.z_dim = z_dim
        self.batch_size = batch_size
        self.n_steps = n_steps
        self.warmup_steps = warmup_steps
        self.lr = lr
        self.sinkhorn_iters = sinkhorn_iters
        self.max_sample = max_sample
        self.n_neighbors = n_neighbors
        self.n_seeds = n_seeds
        self.min_cluster_size = min_cluster_size
        self.subspace_rank = subspace_rank

    # ----------------------------------------------------------------------------------------- fit
    def fit(self, X: Any, y: Any = None, progress: ProgressReporter | None = None) -> CPPClusterer:
        """Train the head on X (n, D), read out clusters and, if n_clusters is None, choose k. y is ignored.

        Raises:
            InvalidInputError: bad X or parameters.
            Cancelled: the progress reporter asked to stop.
        """
        progress = ensure_progress(progress)
        x = validate_features(X)
        with intra_op_threads(1 if len(x) < SMALL_FIT else None):
            return self._fit(x, progress)

    def _fit(self, x: np.ndarray, progress: ProgressReporter) -> CPPClusterer:
        n = len(x)
        self._check_params(n)
        n_distinct = count_distinct_rows(x)
        if self.n_clusters is not None and self.n_clusters > n_distinct:
            raise InvalidInputError(f"cannot form {self.n_clusters} clusters from {n_distinct} distinct points")
        seed = int(self.random_state) if self.random_state is not None else int(np.random.default_rng().integers(2**31))
        self._fit_at(x, self.eta, seed, n_distinct, progress)
        if self.n_clusters is None and n < SCALE_CHECK_MAX:
            self._check_scale(x, seed, n_distinct, progress)
        self.album_counts_ = {k: self._album_count(k) for k in self._curve.labels}
        self.labels_ = self._readout(self.n_clusters_).labels.copy()
        return self

    def _album_count(self, k: int) -> int:
        """How many albums k's partition on the curve makes (see `_sample_kept`)."""
        return len(self._sample_kept(k))

    def _sample_kept(self, k: int) -> list[int]:
        """The clusters of k's partition on the curve that become albums, from the sample's sizes scaled to the
        whole library (exact when the sample is the library)."""
        sizes = np.bincount(self._curve.labels[k], minlength=k) * (len(self._z_train) / len(self._sample))
        return self._kept_clusters(k, sizes)

    def _sample_albums(self, k: int) -> np.ndarray:
        """k's partition of the sample with −1 for the photos of clusters that go to "Other"."""
        labels = self._curve.labels[k]
        return np.where(np.isin(labels, self._sample_kept(k)), labels, -1)

    def _check_scale(self, x: np.ndarray, seed: int, n_distinct: int, progress: ProgressReporter) -> None:
        """Train a second head at a coarser Sinkhorn temperature and keep it when its albums are more distinct
        in the pretrained features (algorithms.md §4).

        η sets how wide Π's neighbourhoods are. With few photos per album the default splits albums of 15–25
        photos into blocks of 3–8 (72 photos of 5 concepts became 10 albums), which no choice of k undoes;
        a coarser η keeps them whole but merges small albums of libraries with many concepts. The features
        CLIP gave tell the two apart: the mean cosine silhouette of the chosen albums in X.
        """
        coarse = copy.copy(self)  # shares the parameters; `_fit_at` rebinds, never mutates, the fitted state
        coarse._fit_at(x, self.eta * COARSER_ETA, seed, n_distinct, progress, "train cluster head at a coarser scale")
        if coarse._separation(x) >= self._separation(x) + SCALE_MARGIN:
            vars(self).update(vars(coarse))

    def _separation(self, x: np.ndarray) -> float:
        """Mean cosine silhouette, in the input features, of the read-out sample's albums at the chosen k."""
        return album_silhouette(x[self._sample], self._sample_albums(self.n_clusters_))

    def _fit_at(
        self,
        x: np.ndarray,
        eta: float,
        seed: int,
        n_distinct: int,
        progress: ProgressReporter,
        phase: str = "train cluster head",
    ) -> None:
        """Train a head at temperature `eta`, read out its clusters and choose k: every fitted attribute but
        labels_."""
        import torch

        from engine.cluster.mlc_head import default_config, encode, train_mlc

        n, dim = x.shape
        self.device_ = resolve_device(self.device)
        config = default_config(
            n,
            dim,
            hidden_dim=self.hidden_dim,
            z_dim=self.z_dim,
            batch_size=self.batch_size,
            n_steps=self.n_steps,
            warmup_steps=self.warmup_steps,
            lr=self.lr,
            eta=eta,
            sinkhorn_iters=self.sinkhorn_iters,
        )
        self.config_ = config
        xt = torch.from_numpy(x).to(self.device_)
        self.head_ = train_mlc(xt, config, seed, progress, phase)
        check_cancelled(progress)

        progress.phase("read out clusters", None)
        z_t, c_t = encode(self.head_, xt)
        del xt
        z_all = z_t.cpu().numpy()
        rng = np.random.default_rng(seed)
        sample = np.arange(n) if n <= self.max_sample else np.sort(rng.choice(n, self.max_sample, replace=False))
        idx = torch.from_numpy(sample).to(c_t.device)
        embedding = self._embedding(c_t[idx], config, n_distinct, seed)
        check_cancelled(progress)

        self.n_features_in_ = dim
        self._z_train = z_all
        self._sample = sample
        self._embedding_ = embedding
        self._seeds = [seed + i for i in range(max(1, self.n_seeds))]
        self._readouts: dict[int, _Readout] = {}
        z_sample = z_all[sample]
        grid = k_grid(self.k_max, len(sample), n_distinct) if self.n_clusters is None else [self.n_clusters]
        self._curve: KCurve = coding_length_curve(embedding, z_sample, grid, self._seeds, progress, EPS2)
        chosen = automatic_k(self._curve, embedding, z_sample, self._seeds, EPS2) if self.n_clusters is None else None
        self.coding_lengths_ = dict(self._curve.lengths)
        # Which clusters of each partition on the curve are diffuse clouds (§3.7), judged in X while X is at
        # hand: a stored estimator keeps only Z, and "fewer" / "more" read other ks out later.
        test = IncoherenceTest(x[sample], seed)
        self._incoherent = {k: test.incoherent(labels) for k, labels in self._curve.labels.items()}
        if chosen is None:
            self.n_clusters_ = self.n_clusters
        elif n < SCALE_CHECK_MAX:
            # Few photos per album make the silhouette noisy; here it only referees two whole heads.
            self.n_clusters_ = chosen
        else:
            albums = {k: self._sample_albums(k) for k in self._curve.labels}
            self.n_clusters_ = most_distinct_k(albums, x[sample], chosen, self._seeds)

    def _check_params(self, n: int) -> None:
        k = self.n_clusters
        if k is not None:
            if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
                raise InvalidInputError(f"n_clusters must be a positive integer or None, got {k!r}")
            if k > n:
                raise InvalidInputError(f"n_clusters={k} is larger than the number of samples ({n})")
        if self.k_max < 1 or self.max_sample < 2 or self.min_cluster_size < 1:
            raise InvalidInputError("k_max, min_cluster_size must be ≥ 1 and max_sample ≥ 2")

    def _embedding(self, codes: Any, config: Any, n_distinct: int, seed: int) -> SpectralEmbedding:
        """Spectral embedding of the sample's Π, with enough vectors for every k the app may ask for."""
        import torch

        from engine.cluster.sinkhorn import sinkhorn_membership

        m = codes.shape[0]
        with torch.inference_mode():
            pi = sinkhorn_membership(codes, eta=config.eta, n_iter=config.sinkhorn_iters).cpu().numpy()
        w = symmetric_affinity(pi, self.n_neighbors)
        del pi
        n_vectors = max(self.n_clusters or 1, min(self.k_max, m // 2, n_distinct))
        return spectral_embedding(w, n_vectors, seed=seed)

    # ------------------------------------------------------------------------------------- read-out
    def _effective_min_size(self, k: int) -> int:
        return max(1, min(self.min_cluster_size, len(self._z_train) // (4 * k)))

    def _kept_clusters(self, k: int, sizes: np.ndarray) -> list[int]:
        """The clusters of k that become albums, largest first: the others are small or diffuse (§3.7) and go to
        "Other", but never all of them."""
        min_size = self._effective_min_size(k)
        diffuse = set(self._incoherent.get(k, ()))
        order = np.argsort(-sizes, kind="stable")
        kept = [int(c) for c in order if sizes[c] >= min_size and int(c) not in diffuse]
        return kept or [int(order[0])]

    def _readout(self, k: int) -> _Readout:
        """Album labels of the training set for k clusters, cached; no retraining."""
        if k in self._readouts:
            return self._readouts[k]
        if k in self._curve.labels:
            sample_labels = self._curve.labels[k]
        else:
            if k > self._embedding_.vectors.shape[1] and self._embedding_.n_components < k:
                raise InvalidInputError(
                    f"k={k} is beyond the {self._embedding_.vectors.shape[1]} clusters this fit supports"
                )
            sample_labels, _ = partition_for_k(self._embedding_, self._z_train[self._sample], k, self._seeds)
        z_sample = self._z_train[self._sample]
        assigner = SubspaceAssigner(self.subspace_rank).fit(z_sample, sample_labels)
        raw, _ = assigner.predict(self._z_train)
        raw[self._sample] = sample_labels
        kept = self._kept_clusters(k, np.bincount(raw, minlength=k))
        mapping = np.full(k, -1, dtype=np.int64)
        mapping[kept] = np.arange(len(kept))
        readout = _Readout(assigner=assigner, mapping=mapping, labels=mapping[raw])
        self._readouts[k] = readout
        return readout

    def _require_fitted(self) -> None:
        if not hasattr(self, "labels_"):
            from engine.cluster.not_fitted import EstimatorNotFittedError

            raise EstimatorNotFittedError("CPPClusterer is not fitted yet: call fit(X) first")

    def labels_for(self, k: int) -> np.ndarray:
        """Training-set labels for another number of albums, from the stored read-out (no retraining)."""
        self._require_fitted()
        if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
            raise InvalidInputError(f"k must be a positive integer, got {k!r}")
        if k > len(self._sample):
            raise InvalidInputError(f"k={k} is larger than the number of samples read out")
        return self._readout(int(k)).labels.copy()

    # ------------------------------------------------------------------------------ new samples
    def transform(self, X: Any) -> np.ndarray:
        """The learned features Z (n, d), float32, unit rows."""
        import torch

        from engine.cluster.mlc_head import encode

        self._require_fitted()
        x = validate_features(X)
        check_n_features(x, self)
        z, _ = encode(self.head_, torch.from_numpy(x).to(self.device_))
        return z.cpu().numpy().astype(np.float32, copy=False)

    def predict(self, X: Any) -> np.ndarray:
        """Album label (or −1) of each row of X, by nearest cluster subspace in Z."""
        self._require_fitted()
        readout = self._readout(self.n_clusters_)
        raw, _ = readout.assigner.predict(self.transform(X))
        return readout.mapping[raw]

    def predict_with_confidence(self, X: Any) -> tuple[np.ndarray, np.ndarray]:
        """Labels as `predict`, and each row's membership score in [0, 1] (the share of its learned
        feature explained by the cluster's subspace)."""
        self._require_fitted()
        readout = self._readout(self.n_clusters_)
        raw, score = readout.assigner.predict(self.transform(X))
        return readout.mapping[raw], np.clip(score, 0.0, 1.0)

    def training_confidence(self) -> np.ndarray:
        """Membership scores of the training photos under the current k (a yardstick for new photos)."""
        self._require_fitted()
        _, score = self._readout(self.n_clusters_).assigner.predict(self._z_train)
        return np.clip(score, 0.0, 1.0)

    def use_k(self, k: int) -> np.ndarray:
        """Switch to another number of albums from the stored read-out (no retraining); returns labels_."""
        self.labels_ = self.labels_for(k)
        self.n_clusters_ = int(k)
        return self.labels_.copy()

    def fit_predict(self, X: Any, y: Any = None, progress: ProgressReporter | None = None) -> np.ndarray:
        """`fit(X)` then `labels_`."""
        return self.fit(X, progress=progress).labels_.copy()

    def fit_transform(self, X: Any, y: Any = None, progress: ProgressReporter | None = None) -> np.ndarray:
        """`fit(X)` then `transform(X)`."""
        return self.fit(X, progress=progress).transform(X)

    # ------------------------------------------------------------------------------ scikit-learn
    def __sklearn_tags__(self) -> Any:
        from sklearn.utils import TransformerTags

        tags = super().__sklearn_tags__()
        # transform gives the learned features, always float32 (whatever the input's dtype).
        tags.transformer_tags = TransformerTags(preserves_dtype=["float32"])
        # A fixed random_state reproduces a fit on the CPU; GPU kernels (atomics in backward) need not.
        tags.non_deterministic = resolve_device(self.device) != "cpu"
        return tags
