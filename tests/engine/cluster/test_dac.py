"""`DACRefiner` and its curriculum: threshold schedule, pair selection, user constraints, bad input."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest
import torch

from engine import DACRefiner
from engine.cluster.dac import constraint_agreement
from engine.cluster.dac_pairs import (
    ThresholdSchedule,
    batch_with_constraints,
    constraints_in_batch,
    label_features,
    pair_loss,
    select_pairs,
)
from engine.errors import Cancelled, InvalidInputError, NotFittedError
from engine.progress import RecordingProgress

FAST = {"hidden_dim": 32, "batch_size": 64, "epochs": 6, "warm_epochs": 2, "device": "cpu"}


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def blobs(
    n_per: int = 40, k: int = 3, dim: int = 16, spread: float = 0.15, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """k Gaussian blobs on the unit sphere, with their true labels."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(k, dim))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    x = np.concatenate([c + spread * rng.normal(size=(n_per, dim)) for c in centres])
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x.astype(np.float32), np.repeat(np.arange(k), n_per)


# -- the threshold schedule ------------------------------------------------------------------------


def test_published_schedule_runs_46_epochs_until_upper_meets_lower() -> None:
    schedule = ThresholdSchedule()
    lambdas = schedule.lambdas()
    assert len(lambdas) == schedule.n_epochs == 46
    assert lambdas[0] == 0.0 and (schedule.upper(0.0), schedule.lower(0.0)) == (0.95, 0.455)
    assert lambdas[1] == pytest.approx(1.1 * 0.009)
    assert all(schedule.upper(lam) > schedule.lower(lam) for lam in lambdas)
    next_lam = lambdas[-1] + schedule.step
    assert schedule.upper(next_lam) <= schedule.lower(next_lam)
    uppers = [schedule.upper(lam) for lam in lambdas]
    lowers = [schedule.lower(lam) for lam in lambdas]
    assert uppers == sorted(uppers, reverse=True) and lowers == sorted(lowers), "u falls and l rises"


@pytest.mark.parametrize("epochs", [1, 7, 46, 100])
def test_a_given_number_of_epochs_spans_the_same_thresholds(epochs: int) -> None:
    schedule = ThresholdSchedule.over_epochs(epochs)
    lambdas = schedule.lambdas()
    assert len(lambdas) == epochs
    assert schedule.lambda_end == pytest.approx(ThresholdSchedule().lambda_end)
    assert lambdas[-1] < schedule.lambda_end <= lambdas[-1] + schedule.step


# -- pair selection --------------------------------------------------------------------------------


def test_pairs_above_upper_are_same_below_lower_different_between_ignored() -> None:
    s = torch.tensor(
        [
            [1.0, 0.97, 0.30, 0.60],
            [0.97, 1.0, 0.10, 0.50],
            [0.30, 0.10, 1.0, 0.95],
            [0.60, 0.50, 0.95, 1.0],
        ]
    )
    sel = select_pairs(s, upper=0.95, lower=0.455)
    expected_mask = torch.tensor(
        [[0, 1, 1, 0], [1, 0, 1, 0], [1, 1, 0, 1], [0, 0, 1, 0]],
        dtype=torch.bool,
    )
    assert torch.equal(sel.mask, expected_mask), "diagonal never, 0.60 and 0.50 are ignored"
    assert sel.target[0, 1] == 1 and sel.target[2, 3] == 1 and sel.target[0, 2] == 0 and sel.target[1, 2] == 0
    assert (sel.n_same, sel.n_different) == (2, 2)
    assert not sel.forced.any()


def test_constraint_pairs_are_always_selected_with_the_users_answer() -> None:
    s = torch.tensor([[1.0, 0.99, 0.7], [0.99, 1.0, 0.7], [0.7, 0.7, 1.0]])
    # 0–1 look the same but the user put them apart; 1–2 fall between the thresholds but the user joined them.
    sel = select_pairs(s, 0.95, 0.455, torch.tensor([[0, 1], [2, 1]]), torch.tensor([0.0, 1.0]))
    assert sel.mask[0, 1] and sel.mask[1, 0] and sel.target[0, 1] == 0 and sel.target[1, 0] == 0
    assert sel.mask[1, 2] and sel.mask[2, 1] and sel.target[1, 2] == 1
    assert sel.forced.sum() == 4 and not sel.mask[0, 2]


