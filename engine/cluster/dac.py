"""`DACRefiner`: Deep Adaptive Clustering (algorithms.md §6) as a refinement of an existing clustering.

A head f on CLIP features gives label features l = normalise(softmax(f(x))) ∈ R^k; it is warm-started to
reproduce the current clustering, then trained with binary cross-entropy on the pairs of each mini-batch
that the adaptive thresholds u(λ), l(λ) select, λ rising every epoch until u ≤ l (RMSProp). The user's
must-link / cannot-link pairs are always selected, so the refined model carries the user's corrections
over to similar photos. Read-out: argmax of l.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.utils import Tags, TransformerTags

from engine.cluster.estimator import (
    as_float32,
    check_n_features,
    count_distinct_rows,
    resolve_device,
    validate_features,
)
from engine.cluster.not_fitted import EstimatorNotFittedError
from engine.errors import InvalidInputError
from engine.progress import ProgressReporter, check_cancelled, ensure_progress

# Rows per forward pass at read-out: 100k photos never need one huge activation.
_READOUT_CHUNK = 8192
# Fewest cross-entropy steps of a warm start.
_MIN_WARM_STEPS = 100
# Fewest mini-batches per curriculum epoch.
_MIN_STEPS_PER_EPOCH = 10


@dataclass(frozen=True)
class EpochRecord:
    """What one epoch of the curriculum did: its λ, thresholds, the pairs it trained on and the mean loss."""

    lam: float
    upper: float
    lower: float
    same_pairs: int
    different_pairs: int
    constraint_pairs: int
    loss: float


def constraint_agreement(labels: Any, must_link: Any = None, cannot_link: Any = None) -> float:
    """Share of the user's pairs a labelling satisfies: must-link pairs together, cannot-link pairs apart.

    A label of −1 ("Other") satisfies no must-link pair and every cannot-link pair. 1.0 when there are no pairs.
    """
    labels = np.asarray(labels)
    ml = _as_pairs(must_link, len(labels), "must_link")
    cl = _as_pairs(cannot_link, len(labels), "cannot_link")
    total = len(ml) + len(cl)
    if total == 0:
        return 1.0
    a, b = labels[ml[:, 0]], labels[ml[:, 1]]
    kept = int(((a == b) & (a >= 0)).sum())
    a, b = labels[cl[:, 0]], labels[cl[:, 1]]
    kept += int(((a != b) | (a < 0)).sum())
    return kept / total


def _as_pairs(pairs: Any, n: int, name: str) -> np.ndarray:
    """(m, 2) int64 array of row indices in [0, n), or `InvalidInputError`."""
    if pairs is None:
        return np.empty((0, 2), dtype=np.int64)
    try:
        arr = np.asarray(pairs)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"{name} must be an integer array of shape (m, 2): {exc}") from exc
    if arr.size == 0:
        return np.empty((0, 2), dtype=np.int64)
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise InvalidInputError(f"{name} must have shape (m, 2), got {arr.shape}")
    if not np.issubdtype(arr.dtype, np.integer):
        raise InvalidInputError(f"{name} must hold integer row indices, got {arr.dtype}")
    arr = arr.astype(np.int64)
    if arr.min() < 0 or arr.max() >= n:
        raise InvalidInputError(f"{name} indexes rows outside 0…{n - 1}")
    return arr


def _head(in_dim: int, hidden_dim: int, k: int) -> Any:
    from torch import nn

    return nn.Sequential(nn.Linear(in_dim, hidden_dim), nn.BatchNorm1d(hidden_dim), nn.ReLU(), nn.Linear(hidden_dim, k))


class DACRefiner(ClusterMixin, BaseEstimator):
    """Refine a clustering of features (e.g. CLIP embeddings) with DAC, optionally under user constraints.

    Args:
        n_clusters: k; None takes it from `init_labels` at fit (their largest label + 1).
        random_state: seed of every random choice (head init, batches, k-means warm start).
        device: "auto" (cuda → mps → cpu), or a torch device string.
        hidden_dim: width of the head; None picks 512 (256 below 2,000 photos).
        batch_size: photos per mini-batch (all pairs within it are candidates); None picks min(512, n).
        epochs: epochs of the curriculum; None is the published schedule (λ += 1.1·0.009, 46 epochs),
            an integer spreads the same thresholds over that many epochs.
        warm_epochs: epochs of cross-entropy on `init_labels` before the curriculum (the warm start).
        lr: RMSProp learning rate (the paper's 1e-3).
        constraint_weight: weight of the user's pairs' mean loss against the automatic pairs' mean loss.
        constraint_pairs_per_batch: user pairs whose photos join each mini-batch (so every batch sees some).
        encoder: an optional trainable torch module applied to the rows of X before the head (e.g. the last
            visual blocks of CLIP, for fine-tuning); X is then whatever that module takes.
        encoder_lr: learning rate of the encoder's parameters (smaller than the head's).

    Attributes (after fit):
        labels_: (n,) cluster of every row, 0…k−1 (argmax of its label feature).
        n_clusters_: the k used.
        history_: one `EpochRecord` per curriculum epoch.
        constraint_agreement_: (before, after) share of the user's pairs satisfied by init and final labels.
        n_features_in_: D, the width of X; None with an encoder (X is then the encoder's input).

    A scikit-learn clusterer (`get_params`, `set_params`, `clone`, `fit_predict`); `transform` gives the label
    features. Unlike other clusterers it reads y: `fit(X, y)` refines the clustering y (see `fit`).
    """

    def __init__(
        self,
        n_clusters: int | None = None,
        random_state: int | None = 0,
        device: str = "auto",
        *,
        hidden_dim: int | None = None,
        batch_size: int | None = None,
        epochs: int | None = None,
        warm_epochs: int = 5,
        lr: float = 1e-3,
        constraint_weight: float = 1.0,
        constraint_pairs_per_batch: int = 64,
        encoder: Any = None,
        encoder_lr: float = 1e-5,
    ) -> None:
        self.n_clusters = n_clusters
        self.random_state = random_state
        self.device = device
        self.hidden_dim = hidden_dim
        self.batch_size = batch_size
        self.epochs = epochs
        self.warm_epochs = warm_epochs
        self.lr = lr
        self.constraint_weight = constraint_weight
        self.constraint_pairs_per_batch = constraint_pairs_per_batch
        self.encoder = encoder
        self.encoder_lr = encoder_lr

    # ----------------------------------------------------------------------------------------- fit
    def fit(
        self,
        X: Any,
        y: Any = None,
        must_link: Any = None,
        cannot_link: Any = None,
        progress: ProgressReporter | None = None,
        *,
        init_labels: Any = None,
    ) -> DACRefiner:
        """Warm-start on the current clustering (k-means when None), then run the DAC curriculum.

        Args:
            X: (n, D) features (or the encoder's input when an encoder is set).
            y, init_labels: (n,) current cluster of every row, −1 for rows in none (they get no warm start);
                the same argument under two names: `y` second, where scikit-learn passes it.
            must_link, cannot_link: (m, 2) integer arrays of row indices: pairs the user put together / apart.
            progress: progress and cancellation (a phase per stage, a unit per epoch).

        Raises:
            InvalidInputError: bad X, labels, pairs or parameters.
            Cancelled: the progress reporter asked to stop.
        """
        import torch

        from engine.cluster.dac_pairs import ThresholdSchedule

        progress = ensure_progress(progress)
        if y is not None and init_labels is not None:
            raise InvalidInputError("give the current clustering once: as y or as init_labels")
        x = self._validate_x(X)
        n = x.shape[0]
        init = self._validate_init(init_labels if y is None else y, n)
        k = self._resolve_k(init, n)
        ml = _as_pairs(must_link, n, "must_link")
        cl = _as_pairs(cannot_link, n, "cannot_link")
        pairs, targets = self._constraints(ml, cl)
        self._check_params(k, n, x)
        seed = int(self.random_state) if self.random_state is not None else int(np.random.default_rng().integers(2**31))
        self.device_ = resolve_device(self.device)
        schedule = ThresholdSchedule() if self.epochs is None else ThresholdSchedule.over_epochs(int(self.epochs))
        self.schedule_ = schedule
        self.n_clusters_ = k
        self.history_: list[EpochRecord] = []

        xt = torch.from_numpy(x).to(self.device_)
        with torch.random.fork_rng(devices=[]):
            # Weight init draws from the global generator; forking keeps the caller's stream untouched.
            torch.manual_seed(seed)
            in_dim = self._encoded_dim(xt)
            hidden = self.hidden_dim or (512 if n >= 2000 else 256)
            self.head_ = _head(in_dim, hidden, k).to(self.device_)
        if init is None:
            init = self._kmeans_init(xt, k, seed)
        self.n_features_in_ = int(x.shape[1]) if self.encoder is None else None
        self.constraint_agreement_ = (constraint_agreement(init, ml, cl), float("nan"))

        rng = np.random.default_rng(seed)
        batch = self.batch_size or min(512, n)
        if k > 1 and n > 1:
            optimizer = self._optimizer()
            self._warm_start(xt, init, k, batch, optimizer, rng, progress)
            self._curriculum(xt, pairs, targets, batch, schedule, optimizer, rng, progress)
        self.labels_, self._train_confidence = self._read_out(xt)
        self.constraint_agreement_ = (self.constraint_agreement_[0], constraint_agreement(self.labels_, ml, cl))
        return self

    def _validate_x(self, X: Any) -> np.ndarray:
        if self.encoder is None:
            return validate_features(X)
        arr = np.ascontiguousarray(as_float32(X))
        if arr.ndim < 2 or arr.shape[0] == 0 or not np.isfinite(arr).all():
            raise InvalidInputError(f"X must be a non-empty finite array of rows, got shape {arr.shape}")
        return arr

    @staticmethod
    def _validate_init(init_labels: Any, n: int) -> np.ndarray | None:
        if init_labels is None:
            return None
        arr = np.asarray(init_labels)
        if arr.shape != (n,):
            raise InvalidInputError(f"init_labels must have shape ({n},), got {arr.shape}")
        if arr.size and not np.issubdtype(arr.dtype, np.integer):
            raise InvalidInputError(f"init_labels must be integers, got {arr.dtype}")
        arr = arr.astype(np.int64)
        if (arr < -1).any():
            raise InvalidInputError("init_labels must be cluster numbers 0… or −1 for none")
        return arr

    def _resolve_k(self, init: np.ndarray | None, n: int) -> int:
        k = self.n_clusters
        if k is None:
            if init is None or not (init >= 0).any():
                raise InvalidInputError("give n_clusters, or init_labels to take it from")
            return int(init.max()) + 1
        if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
            raise InvalidInputError(f"n_clusters must be a positive integer, got {k!r}")
        if k > n:
            raise InvalidInputError(f"n_clusters={k} is larger than the number of samples ({n})")
        if init is not None and init.max(initial=-1) >= k:
            raise InvalidInputError(f"init_labels has label {int(init.max())}, beyond n_clusters={k}")
        return int(k)

    def _check_params(self, k: int, n: int, x: np.ndarray) -> None:
        if self.batch_size is not None and self.batch_size < 2:
            raise InvalidInputError("batch_size must be at least 2")
        if self.epochs is not None and (isinstance(self.epochs, bool) or int(self.epochs) < 1):
            raise InvalidInputError("epochs must be at least 1")
        if self.warm_epochs < 0 or self.lr <= 0 or self.constraint_weight < 0:
            raise InvalidInputError("warm_epochs and constraint_weight must be ≥ 0 and lr > 0")
        if self.encoder is None and k > 1:
            distinct = count_distinct_rows(x)
            if k > distinct:
                raise InvalidInputError(f"cannot form {k} clusters from {distinct} distinct points")

    @staticmethod
    def _constraints(ml: np.ndarray, cl: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """All user pairs with their r, after refusing self-contradictions."""
        if (cl[:, 0] == cl[:, 1]).any():
            raise InvalidInputError("a cannot-link pair joins a photo with itself")
        keep = ml[:, 0] != ml[:, 1]  # a photo is always with itself: nothing to learn
        ml = ml[keep]
        must = {(min(a, b), max(a, b)) for a, b in ml.tolist()}
        clash = [p for p in cl.tolist() if (min(p), max(p)) in must]
        if clash:
            raise InvalidInputError(f"pair {tuple(clash[0])} is both must-link and cannot-link")
        pairs = np.concatenate([ml, cl]).astype(np.int64)
        targets = np.concatenate([np.ones(len(ml)), np.zeros(len(cl))]).astype(np.float32)
        return pairs, targets

    # --------------------------------------------------------------------------------- training
    def _encode(self, xb: Any) -> Any:
        return self.encoder(xb) if self.encoder is not None else xb

    def _encoded_dim(self, xt: Any) -> int:
        import torch

        if self.encoder is None:
            return int(xt.shape[1])
        self.encoder.to(self.device_)
        with torch.no_grad():
            return int(self._encode(xt[:1]).shape[1])

    def _optimizer(self) -> Any:
        import torch

        groups = [{"params": list(self.head_.parameters()), "lr": self.lr}]
        if self.encoder is not None:
            trainable = [p for p in self.encoder.parameters() if p.requires_grad]
            if trainable:
                groups.append({"params": trainable, "lr": self.encoder_lr})
        return torch.optim.RMSprop(groups, lr=self.lr)

    def _train_mode(self, on: bool) -> None:
        self.head_.train(on)
        if self.encoder is not None:
            self.encoder.train(on)

    def _kmeans_init(self, xt: Any, k: int, seed: int) -> np.ndarray:
        """No clustering given: start from k-means on the (encoded) features."""
        from sklearn.cluster import KMeans

        feats = self._encoded_numpy(xt)
        return KMeans(n_clusters=k, n_init=3, random_state=seed).fit_predict(feats).astype(np.int64)

    def _encoded_numpy(self, xt: Any) -> np.ndarray:
        import torch

        if self.encoder is None:
            return xt.cpu().numpy()
        with torch.no_grad():
            self.encoder.eval()
            parts = [self._encode(xt[s : s + 256]).float().cpu() for s in range(0, xt.shape[0], 256)]
        return torch.cat(parts).numpy()

    def _warm_start(
        self, xt: Any, init: np.ndarray, k: int, batch: int, optimizer: Any, rng: np.random.Generator, progress: Any
    ) -> None:
        """Cross-entropy on the given labels, so the curriculum starts from the current clustering."""
        import torch
        from torch.nn import functional as F

        from engine.cluster.dac_pairs import epoch_steps

        labelled = np.flatnonzero(init >= 0)
        steps = epoch_steps(len(labelled), batch) * self.warm_epochs
        if steps:
            # A few epochs of a small library are a handful of steps: too few to leave the near-uniform
            # softmax of a fresh head, whose pairs all look "same" to the curriculum (and collapse).
            steps = max(steps, _MIN_WARM_STEPS)
        if len(labelled) < 2:
            steps = 0
        progress.phase("warm start from the current albums", steps)
        if not steps:
            return
        target = torch.from_numpy(init).to(self.device_)
        self._train_mode(True)
        for _ in range(steps):
            check_cancelled(progress)
            idx = torch.from_numpy(rng.choice(labelled, size=min(batch, len(labelled)), replace=False))
            idx = idx.to(self.device_)
            loss = F.cross_entropy(self.head_(self._encode(xt[idx])), target[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            progress.advance(1)

    def _curriculum(
        self,
        xt: Any,
        pairs: np.ndarray,
        targets: np.ndarray,
        batch: int,
        schedule: Any,
        optimizer: Any,
        rng: np.random.Generator,
        progress: Any,
    ) -> None:
        """The DAC epochs: pairs selected by u(λ), l(λ) in every batch, the user's pairs always."""
        import torch

        from engine.cluster.dac_pairs import (
            batch_with_constraints,
            constraints_in_batch,
            epoch_steps,
            label_features,
            pair_loss,
            select_pairs,
        )

        n = xt.shape[0]
        lambdas = schedule.lambdas()
        # A small library is one batch: a few more steps per λ let the user's pairs be learned at every stage.
        steps = max(epoch_steps(n, batch), _MIN_STEPS_PER_EPOCH)
        progress.phase("refine with adaptive pairs", len(lambdas))
        self._train_mode(True)
        for lam in lambdas:
            upper, lower = schedule.upper(lam), schedule.lower(lam)
            same = different = forced_total = 0
            losses = []
            for _ in range(steps):
                check_cancelled(progress)
                idx = batch_with_constraints(n, batch, pairs, rng, self.constraint_pairs_per_batch)
                if len(idx) < 2:
                    continue
                local, r = constraints_in_batch(idx, pairs, targets, n)
                feats = label_features(self.head_(self._encode(xt[torch.from_numpy(idx).to(self.device_)])))
                similarity = feats @ feats.T
                selection = select_pairs(
                    similarity,
                    upper,
                    lower,
                    torch.from_numpy(local).to(self.device_),
                    torch.from_numpy(r).to(self.device_),
                )
                loss, used = pair_loss(similarity, selection, self.constraint_weight)
                if used:
                    optimizer.zero_grad(set_to_none=True)
                    loss.backward()
                    optimizer.step()
                    losses.append(float(loss.detach()))
                same += selection.n_same
                different += selection.n_different
                forced_total += int(selection.forced.sum()) // 2
            mean = float(np.mean(losses)) if losses else 0.0
            self.history_.append(EpochRecord(lam, upper, lower, same, different, forced_total, mean))
            progress.advance(1)

    def _logits(self, xt: Any) -> Any:
        import torch

        self._train_mode(False)
        with torch.inference_mode():
            parts = [
                self.head_(self._encode(xt[s : s + _READOUT_CHUNK])).float()
                for s in range(0, xt.shape[0], _READOUT_CHUNK)
            ]
        return torch.cat(parts)

    def _read_out(self, xt: Any) -> tuple[np.ndarray, np.ndarray]:
        """Cluster (argmax of l, the same as of softmax) and confidence (largest softmax probability) per row."""
        import torch

        probs = torch.softmax(self._logits(xt), dim=1)
        confidence, labels = probs.max(dim=1)
        return labels.cpu().numpy().astype(np.int64), confidence.cpu().numpy().astype(np.float32)

    # ------------------------------------------------------------------------------ new samples
    def _require_fitted(self) -> None:
        if not hasattr(self, "labels_"):
            raise EstimatorNotFittedError("DACRefiner is not fitted yet: call fit(X) first")

    def _input(self, X: Any) -> Any:
        import torch

        self._require_fitted()
        x = self._validate_x(X)
        check_n_features(x, self)
        # The head's own device: a refiner fitted on a GPU and loaded on a CPU-only machine still predicts.
        return torch.from_numpy(x).to(next(self.head_.parameters()).device)

    def transform(self, X: Any) -> np.ndarray:
        """Label features l (n, k): non-negative unit rows."""
        from engine.cluster.dac_pairs import label_features

        return label_features(self._logits(self._input(X))).cpu().numpy().astype(np.float32)

    def predict(self, X: Any) -> np.ndarray:
        """Cluster of each row of X (argmax of its label feature)."""
        return self._read_out(self._input(X))[0]

    def predict_with_confidence(self, X: Any) -> tuple[np.ndarray, np.ndarray]:
        """Clusters as `predict`, and each row's largest softmax probability in [0, 1]."""
        return self._read_out(self._input(X))

    def training_confidence(self) -> np.ndarray:
        """Confidence of the training rows (a yardstick for new photos)."""
        self._require_fitted()
        return self._train_confidence.copy()

    def fit_predict(
        self,
        X: Any,
        y: Any = None,
        must_link: Any = None,
        cannot_link: Any = None,
        progress: ProgressReporter | None = None,
        *,
        init_labels: Any = None,
    ) -> np.ndarray:
        """`fit(...)` then `labels_`."""
        return self.fit(X, y, must_link, cannot_link, progress, init_labels=init_labels).labels_.copy()

    def fit_transform(
        self,
        X: Any,
        y: Any = None,
        must_link: Any = None,
        cannot_link: Any = None,
        progress: ProgressReporter | None = None,
        *,
        init_labels: Any = None,
    ) -> np.ndarray:
        """`fit(...)` then `transform(X)`."""
        return self.fit(X, y, must_link, cannot_link, progress, init_labels=init_labels).transform(X)

    # ------------------------------------------------------------------------------ scikit-learn
    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()
        # transform gives the label features, always float32 (whatever the input's dtype).
        tags.transformer_tags = TransformerTags(preserves_dtype=["float32"])
        # A fixed random_state reproduces a fit on the CPU; GPU kernels (atomics in backward) need not.
        tags.non_deterministic = resolve_device(self.device) != "cpu"
        return tags
