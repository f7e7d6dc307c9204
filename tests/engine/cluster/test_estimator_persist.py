"""Storing fitted estimators without pickle: exact round trips, strict loading, safe reading of old pickles."""

from __future__ import annotations

import copy
import inspect
import io
import json
import os
import pickle
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load as load_tensors
from safetensors.torch import save as save_tensors

from engine.cluster import CPPClusterer, persist
from engine.cluster.dac import DACRefiner
from engine.cluster.persist import StoredEstimator, dump_estimator, load_estimator, load_legacy_pickle
from engine.errors import CatalogError, InvalidInputError, NotFittedError

# Small sizes keep each fit to a second or two on a 2-core CPU (as in test_cluster_estimator / test_dac).
CPP_FAST = {"hidden_dim": 64, "z_dim": 16, "n_steps": 60, "k_max": 8, "device": "cpu"}
DAC_FAST = {"hidden_dim": 32, "batch_size": 64, "epochs": 4, "warm_epochs": 2, "device": "cpu"}

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _blobs(sizes: list[int], dim: int = 24, spread: float = 0.15, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Unit-norm Gaussian blobs and their labels."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((len(sizes), dim))
    labels = np.repeat(np.arange(len(sizes)), sizes)
    x = centres[labels] + spread * rng.standard_normal((len(labels), dim))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x.astype(np.float32), labels


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    return _blobs([50, 40, 30])


@pytest.fixture(scope="module")
def new_points() -> np.ndarray:
    return _blobs([10, 10, 10], seed=0)[0] + 0.01  # near the training blobs, not on them


@pytest.fixture(scope="module")
def cpp(data: tuple[np.ndarray, np.ndarray]) -> CPPClusterer:
    model = CPPClusterer(random_state=0, **CPP_FAST).fit(data[0])
    model.labels_for(2)  # a cached read-out besides the chosen k's, as after "fewer albums"
    return model


@pytest.fixture(scope="module")
def dac(data: tuple[np.ndarray, np.ndarray]) -> DACRefiner:
    x, truth = data
    must_link = np.array([[0, 1], [60, 61]])
    cannot_link = np.array([[0, 100]])
    return DACRefiner(3, random_state=0, **DAC_FAST).fit(
        x, init_labels=truth, must_link=must_link, cannot_link=cannot_link
    )


def _params(model: object, spec: dict) -> dict:
    return {key: getattr(model, key) for key in spec}


def _assert_same_predictions(a: object, b: object, x: np.ndarray) -> None:
    np.testing.assert_array_equal(a.predict(x), b.predict(x))
    for got, want in zip(a.predict_with_confidence(x), b.predict_with_confidence(x), strict=True):
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(a.training_confidence(), b.training_confidence())
    np.testing.assert_array_equal(a.transform(x), b.transform(x))
    np.testing.assert_array_equal(a.labels_, b.labels_)
    assert a.n_clusters_ == b.n_clusters_


# -- round trips -----------------------------------------------------------------------------------


def test_cpp_round_trip_predicts_exactly_the_same(cpp: CPPClusterer, data: tuple, new_points: np.ndarray) -> None:
    loaded = load_estimator(dump_estimator(cpp))
    assert type(loaded) is CPPClusterer and loaded.device_ == "cpu"
    assert _params(loaded, persist._CPP_PARAMS) == _params(cpp, persist._CPP_PARAMS)
    assert set(vars(loaded)) == set(vars(cpp)) - {"_sklearn_version"}  # no fitted attribute forgotten
    assert loaded.coding_lengths_ == cpp.coding_lengths_
    assert loaded.config_ == cpp.config_ and loaded._seeds == cpp._seeds
    assert list(loaded._readouts) == list(cpp._readouts)
    _assert_same_predictions(loaded, cpp, np.concatenate([data[0], new_points]))
    assert not loaded.head_.training  # eval mode: BatchNorm uses its running statistics


def test_cpp_labels_for_and_use_k_agree_for_every_k(cpp: CPPClusterer, data: tuple) -> None:
    loaded = load_estimator(dump_estimator(cpp))
    for k in sorted(cpp.coding_lengths_):  # cached read-outs and ones computed afresh on both sides
        np.testing.assert_array_equal(loaded.labels_for(k), cpp.labels_for(k))
    original = copy.deepcopy(cpp)
    for k in (2, 5, original.n_clusters_):
        np.testing.assert_array_equal(loaded.use_k(k), original.use_k(k))
        _assert_same_predictions(loaded, original, data[0])


def test_a_switched_k_is_stored_and_stays_switched(cpp: CPPClusterer, data: tuple) -> None:
    switched = copy.deepcopy(cpp)
    switched.use_k(4)
    loaded = load_estimator(dump_estimator(switched))
    assert loaded.n_clusters_ == 4
    _assert_same_predictions(loaded, switched, data[0])


def test_dac_round_trip_predicts_exactly_the_same(dac: DACRefiner, data: tuple, new_points: np.ndarray) -> None:
    loaded = load_estimator(dump_estimator(dac))
    assert type(loaded) is DACRefiner and loaded.device_ == "cpu"
    assert _params(loaded, persist._DAC_PARAMS) == _params(dac, persist._DAC_PARAMS)
    assert set(vars(loaded)) == set(vars(dac)) - {"_sklearn_version"}
    assert loaded.history_ == dac.history_ and len(loaded.history_) == 4
    assert loaded.schedule_ == dac.schedule_ and loaded.constraint_agreement_ == dac.constraint_agreement_
    _assert_same_predictions(loaded, dac, np.concatenate([data[0], new_points]))
    assert not loaded.head_.training


def test_storing_again_gives_the_same_bytes(cpp: CPPClusterer, dac: DACRefiner) -> None:
    for model in (cpp, dac):
        stored = dump_estimator(model)
        assert dump_estimator(load_estimator(stored)) == stored


def test_a_model_fitted_on_another_device_loads_on_the_cpu(dac: DACRefiner, data: tuple) -> None:
    moved = copy.deepcopy(dac)
    moved.device_ = "cuda"  # as fitted on a GPU; the weights are on the CPU here, as after map_location
    loaded = load_estimator(dump_estimator(moved))
    assert loaded.device_ == "cpu" and all(p.device.type == "cpu" for p in loaded.head_.parameters())
    np.testing.assert_array_equal(loaded.predict(data[0]), dac.predict(data[0]))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")
def test_a_model_fitted_on_a_gpu_loads_and_predicts_on_the_cpu(data: tuple) -> None:
    x = data[0]
    for model in (
        CPPClusterer(random_state=0, **{**CPP_FAST, "device": "cuda"}).fit(x),
        DACRefiner(3, random_state=0, **{**DAC_FAST, "device": "cuda"}).fit(x, init_labels=data[1]),
    ):
        loaded = load_estimator(dump_estimator(model))
        assert loaded.device_ == "cpu" and all(p.device.type == "cpu" for p in loaded.head_.parameters())
        np.testing.assert_array_equal(loaded.labels_, model.labels_)
        assert (loaded.predict(x) == model.predict(x)).mean() > 0.98  # CPU and GPU kernels round differently
        np.testing.assert_allclose(loaded.transform(x), model.transform(x), atol=1e-4)


# -- the stored form ---------------------------------------------------------------------------------


def _plain_json(value: object) -> bool:
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain_json(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_plain_json(v) for v in value)
    return value is None or isinstance(value, str | int | float | bool)


def _strict_json(text: str) -> object:
    def refuse(name: str) -> None:
        raise ValueError(name)

    return json.loads(text, parse_constant=refuse)


@pytest.mark.parametrize("which", ["cpp", "dac"])
def test_the_stored_form_is_json_and_safetensors_not_pickle(which: str, request: pytest.FixtureRequest) -> None:
    stored = dump_estimator(request.getfixturevalue(which))
    assert isinstance(stored.tensors, bytes) and isinstance(stored.description, str)
    description = _strict_json(stored.description)
    assert _plain_json(description)
    assert description["format"] == persist.FORMAT and description["version"] == persist.VERSION
    assert description["class"] == {"cpp": "CPPClusterer", "dac": "DACRefiner"}[which]
    tensors = load_tensors(stored.tensors)
    assert all(isinstance(t, torch.Tensor) and t.device.type == "cpu" for t in tensors.values())
    assert any(name.startswith("head_.") for name in tensors) and "labels_" in tensors
    for blob in (stored.tensors, stored.description.encode()):
        assert not blob.startswith((b"\x80", b"PK"))  # neither a pickle nor a torch.save zip
        with pytest.raises(Exception):  # noqa: B017 - any refusal will do
            pickle.loads(blob)


def test_persist_knows_every_constructor_parameter() -> None:
    for cls, spec in ((CPPClusterer, persist._CPP_PARAMS), (DACRefiner, persist._DAC_PARAMS)):
        assert set(inspect.signature(cls.__init__).parameters) - {"self"} == set(spec)


def test_what_cannot_be_stored_is_refused(dac: DACRefiner) -> None:
    with_encoder = copy.copy(dac)
    with_encoder.encoder = torch.nn.Identity()
    with pytest.raises(InvalidInputError, match="encoder"):
        dump_estimator(with_encoder)
    with pytest.raises(NotFittedError):
        dump_estimator(CPPClusterer())
    with pytest.raises(InvalidInputError, match="only CPPClusterer and DACRefiner"):
        dump_estimator(object())


# -- malformed stored forms ----------------------------------------------------------------------------


def _edit_description(stored: StoredEstimator, edit: Callable[[dict], object]) -> StoredEstimator:
    description = json.loads(stored.description)
    edit(description)
    return StoredEstimator(stored.tensors, json.dumps(description))


def _edit_tensors(stored: StoredEstimator, edit: Callable[[dict], object]) -> StoredEstimator:
    tensors = load_tensors(stored.tensors)
    edit(tensors)
    return StoredEstimator(save_tensors(tensors), stored.description)


DESCRIPTION_EDITS = {
    "unknown class": (lambda d: d.update({"class": "os.system"}), "unknown model class"),
    "class not a string": (lambda d: d.update({"class": ["CPPClusterer"]}), "unknown model class"),
    "newer version": (lambda d: d.update({"version": 99}), "newer PhotoAtlas"),
    "unknown version": (lambda d: d.update({"version": "1"}), "unknown format version"),
    "other format": (lambda d: d.update({"format": "pickle"}), "not a PhotoAtlas model"),
    "unknown parameter": (lambda d: d["params"].update({"__class__": "x"}), "unknown parameter"),
    "parameter of the wrong type": (lambda d: d["params"].update({"random_state": "0"}), "wrong type"),
    "an encoder": (lambda d: d["params"].update({"encoder": "clip"}), "wrong type|unknown parameter"),
    "bool for an int": (lambda d: d["params"].update({"n_clusters": True}), "wrong type"),
    "missing fitted value": (lambda d: d["fitted"].pop("n_clusters_"), "'n_clusters_' is missing"),
    "negative size": (lambda d: d["modules"]["head_"].update({"hidden_dim": -1}), "outside"),
    "huge size": (lambda d: d["modules"]["head_"].update({"hidden_dim": 10**12}), "outside"),
    "other head size": (lambda d: d["modules"]["head_"].update({"hidden_dim": 7}), "do not fit its layers"),
    "other head type": (lambda d: d["modules"]["head_"].update({"type": "Sequential"}), "not a"),
}


@pytest.mark.parametrize("which", ["cpp", "dac"])
@pytest.mark.parametrize("case", sorted(DESCRIPTION_EDITS))
def test_a_crafted_description_is_refused(which: str, case: str, request: pytest.FixtureRequest) -> None:
    edit, message = DESCRIPTION_EDITS[case]
    stored = _edit_description(dump_estimator(request.getfixturevalue(which)), edit)
    with pytest.raises(CatalogError, match=message):
        load_estimator(stored)


def test_crafted_cpp_details_are_refused(cpp: CPPClusterer) -> None:
    stored = dump_estimator(cpp)
    cases = [
        (_edit_description(stored, lambda d: d["fitted"].update({"readouts": [[2, 8], [2, 8]]})), "two read-outs"),
        (_edit_description(stored, lambda d: d["fitted"].update({"curve_ks": [1, 1]})), "distinct"),
        (_edit_description(stored, lambda d: d["fitted"]["config_"].update({"lr": None})), "wrong type"),
        (_edit_description(stored, lambda d: d["fitted"]["config_"].update({"os": 1})), "unknown fields"),
        (_edit_tensors(stored, lambda t: t["sample"].__setitem__(0, 10**6)), "outside"),
    ]
    for crafted, message in cases:
        with pytest.raises(CatalogError, match=message):
            load_estimator(crafted)


TENSOR_EDITS = {
    "missing array": (lambda t: t.pop("labels_"), "'labels_' is missing"),
    "missing weight": (
        lambda t: t.pop("head_.trunk.0.weight" if "head_.trunk.0.weight" in t else "head_.0.weight"),
        "do not fit",
    ),
    "extra array": (lambda t: t.update({"payload": torch.zeros(3)}), "unexpected arrays"),
    "wrong dtype": (lambda t: t.update({"labels_": t["labels_"].double()}), "'labels_' is float64"),
    "wrong shape": (lambda t: t.update({"labels_": t["labels_"][:-1]}), r"is \w+ \(\d+,\), not"),
    "half weights": (lambda t: t.update({k: v.half() for k, v in t.items() if k.endswith(".bias")}), "do not fit"),
}


@pytest.mark.parametrize("which", ["cpp", "dac"])
@pytest.mark.parametrize("case", sorted(TENSOR_EDITS))
def test_crafted_arrays_are_refused(which: str, case: str, request: pytest.FixtureRequest) -> None:
    edit, message = TENSOR_EDITS[case]
    stored = _edit_tensors(dump_estimator(request.getfixturevalue(which)), edit)
    with pytest.raises(CatalogError, match=message):
        load_estimator(stored)


@pytest.mark.parametrize(
    "stored",
    [
        StoredEstimator(b"not safetensors", "{}"),
        StoredEstimator(b"", "not json"),
        StoredEstimator(b"", '{"format": NaN}'),
        StoredEstimator(b"", "[1, 2]"),
        StoredEstimator(b"", "[" * 100_000),
        StoredEstimator("text", "{}"),  # type: ignore[arg-type]
        b"raw bytes",
    ],
)
def test_garbage_is_refused(stored: object) -> None:
    with pytest.raises(CatalogError):
        load_estimator(stored)  # type: ignore[arg-type]


def test_garbage_arrays_are_refused(cpp: CPPClusterer) -> None:
    description = dump_estimator(cpp).description
    for blob in (b"", b"\x00" * 16, pickle.dumps({"labels_": np.zeros(3)})):
        with pytest.raises(CatalogError, match="safetensors"):
            load_estimator(StoredEstimator(blob, description))


# -- pickles of earlier releases -------------------------------------------------------------------------


def _torch_save(obj: object) -> bytes:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("which", ["cpp", "dac"])
def test_a_legacy_pickle_converts_with_the_same_predictions(
    which: str, request: pytest.FixtureRequest, data: tuple, new_points: np.ndarray
) -> None:
    model = request.getfixturevalue(which)
    loaded = load_legacy_pickle(_torch_save(model))
    assert type(loaded) is type(model) and loaded.device_ == "cpu"
    _assert_same_predictions(loaded, model, np.concatenate([data[0], new_points]))
    if which == "cpp":
        assert loaded.coding_lengths_ == model.coding_lengths_
        np.testing.assert_array_equal(loaded.labels_for(2), model.labels_for(2))
    assert dump_estimator(loaded) == dump_estimator(model)


def test_a_legacy_pickle_written_under_numpy_1_loads(dac: DACRefiner, data: tuple) -> None:
    # numpy 1.x named its array rebuilder numpy.core.multiarray._reconstruct; rename it in the pickle.
    source = zipfile.ZipFile(io.BytesIO(_torch_save(dac)))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as target:
        for info in source.infolist():
            content = source.read(info)
            if info.filename.endswith("data.pkl"):
                assert b"numpy._core.multiarray" in content
                content = content.replace(b"numpy._core.multiarray", b"numpy.core.multiarray")
            target.writestr(info.filename, content)
    loaded = load_legacy_pickle(out.getvalue())
    np.testing.assert_array_equal(loaded.predict(data[0]), dac.predict(data[0]))


def _make_marker(path: str) -> None:
    """What a crafted pickle would run: here only a marker file, to see whether it ran."""
    Path(path).write_text("code ran")


class _RunsShell:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple:
        return (os.system, (f"touch {self.marker}",))


class _RunsFunction(_RunsShell):
    def __reduce__(self) -> tuple:
        return (_make_marker, (str(self.marker),))


@pytest.mark.parametrize("payload", [_RunsShell, _RunsFunction])
def test_a_crafted_pickle_is_refused_without_running_code(payload: type, cpp: CPPClusterer, tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    inside = copy.copy(cpp)  # an allowed class on the outside, the payload deep inside its state
    inside._seeds = [payload(marker)]
    blobs = [_torch_save(payload(marker)), _torch_save(inside), pickle.dumps(payload(marker), protocol=2)]
    for blob in blobs:
        with pytest.raises(CatalogError):
            load_legacy_pickle(blob)
        assert not marker.exists()
    _make_marker(str(marker))  # the payload does work when it is run
    assert marker.exists()


def test_legacy_pickles_of_other_things_are_refused(cpp: CPPClusterer) -> None:
    for obj in ({"labels_": np.zeros(3)}, torch.zeros(3), [cpp]):
        with pytest.raises(CatalogError):
            load_legacy_pickle(_torch_save(obj))
    broken = copy.copy(cpp)
    del broken.head_
    with pytest.raises(CatalogError, match="incomplete"):
        load_legacy_pickle(_torch_save(broken))
    for blob in (b"", b"garbage", _torch_save(cpp)[:-100]):
        with pytest.raises(CatalogError):
            load_legacy_pickle(blob)