def test_loss_is_small_for_agreeing_pairs_and_pulls_disagreeing_ones() -> None:
    logits = torch.tensor([[8.0, 0.0], [8.0, 0.0], [0.0, 8.0]], requires_grad=True)
    feats = label_features(logits)
    assert torch.allclose(feats.norm(dim=1), torch.ones(3)) and (feats >= 0).all()
    s = feats @ feats.T
    sel = select_pairs(s, 0.95, 0.455)
    loss, used = pair_loss(s, sel)
    assert used == 3 and float(loss.detach()) < 0.01
    # The user says 0 and 2 belong together: the loss grows and its gradient moves 2 towards 0's cluster.
    forced = select_pairs(s, 0.95, 0.455, torch.tensor([[0, 2]]), torch.tensor([1.0]))
    loss2, _ = pair_loss(s, forced)
    assert float(loss2.detach()) > 1.0
    loss2.backward()
    assert logits.grad[2, 0] < 0 < logits.grad[2, 1], "gradient descent raises row 2's first logit"


def test_batches_hold_sampled_constraint_pairs_and_find_all_constraints_inside() -> None:
    rng = np.random.default_rng(0)
    pairs = np.array([[0, 99], [5, 6], [50, 51]])
    targets = np.array([1.0, 0.0, 1.0], dtype=np.float32)
    batch = batch_with_constraints(100, 10, pairs, rng, max_constraint_pairs=3)
    assert len(batch) == 10 and len(set(batch.tolist())) == 10
    assert set(pairs.ravel()) <= set(batch.tolist())
    local, r = constraints_in_batch(batch, pairs, targets, 100)
    assert sorted(map(tuple, batch[local].tolist())) == sorted(map(tuple, pairs.tolist()))
    assert sorted(r.tolist()) == [0.0, 1.0, 1.0]
    small = batch_with_constraints(4, 10, np.empty((0, 2), dtype=np.int64), rng, 3)
    assert sorted(small.tolist()) == [0, 1, 2, 3]


def test_constraint_agreement_counts_kept_pairs() -> None:
    labels = np.array([0, 0, 1, -1])
    assert constraint_agreement(labels, [[0, 1], [0, 2]], [[0, 2], [1, 3]]) == 0.75
    assert constraint_agreement(labels, [[3, 3]]) == 0.0, "Other joins nothing"
    assert constraint_agreement(labels) == 1.0


# -- the estimator ---------------------------------------------------------------------------------


def test_fit_is_deterministic_and_predict_reproduces_labels() -> None:
    x, _ = blobs()
    a = DACRefiner(3, random_state=0, **FAST).fit(x)
    b = DACRefiner(3, random_state=0, **FAST).fit(x)
    assert np.array_equal(a.labels_, b.labels_)
    assert np.array_equal(a.predict(x), a.labels_)
    assert sorted(np.bincount(a.labels_, minlength=3).tolist()) == [40, 40, 40]
    assert len(a.history_) == 6 and a.n_clusters_ == 3
    feats = a.transform(x[:5])
    assert feats.shape == (5, 3) and np.allclose(np.linalg.norm(feats, axis=1), 1.0, atol=1e-5)
    labels, confidence = a.predict_with_confidence(x)
    assert np.array_equal(labels, a.labels_) and ((confidence > 0) & (confidence <= 1)).all()
    assert a.training_confidence().shape == (120,)


def test_warm_start_keeps_the_init_cluster_numbers() -> None:
    x, truth = blobs()
    init = (truth + 1) % 3  # any numbering: the refined cluster c is the init's cluster c
    model = DACRefiner(None, random_state=0, **FAST).fit(x, init_labels=init)
    assert model.n_clusters_ == 3 and np.array_equal(model.labels_, init)


def test_the_curriculum_selects_pairs_and_reports_progress() -> None:
    x, _ = blobs()
    progress = RecordingProgress()
    model = DACRefiner(3, random_state=1, **FAST).fit(x, progress=progress)
    assert [name for name, _ in progress.phases] == ["warm start from the current albums", "refine with adaptive pairs"]
    assert progress.done["refine with adaptive pairs"] == 6
    assert all(r.same_pairs > 0 and r.different_pairs > 0 for r in model.history_)
    with pytest.raises(Cancelled):
        DACRefiner(3, **FAST).fit(x, progress=RecordingProgress(cancel_after=3))


