"""`CPPClusterer` and `DACRefiner` as scikit-learn estimators: scikit-learn's own checks, one test per check.

scikit-learn runs its clustering checks only on instances of `ClusterMixin`, which `CPPClusterer` is not (it
follows the protocol without importing scikit-learn), so the checks run on `SklearnCPPClusterer`, the same
estimator with scikit-learn's bases; `CPPClusterer` itself passes every check scikit-learn gives it.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import sklearn.exceptions
from sklearn.base import BaseEstimator, clone, is_clusterer
from sklearn.utils import get_tags
from sklearn.utils.estimator_checks import estimator_checks_generator, parametrize_with_checks
from sklearn.utils.validation import check_is_fitted

from engine.cluster import CPPClusterer
from engine.cluster.dac import DACRefiner
from engine.cluster.sklearn_adapter import SklearnCPPClusterer
from engine.errors import InvalidInputError, NotFittedError
from engine.progress import RecordingProgress

pytestmark = pytest.mark.usefixtures("one_torch_thread")

# Tiny heads and few steps: the checks fit a few hundred times on at most 100 rows. n_clusters=3 fits the
# checks' three blobs; where a check needs another k it sets it itself.
CPP_PARAMS: dict[str, Any] = {
    "device": "cpu",
    "hidden_dim": 32,
    "z_dim": 8,
    "n_steps": 20,
    "warmup_steps": 5,
    "k_max": 5,
}
CPP = CPPClusterer(n_clusters=3, **CPP_PARAMS)
SKLEARN_CPP = SklearnCPPClusterer(n_clusters=3, **CPP_PARAMS)
DAC_PARAMS: dict[str, Any] = {"device": "cpu", "hidden_dim": 16, "batch_size": 32, "epochs": 2, "warm_epochs": 1}
DAC = DACRefiner(n_clusters=3, **DAC_PARAMS)

# DACRefiner refines a clustering: its y (alias init_labels) is that clustering, the warm start, not a label
# to ignore as scikit-learn's other clusterers do. It must be integers in −1…n_clusters−1, and refusing any
# other y is the engine's contract (a bad warm start must not silently become k-means). These checks hand
# it class labels that are no such clustering, so they fail on y alone; every one of them passes on
# `KMeansStartRefiner` below (DACRefiner with y dropped), so all they check besides y still holds.
_Y_BEYOND_K = "y holds labels 0…2 but the check sets n_clusters={k}: no warm start for {k} cluster(s)"
DAC_Y_FAILURES: dict[str, str] = {
    "check_dont_overwrite_parameters": _Y_BEYOND_K.format(k=1),
    "check_dtype_object": "y holds labels 0…3 for n_clusters=3: no warm start for 3 clusters",
    "check_estimators_nan_inf": "y is float (0.0, 1.0): a warm start is integer cluster numbers",
    "check_methods_sample_order_invariance": _Y_BEYOND_K.format(k=2),
    "check_methods_subset_invariance": _Y_BEYOND_K.format(k=1),
    "check_fit2d_1sample": "y is [1] but the check sets n_clusters=1: no warm start for 1 cluster",
    "check_fit2d_1feature": _Y_BEYOND_K.format(k=1),
    "check_fit2d_predict1d": _Y_BEYOND_K.format(k=1),
}


class KMeansStartRefiner(DACRefiner):
    """`DACRefiner` with scikit-learn's y dropped, so it starts from its own k-means, as a plain clusterer."""

    def fit(
        self,
        X: Any,
        y: Any = None,
        must_link: Any = None,
        cannot_link: Any = None,
        progress: Any = None,
        *,
        init_labels: Any = None,
    ) -> KMeansStartRefiner:
        super().fit(X, None, must_link, cannot_link, progress, init_labels=init_labels)
        return self


def expected_failed_checks(estimator: BaseEstimator) -> dict[str, str]:
    return DAC_Y_FAILURES if type(estimator) is DACRefiner else {}


def _check_name(check: Callable[..., Any]) -> str:
    while isinstance(check, functools.partial):
        check = check.func
    return check.__name__


def _id(value: object) -> str:
    """Test ids: the check's name, the estimator's class."""
    return _check_name(value) if callable(value) and not isinstance(value, BaseEstimator) else type(value).__name__


# xfail_strict: a listed check that starts to pass fails the test, so the list above stays true.
@pytest.mark.slow
@parametrize_with_checks([SKLEARN_CPP, DAC], expected_failed_checks=expected_failed_checks, xfail_strict=True)
def test_sklearn_check(estimator: BaseEstimator, check: Callable[[BaseEstimator], None]) -> None:
    check(estimator)


