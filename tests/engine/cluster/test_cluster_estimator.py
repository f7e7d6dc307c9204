"""CPPClusterer end to end: chosen k, accuracy, determinism, predict, labels_for, bad input, cancel."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment

from engine.cluster import CPPClusterer
from engine.errors import Cancelled, InvalidInputError, NotFittedError
from engine.progress import RecordingProgress

# Small sizes keep every fit to a second or two on a 2-core CPU. The warm-up is pinned too: its default
# follows the default number of steps for the data's size, not `n_steps`.
FAST = {"hidden_dim": 128, "z_dim": 16, "n_steps": 80, "warmup_steps": 37, "k_max": 10}


def _blobs(
    sizes: list[int], dim: int = 32, spread: float = 0.15, seed: int = 0, draw: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Unit-norm Gaussian blobs; `draw` re-samples the points around the same centres."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((len(sizes), dim))
    if draw is not None:
        rng = np.random.default_rng(1000 + draw)
    labels = np.repeat(np.arange(len(sizes)), sizes)
    x = centres[labels] / np.sqrt(dim) + spread * rng.standard_normal((len(labels), dim)) / np.sqrt(dim)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    order = rng.permutation(len(labels))
    return x[order].astype(np.float32), labels[order]


def _accuracy(truth: np.ndarray, pred: np.ndarray) -> float:
    cost = np.zeros((pred.max() + 2, truth.max() + 1))
    np.add.at(cost, (pred + 1, truth), 1)  # row 0 holds "Other" (−1), which never matches a class
    cost[0] = 0
    rows, cols = linear_sum_assignment(-cost)
    return cost[rows, cols].sum() / len(truth)


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    return _blobs([120, 90, 60, 40])


@pytest.fixture(scope="module")
def fitted(data: tuple[np.ndarray, np.ndarray]) -> CPPClusterer:
    return CPPClusterer(random_state=0, device="cpu", **FAST).fit(data[0])


def test_chooses_the_true_k_and_clusters_accurately(fitted: CPPClusterer, data: tuple) -> None:
    x, y = data
    assert fitted.n_clusters_ == 4
    assert fitted.labels_.shape == (len(x),)
    assert _accuracy(y, fitted.labels_) > 0.95
    assert min(fitted.coding_lengths_, key=fitted.coding_lengths_.get) == 4
    assert set(fitted.coding_lengths_) >= {1, 2, 3, 4, 5, 6}


def test_given_k_is_used(data: tuple) -> None:
    x, y = data
    model = CPPClusterer(n_clusters=4, device="cpu", **FAST).fit(x)
    assert model.n_clusters_ == 4
    assert list(model.coding_lengths_) == [4]
    assert _accuracy(y, model.labels_) > 0.95


def test_deterministic_for_fixed_random_state(fitted: CPPClusterer, data: tuple) -> None:
    again = CPPClusterer(random_state=0, device="cpu", **FAST).fit(data[0])
    np.testing.assert_array_equal(again.labels_, fitted.labels_)
    np.testing.assert_array_equal(again.transform(data[0]), fitted.transform(data[0]))
    assert again.coding_lengths_ == fitted.coding_lengths_


def test_predict_on_training_data_agrees_with_labels(fitted: CPPClusterer, data: tuple) -> None:
    pred = fitted.predict(data[0])
    assert pred.shape == fitted.labels_.shape
    assert (pred == fitted.labels_).mean() > 0.98


def test_predict_new_points_from_the_same_clusters(fitted: CPPClusterer) -> None:
    x_new, y_new = _blobs([50, 50, 50, 50], seed=0, draw=1)  # same centres, unseen points
    assert _accuracy(y_new, fitted.predict(x_new)) > 0.95


def test_transform_gives_unit_float32_rows(fitted: CPPClusterer, data: tuple) -> None:
    z = fitted.transform(data[0][:10])
    assert z.dtype == np.float32
    assert z.shape == (10, 16)
    np.testing.assert_allclose(np.linalg.norm(z, axis=1), 1.0, atol=1e-5)


def test_labels_for_other_k_without_refit(fitted: CPPClusterer, data: tuple) -> None:
    np.testing.assert_array_equal(fitted.labels_for(fitted.n_clusters_), fitted.labels_)
    fewer = fitted.labels_for(2)
    assert len(np.unique(fewer[fewer >= 0])) == 2
    more = fitted.labels_for(6)
    assert 4 <= len(np.unique(more[more >= 0])) <= 6
    # Not in the stored curve (k_max=10 caps it): computed from the stored spectral embedding.
    assert fitted.labels_for(10).shape == fewer.shape
    with pytest.raises(InvalidInputError):
        fitted.labels_for(0)


def test_small_clusters_dissolve_into_other(data: tuple) -> None:
    x, _ = data
    model = CPPClusterer(random_state=0, device="cpu", min_cluster_size=5, **FAST).fit(x)
    for k in (4, 8, 10):
        labels = model.labels_for(k)
        sizes = np.bincount(labels[labels >= 0])
        assert sizes.min() >= 5
        assert (np.diff(sizes) <= 0).all()  # album 0 is the largest
    # On clean data nothing is thrown away at the chosen k.
    assert (model.labels_ >= 0).all()


def test_outliers_become_other() -> None:
    x, _ = _blobs([100, 100, 100], seed=1)
    rng = np.random.default_rng(5)
    odd = rng.standard_normal((2, x.shape[1])).astype(np.float32)
    x = np.vstack([x, odd / np.linalg.norm(odd, axis=1, keepdims=True)])
    model = CPPClusterer(n_clusters=3, device="cpu", min_cluster_size=5, **FAST).fit(x)
    many = model.labels_for(8)
    # Whatever tiny groups k=8 creates are "Other", and the three real albums survive.
    assert len(np.unique(many[many >= 0])) >= 3
    sizes = np.bincount(many[many >= 0])
    assert sizes.min() >= 5


def test_unfitted_raises() -> None:
    model = CPPClusterer()
    with pytest.raises(NotFittedError):
        model.predict(np.zeros((2, 3)))
    with pytest.raises(NotFittedError):
        model.labels_for(2)


@pytest.mark.parametrize(
    "bad",
    [
        np.array([[0.0, np.nan], [1.0, 2.0]]),
        np.array([[0.0, np.inf], [1.0, 2.0]]),
        np.zeros((0, 4)),
        np.zeros((3, 0)),
        np.arange(5.0),
        np.zeros((2, 2, 2)),
        [["a", "b"], ["c", "d"]],
    ],
)
def test_bad_input_raises_invalid_input(bad: object) -> None:
    with pytest.raises(InvalidInputError):
        CPPClusterer(device="cpu", **FAST).fit(bad)


@pytest.mark.parametrize("k", [0, -1, 2.5, True])
def test_bad_n_clusters(k: object) -> None:
    with pytest.raises(InvalidInputError):
        CPPClusterer(n_clusters=k, device="cpu", **FAST).fit(np.eye(6))  # type: ignore[arg-type]


def test_more_clusters_than_samples_raises() -> None:
    with pytest.raises(InvalidInputError):
        CPPClusterer(n_clusters=5, device="cpu", **FAST).fit(np.eye(4))


def test_predict_with_wrong_width_raises(fitted: CPPClusterer) -> None:
    with pytest.raises(InvalidInputError):
        fitted.predict(np.zeros((3, 7)))


def test_k_equal_one_labels_everything_zero(data: tuple) -> None:
    model = CPPClusterer(n_clusters=1, device="cpu", **FAST).fit(data[0][:60])
    assert (model.labels_ == 0).all()
    assert (model.predict(data[0][60:80]) == 0).all()


def test_all_duplicates() -> None:
    x = np.tile(np.array([[0.6, 0.8, 0.0]], dtype=np.float32), (20, 1))
    model = CPPClusterer(device="cpu", **FAST).fit(x)
    assert model.n_clusters_ == 1
    assert (model.labels_ == 0).all()
    with pytest.raises(InvalidInputError):
        CPPClusterer(n_clusters=2, device="cpu", **FAST).fit(x)


@pytest.mark.parametrize("n", [1, 2, 3])
def test_tiny_inputs(n: int) -> None:
    x = np.eye(n, 5, dtype=np.float32)
    model = CPPClusterer(device="cpu", **FAST).fit(x)
    assert model.labels_.shape == (n,)
    assert model.n_clusters_ >= 1
    assert model.predict(x).shape == (n,)
    two = CPPClusterer(n_clusters=n, device="cpu", **FAST).fit(x)
    assert len(np.unique(two.labels_)) == n or (two.labels_ == -1).any()


def test_cancellation_raises_cancelled(data: tuple) -> None:
    progress = RecordingProgress(cancel_after=5)
    with pytest.raises(Cancelled):
        CPPClusterer(device="cpu", **FAST).fit(data[0], progress=progress)
    assert progress.done["train cluster head"] == 5


def test_cancel_immediately(data: tuple) -> None:
    class Stop:
        def phase(self, name: str, total: int | None = None) -> None:
            pass

        def advance(self, done: int = 1) -> None:
            pass

        def is_cancelled(self) -> bool:
            return True

    with pytest.raises(Cancelled):
        CPPClusterer(device="cpu", **FAST).fit(data[0], progress=Stop())


def test_progress_reports_phases(data: tuple) -> None:
    progress = RecordingProgress()
    CPPClusterer(device="cpu", **FAST).fit(data[0], progress=progress)
    names = [name for name, _ in progress.phases]
    assert names[0] == "train cluster head"
    assert progress.done["train cluster head"] == FAST["n_steps"]
    assert progress.done["choose number of albums"] == dict(progress.phases)["choose number of albums"]


def test_init_only_stores_parameters() -> None:
    model = CPPClusterer(n_clusters=3, random_state=7, device="cpu", eta=0.1)
    assert (model.n_clusters, model.random_state, model.device, model.eta) == (3, 7, "cpu", 0.1)
    assert not hasattr(model, "labels_")


def test_identical_photos_cannot_form_two_clusters() -> None:
    same = np.tile(np.random.default_rng(0).standard_normal((1, 64)).astype(np.float32), (30, 1))
    with pytest.raises(InvalidInputError, match="from 1 distinct"):
        CPPClusterer(n_clusters=2, device="cpu", **FAST).fit(same)