def test_constraints_are_used_in_every_epoch() -> None:
    x, truth = blobs()
    ml = np.array([[0, 1], [40, 41]])
    cl = np.array([[0, 80]])
    model = DACRefiner(3, random_state=0, **FAST).fit(x, truth, ml, cl)
    assert all(r.constraint_pairs >= 3 * 2 for r in model.history_), "every batch of every epoch sees them"


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_refinement_never_decreases_agreement_with_user_constraints(seed: int) -> None:
    """The machine merged blob 2 into blob 1 for half its photos; the user corrected a few of them."""
    x, truth = blobs(n_per=50, seed=seed)
    rng = np.random.default_rng(seed)
    init = truth.copy()
    blob2 = np.flatnonzero(truth == 2)
    wrong = blob2[:25]
    init[wrong] = 1  # the machine's mistake
    corrected = wrong[:5]  # the user moved five of them back among blob 2's other photos
    right = blob2[25:]
    ml = np.array([[c, int(rng.choice(right))] for c in corrected] + [[c, d] for c, d in pairwise(corrected)])
    ones = np.flatnonzero(truth == 1)
    cl = np.array([[c, int(rng.choice(ones))] for c in corrected for _ in range(3)])
    before = constraint_agreement(init, ml, cl)
    model = DACRefiner(3, random_state=seed, **FAST).fit(x, init, ml, cl)
    after = constraint_agreement(model.labels_, ml, cl)
    assert model.constraint_agreement_ == (before, after)
    assert before < 1.0 and after >= before
    # The correction generalises: untouched photos like the corrected ones leave blob 1's cluster too.
    untouched = wrong[5:]
    assert (model.labels_[untouched] == model.labels_[right[0]]).mean() > 0.8


# -- bad input -------------------------------------------------------------------------------------


def test_one_cluster_needs_no_training() -> None:
    x, _ = blobs()
    model = DACRefiner(1, **FAST).fit(x)
    assert (model.labels_ == 0).all() and (model.predict(x[:3]) == 0).all() and model.history_ == []


def test_a_single_photo() -> None:
    x = np.ones((1, 8), dtype=np.float32)
    assert DACRefiner(1, **FAST).fit(x).labels_.tolist() == [0]
    with pytest.raises(InvalidInputError, match="larger than the number of samples"):
        DACRefiner(2, **FAST).fit(x)


def test_identical_photos_cannot_make_several_clusters() -> None:
    x = np.tile(np.linspace(0, 1, 8, dtype=np.float32), (30, 1))
    with pytest.raises(InvalidInputError, match="1 distinct points"):
        DACRefiner(2, **FAST).fit(x)
    assert (DACRefiner(1, **FAST).fit(x).labels_ == 0).all()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"X": np.zeros((0, 4))}, "empty"),
        ({"X": np.full((5, 2), np.nan)}, "NaN"),
        ({"init_labels": np.zeros(3)}, "shape"),
        ({"init_labels": np.full(120, 5)}, "beyond n_clusters"),
        ({"init_labels": np.full(120, -2)}, "−1"),
        ({"must_link": np.array([[0, 1, 2]])}, "shape"),
        ({"must_link": np.array([[0, 500]])}, "outside"),
        ({"must_link": np.array([[0.5, 1.0]])}, "integer"),
        ({"cannot_link": np.array([[3, 3]])}, "itself"),
        ({"must_link": [[1, 2]], "cannot_link": [[2, 1]]}, "both"),
    ],
)
def test_bad_input_is_refused_clearly(kwargs: dict[str, object], message: str) -> None:
    x, _ = blobs()
    args = {"X": x, **kwargs}
    with pytest.raises(InvalidInputError, match=message):
        DACRefiner(3, **FAST).fit(**args)


def test_bad_parameters_and_unfitted_use() -> None:
    x, _ = blobs()
    for k in (0, 2.5, True):
        with pytest.raises(InvalidInputError, match="n_clusters"):
            DACRefiner(k, **FAST).fit(x)
    with pytest.raises(InvalidInputError, match="init_labels"):
        DACRefiner(None, **FAST).fit(x)
    with pytest.raises(InvalidInputError, match="epochs"):
        DACRefiner(3, **{**FAST, "epochs": 0}).fit(x)
    with pytest.raises(NotFittedError):
        DACRefiner(3).predict(x)
    model = DACRefiner(3, **FAST).fit(x)
    with pytest.raises(InvalidInputError, match="features"):
        model.predict(x[:, :4])