def _plain_checks() -> list[tuple[Any, Callable[[Any], None]]]:
    """scikit-learn's checks for `CPPClusterer` itself; it warns that the class is no `BaseEstimator`, which is
    the point."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Estimator CPPClusterer does not inherit", UserWarning)
        return list(estimator_checks_generator(CPP))


@pytest.mark.slow
@pytest.mark.parametrize(("estimator", "check"), _plain_checks(), ids=lambda value: _id(value) + "-plain")
def test_sklearn_check_without_sklearn_bases(estimator: Any, check: Callable[[Any], None]) -> None:
    check(estimator)


def test_the_engine_estimator_does_not_import_sklearn() -> None:
    # A re-cluster fits CPPClusterer and stores it; scikit-learn would add 0.9 s to it (scipy.stats).
    import subprocess
    import sys

    code = (
        "import sys, numpy as np\n"
        "from engine.cluster import CPPClusterer\n"
        "from engine.cluster.persist import dump_estimator, load_estimator\n"
        "x = np.random.default_rng(0).normal(size=(40, 6)).astype('float32')\n"
        "est = load_estimator(dump_estimator(CPPClusterer(random_state=0, device='cpu', n_steps=5).fit(x)))\n"
        "est.predict(x)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'sklearn'))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("estimator", "check"),
    [
        (estimator, check)
        for estimator, check in estimator_checks_generator(KMeansStartRefiner(n_clusters=3, **DAC_PARAMS))
        if _check_name(check) in DAC_Y_FAILURES
    ],
    ids=_id,
)
def test_refiner_checks_failing_on_y_alone_pass_without_it(
    estimator: BaseEstimator, check: Callable[[BaseEstimator], None]
) -> None:
    check(estimator)


# -- the parts of the API the app relies on ------------------------------------------------------------------


def _blobs(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(3, 8)) * 3
    labels = np.repeat(np.arange(3), 20)
    return (centres[labels] + rng.normal(size=(60, 8))).astype(np.float32), labels


@pytest.mark.parametrize("estimator", [CPP, SKLEARN_CPP, DAC], ids=_id)
def test_params_clone_and_tags(estimator: BaseEstimator) -> None:
    params = estimator.get_params()
    assert params["n_clusters"] == 3 and params["device"] == "cpu"
    copy = clone(estimator).set_params(n_clusters=5, random_state=7)
    assert (copy.n_clusters, copy.random_state) == (5, 7)
    assert estimator.n_clusters == 3, "clone gives a new estimator"
    assert is_clusterer(estimator)
    tags = get_tags(estimator)
    assert not tags.input_tags.sparse and not tags.input_tags.allow_nan and not tags.non_deterministic


@pytest.mark.parametrize("estimator", [CPP, SKLEARN_CPP, DAC], ids=_id)
def test_unfitted_use_raises_both_not_fitted_errors(estimator: BaseEstimator) -> None:
    x, _ = _blobs()
    with pytest.raises(NotFittedError) as caught:
        clone(estimator).predict(x)
    assert isinstance(caught.value, sklearn.exceptions.NotFittedError)
    with pytest.raises(sklearn.exceptions.NotFittedError):
        check_is_fitted(clone(estimator))


@pytest.mark.parametrize("estimator", [CPP, DAC], ids=_id)
def test_fit_predict_is_fit_then_labels_and_reports_progress(estimator: BaseEstimator) -> None:
    x, y = _blobs()
    progress = RecordingProgress()
    labels = clone(estimator).fit_predict(x, progress=progress)
    assert progress.phases, "progress reaches fit"
    np.testing.assert_array_equal(labels, clone(estimator).fit(x).labels_)
    check_is_fitted(clone(estimator).fit(x, y))


@pytest.mark.parametrize(
    "bad",
    [np.zeros((4, 3), dtype=complex), np.array([[{"a": 1}, 1.0]], dtype=object)],
    ids=["complex", "object"],
)
def test_data_no_float_array_holds_is_invalid_input(bad: np.ndarray) -> None:
    with pytest.raises(InvalidInputError):
        clone(CPP).fit(bad)


def test_sparse_input_is_refused_as_invalid_input() -> None:
    from scipy import sparse

    with pytest.raises(InvalidInputError, match="sparse"):
        clone(CPP).fit(sparse.csr_matrix(np.eye(5)))


def test_refiner_takes_y_as_its_warm_start() -> None:
    x, y = _blobs()
    by_position = DACRefiner(None, random_state=0, **DAC_PARAMS).fit(x, y)
    by_name = DACRefiner(None, random_state=0, **DAC_PARAMS).fit(x, init_labels=y)
    assert by_position.n_clusters_ == 3, "k comes from y as from init_labels"
    np.testing.assert_array_equal(by_position.labels_, by_name.labels_)
    with pytest.raises(InvalidInputError, match="once"):
        DACRefiner(3, **DAC_PARAMS).fit(x, y, init_labels=y)
