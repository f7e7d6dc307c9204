"""Fitted estimators as data: arrays in a safetensors blob, everything else in JSON; never a pickle.

A catalog may come from someone else, so opening it must not run code. `dump_estimator` writes a fitted
`CPPClusterer`, or a `DACRefiner` without encoder, as plain numbers and arrays; `load_estimator` rebuilds it
with explicit per-class code that checks every name, type and shape. `load_legacy_pickle` reads the
`torch.save` pickles of earlier releases through torch's weights-only unpickler, allowing exactly the
classes those pickles name.
"""

from __future__ import annotations

import io
import json
from collections.abc import Collection
from dataclasses import MISSING, dataclass, fields
from typing import Any

import numpy as np

from engine.errors import CatalogError, InvalidInputError, NotFittedError

FORMAT = "photoatlas.estimator"
VERSION = 1

_NONE = type(None)
_INT: tuple[type, ...] = (int,)
_NUM: tuple[type, ...] = (int, float)
_OPT_INT: tuple[type, ...] = (int, _NONE)
_OPT_NUM: tuple[type, ...] = (int, float, _NONE)

# Constructor parameters and the JSON types each may hold, checked by exact type (so a bool is no int).
_CPP_PARAMS: dict[str, tuple[type, ...]] = {
    "n_clusters": _OPT_INT,
    "random_state": _OPT_INT,
    "device": (str,),
    "k_max": _INT,
    "eta": _NUM,
    "hidden_dim": _OPT_INT,
    "z_dim": _OPT_INT,
    "batch_size": _OPT_INT,
    "n_steps": _OPT_INT,
    "warmup_steps": _OPT_INT,
    "lr": _OPT_NUM,
    "sinkhorn_iters": _INT,
    "max_sample": _INT,
    "n_neighbors": _OPT_INT,
    "n_seeds": _INT,
    "min_cluster_size": _INT,
    "subspace_rank": _INT,
}
_DAC_PARAMS: dict[str, tuple[type, ...]] = {
    "n_clusters": _OPT_INT,
    "random_state": _OPT_INT,
    "device": (str,),
    "hidden_dim": _OPT_INT,
    "batch_size": _OPT_INT,
    "epochs": _OPT_INT,
    "warm_epochs": _INT,
    "lr": _NUM,
    "constraint_weight": _NUM,
    "constraint_pairs_per_batch": _INT,
    "encoder": (_NONE,),  # a refiner with an encoder (a piece of CLIP) is never stored
    "encoder_lr": _NUM,
}
# Field annotations of the stored dataclasses (strings, under `from __future__ import annotations`).
_FIELD_TYPES: dict[str, tuple[type, ...]] = {"int": _INT, "float": _NUM, "int | None": _OPT_INT}
_ARRAY_DTYPES = ("float32", "float64", "int32", "int64")


@dataclass(frozen=True)
class StoredEstimator:
    """A fitted estimator as data.

    Attributes:
        tensors: safetensors blob of every array of the fitted state, on the CPU.
        description: JSON: format version, class, constructor parameters, fitted scalars, module sizes.
    """

    tensors: bytes
    description: str


def _damaged(detail: str) -> CatalogError:
    return CatalogError(f"the stored clustering model cannot be read ({detail}); re-cluster to replace it")


# ------------------------------------------------------------------------------------------------ dump
def dump_estimator(estimator: Any) -> StoredEstimator:
    """A fitted `CPPClusterer` or `DACRefiner` (without encoder) as a `StoredEstimator`.

    Raises:
        InvalidInputError: another class, a refiner with an encoder, or state that cannot be stored.
        NotFittedError: the estimator is not fitted.
    """
    from safetensors.torch import save

    from engine.cluster.estimator import CPPClusterer

    if isinstance(estimator, CPPClusterer):  # SklearnCPPClusterer too
        name, spec, dump = "CPPClusterer", _CPP_PARAMS, _dump_cpp
    elif type(estimator) is _dac_refiner():
        if estimator.encoder is not None:
            raise InvalidInputError("a DACRefiner with an encoder cannot be stored: store a head fitted on features")
        name, spec, dump = "DACRefiner", _DAC_PARAMS, _dump_dac
    else:
        raise InvalidInputError(f"cannot store a {type(estimator).__name__}: only CPPClusterer and DACRefiner")
    if not hasattr(estimator, "labels_"):
        raise NotFittedError(f"{name} is not fitted yet: there is nothing to store")
    arrays: dict[str, Any] = {}
    fitted, modules = dump(estimator, arrays)
    params = {key: _plain(getattr(estimator, key), types, key) for key, types in spec.items()}
    description = {"format": FORMAT, "version": VERSION, "class": name, "params": params}
    description |= {"fitted": fitted, "modules": modules}
    return StoredEstimator(save(arrays), json.dumps(description, allow_nan=False))


def _plain(value: Any, types: tuple[type, ...], what: str) -> Any:
    """`value` as a JSON scalar of one of `types` (numpy scalars become Python ones), or InvalidInputError."""
    if isinstance(value, np.generic):
        value = value.item()
    if type(value) not in types or (type(value) is float and not np.isfinite(value)):
        raise InvalidInputError(f"cannot store {what}={value!r}")
    return value


def _put(arrays: dict[str, Any], name: str, value: Any) -> None:
    import torch

    arr = np.asarray(value)
    if arr.dtype.name not in _ARRAY_DTYPES:
        raise InvalidInputError(f"cannot store {name}: arrays of {arr.dtype} are not stored")
    arrays[name] = torch.from_numpy(np.array(arr, order="C"))  # a copy: safetensors refuses shared memory


def _put_module(arrays: dict[str, Any], name: str, module: Any) -> None:
    import torch

    for key, tensor in module.state_dict().items():
        arrays[f"{name}.{key}"] = tensor.detach().cpu().clone(memory_format=torch.contiguous_format)


def _dataclass_json(obj: Any) -> dict[str, Any]:
    out = {}
    for f in fields(obj):
        types = _FIELD_TYPES.get(f.type if isinstance(f.type, str) else f.type.__name__)
        if types is None:
            raise InvalidInputError(f"cannot store {type(obj).__name__}.{f.name} of type {f.type}")
        out[f.name] = _plain(getattr(obj, f.name), types, f"{type(obj).__name__}.{f.name}")
    return out


def _dump_cpp(est: Any, arrays: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    from engine.cluster.mlc_head import MLCHead

    head = est.head_
    if type(head) is not MLCHead:
        raise InvalidInputError(f"cannot store a CPPClusterer whose head is a {type(head).__name__}")
    arch = {"type": "MLCHead", "in_dim": head.trunk[0].in_features, "hidden_dim": head.trunk[0].out_features}
    arch["z_dim"] = head.feature_head.out_features
    _put_module(arrays, "head_", head)
    _put(arrays, "z_train", est._z_train)
    _put(arrays, "sample", est._sample)
    _put(arrays, "embedding.vectors", est._embedding_.vectors)
    _put(arrays, "embedding.components", est._embedding_.components)
    curve_ks = [_plain(k, _INT, "k") for k in est._curve.lengths]
    _put(arrays, "curve.lengths", np.array([est._curve.lengths[k] for k in curve_ks], dtype=np.float64))
    for k in curve_ks:
        _put(arrays, f"curve.labels.{k}", est._curve.labels[k])
    readouts = []
    for k, readout in est._readouts.items():
        readouts.append([_plain(k, _INT, "k"), _plain(readout.assigner.rank, _INT, "subspace rank")])
        _put(arrays, f"readout.{k}.classes", readout.assigner.classes_)
        _put(arrays, f"readout.{k}.bases", readout.assigner.bases_)
        _put(arrays, f"readout.{k}.mapping", readout.mapping)
        _put(arrays, f"readout.{k}.labels", readout.labels)
    length_ks = [_plain(k, _INT, "k") for k in est.coding_lengths_]
    _put(arrays, "coding_lengths", np.array([est.coding_lengths_[k] for k in length_ks], dtype=np.float64))
    _put(arrays, "labels_", est.labels_)
    fitted = {
        "n_features_in_": _plain(est.n_features_in_, _INT, "n_features_in_"),
        "config_": _dataclass_json(est.config_),
        "embedding_n_components": _plain(est._embedding_.n_components, _INT, "n_components"),
        "seeds": [_plain(seed, _INT, "seed") for seed in est._seeds],
        "curve_ks": curve_ks,
        "readouts": readouts,  # [k, rank] in cache order
        "coding_lengths_ks": length_ks,
        "n_clusters_": _plain(est.n_clusters_, _INT, "n_clusters_"),
        # [k, [cluster ids]]: the diffuse clusters of each partition on the curve (§3.7); estimators pickled by
        # releases before they were judged have none
        "incoherent": [
            [k, [_plain(c, _INT, "cluster id") for c in ids]] for k, ids in getattr(est, "_incoherent", {}).items()
        ],
        # [k, albums]: how many albums each k on the curve makes (`album_counts_`); none before they were kept
        "album_counts": [
            [_plain(k, _INT, "k"), _plain(n, _INT, "album count")] for k, n in getattr(est, "album_counts_", {}).items()
        ],
    }
    return fitted, {"head_": arch}


def _dump_dac(est: Any, arrays: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    from torch import nn

    head = est.head_
    layers = [type(layer) for layer in head] if type(head) is nn.Sequential else None
    if layers != [nn.Linear, nn.BatchNorm1d, nn.ReLU, nn.Linear]:
        raise InvalidInputError("cannot store a DACRefiner whose head is not the standard head")
    arch = {"type": "DACHead", "in_dim": head[0].in_features, "hidden_dim": head[0].out_features}
    arch["k"] = head[3].out_features
    _put_module(arrays, "head_", head)
    history = est.history_
    values = [[r.lam, r.upper, r.lower, r.loss] for r in history]
    _put(arrays, "history.values", np.array(values, dtype=np.float64).reshape(len(history), 4))
    pairs = [[r.same_pairs, r.different_pairs, r.constraint_pairs] for r in history]
    _put(arrays, "history.pairs", np.array(pairs, dtype=np.int64).reshape(len(history), 3))
    _put(arrays, "constraint_agreement", np.array(est.constraint_agreement_, dtype=np.float64).reshape(2))
    _put(arrays, "labels_", est.labels_)
    _put(arrays, "train_confidence", est._train_confidence)
    fitted = {
        "n_clusters_": _plain(est.n_clusters_, _INT, "n_clusters_"),
        "n_features_in_": _plain(est.n_features_in_, _INT, "n_features_in_"),
        "schedule_": _dataclass_json(est.schedule_),
    }
    return fitted, {"head_": arch}


# ------------------------------------------------------------------------------------------------ load
def load_estimator(stored: StoredEstimator) -> Any:
    """The estimator `dump_estimator` stored, rebuilt from data alone (no code from the catalog runs).

    It lives on the CPU (`device_` is "cpu") whatever device it was fitted on.

    Raises:
        CatalogError: the stored form is malformed, of another format or version, or of an unknown class.
    """
    description = _description(stored)
    loaders = {"CPPClusterer": _load_cpp, "DACRefiner": _load_dac}
    name = description.get("class")
    if type(name) is not str or name not in loaders:
        raise _damaged(f"unknown model class {name!r}")
    arrays = _Arrays(_tensors(stored.tensors))
    try:
        estimator = loaders[name](description, arrays)
        arrays.check_all_taken()
    except CatalogError:
        raise
    except Exception as exc:  # whatever else malformed data trips over must read as a damaged catalog
        raise _damaged(f"{type(exc).__name__}: {exc}") from exc
    return estimator


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _description(stored: Any) -> dict[str, Any]:
    if not isinstance(stored, StoredEstimator) or type(stored.description) is not str:
        raise _damaged("not a stored model")
    try:
        data = json.loads(stored.description, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        raise _damaged("its description is not JSON") from exc
    if type(data) is not dict or data.get("format") != FORMAT:
        raise _damaged("not a PhotoAtlas model description")
    version = data.get("version")
    if type(version) is int and version > VERSION:
        raise CatalogError(f"the stored clustering model is from a newer PhotoAtlas (format {version}): update it")
    if version != VERSION:
        raise _damaged(f"unknown format version {version!r}")
    return data


def _tensors(blob: Any) -> dict[str, Any]:
    from safetensors.torch import load

    if type(blob) is not bytes:
        raise _damaged("its arrays are not bytes")
    try:
        return load(blob)
    except Exception as exc:  # safetensors' own error type; the blob is only data
        raise _damaged("its arrays are not a safetensors blob") from exc


class _Arrays:
    """The tensors of a stored estimator, handed out by name with their kind and shape checked."""

    def __init__(self, tensors: dict[str, Any]) -> None:
        self._tensors = tensors
        self._taken: set[str] = set()

    def take(
        self, name: str, kind: str, shape: tuple[int | None, ...], low: int | None = None, high: int = 0
    ) -> np.ndarray:
        """Array `name` of dtype kind "f" or "i" and `shape` (None: any size); integers in [low, high)."""
        tensor = self._tensors.get(name)
        if tensor is None:
            raise _damaged(f"array {name!r} is missing")
        self._taken.add(name)
        if str(tensor.dtype).removeprefix("torch.") not in _ARRAY_DTYPES:
            raise _damaged(f"array {name!r} has type {tensor.dtype}")
        arr = tensor.numpy()
        wrong = len(arr.shape) != len(shape) or any(
            w is not None and g != w for g, w in zip(arr.shape, shape, strict=True)
        )
        if arr.dtype.kind != kind or wrong:
            raise _damaged(f"array {name!r} is {arr.dtype} {arr.shape}, not {kind} {shape}")
        if low is not None and arr.size and (arr.min() < low or arr.max() >= high):
            raise _damaged(f"array {name!r} holds values outside {low}…{high - 1}")
        return arr

    def module_state(self, prefix: str) -> dict[str, Any]:
        names = [name for name in self._tensors if name.startswith(prefix + ".")]
        self._taken.update(names)
        return {name[len(prefix) + 1 :]: self._tensors[name] for name in names}

    def check_all_taken(self) -> None:
        extra = sorted(set(self._tensors) - self._taken)
        if extra:
            raise _damaged(f"unexpected arrays {extra[:3]}")


def _field(section: Any, key: str, types: tuple[type, ...]) -> Any:
    if type(section) is not dict or key not in section:
        raise _damaged(f"{key!r} is missing")
    if type(section[key]) not in types:
        raise _damaged(f"{key!r} has the wrong type")
    return section[key]


def _size(section: Any, key: str) -> int:
    value = _field(section, key, _INT)
    if not 1 <= value < 2**31:  # a layer of 2³¹ units would not fit in memory anyway
        raise _damaged(f"{key!r} is {value}, outside 1…2³¹")
    return value


def _ks(values: Any, what: str) -> list[int]:
    if type(values) is not list or any(type(k) is not int or k < 1 for k in values) or len(set(values)) < len(values):
        raise _damaged(f"{what} is not a list of distinct numbers of clusters")
    return values


def _params(description: dict[str, Any], spec: dict[str, tuple[type, ...]]) -> dict[str, Any]:
    params = _field(description, "params", (dict,))
    unknown = sorted(set(params) - set(spec))
    if unknown:
        raise _damaged(f"unknown parameter {unknown[0]!r}")
    # A parameter missing from an older description takes its constructor default.
    return {key: _field(params, key, types) for key, types in spec.items() if key in params}


def _dataclass_from_json(cls: type, section: Any) -> Any:
    values = {}
    for f in fields(cls):
        if type(section) is dict and f.name not in section and f.default is not MISSING:
            continue
        values[f.name] = _field(section, f.name, _FIELD_TYPES[f.type if isinstance(f.type, str) else f.type.__name__])
    if set(section) - set(values):
        raise _damaged(f"unknown fields in {cls.__name__}")
    return cls(**values)


def _module(build: Any, state: dict[str, Any], name: str) -> Any:
    """The module `build()` makes, with `state` as its weights (built on the meta device: no init cost)."""
    import torch

    with torch.device("meta"):
        module = build()
    reference = module.state_dict()
    if set(state) != set(reference) or any(
        state[key].dtype != ref.dtype or state[key].shape != ref.shape for key, ref in reference.items()
    ):
        raise _damaged(f"the weights of {name} do not fit its layers")
    module.load_state_dict(state, strict=True, assign=True)
    return module.eval()


def _load_cpp(description: dict[str, Any], arrays: _Arrays) -> Any:
    from engine.cluster.assign import SubspaceAssigner
    from engine.cluster.choose_k import KCurve
    from engine.cluster.estimator import CPPClusterer, _Readout
    from engine.cluster.mlc_head import MLCHead, TrainConfig
    from engine.cluster.spectral import SpectralEmbedding

    est = CPPClusterer(**_params(description, _CPP_PARAMS))
    fitted = _field(description, "fitted", (dict,))
    arch = _field(_field(description, "modules", (dict,)), "head_", (dict,))
    if arch.get("type") != "MLCHead":
        raise _damaged("the head is not an MLC head")
    dim, hidden, z_dim = (_size(arch, key) for key in ("in_dim", "hidden_dim", "z_dim"))
    est.device_ = "cpu"
    est.config_ = _dataclass_from_json(TrainConfig, _field(fitted, "config_", (dict,)))
    est.head_ = _module(lambda: MLCHead(dim, hidden, z_dim), arrays.module_state("head_"), "head_")
    est.n_features_in_ = _size(fitted, "n_features_in_")
    if est.n_features_in_ != dim:
        raise _damaged("the head does not take the stored number of features")
    est._z_train = arrays.take("z_train", "f", (None, z_dim))
    n = len(est._z_train)
    est._sample = arrays.take("sample", "i", (None,), 0, n)
    m = len(est._sample)
    vectors = arrays.take("embedding.vectors", "f", (m, None))
    components = arrays.take("embedding.components", "i", (m,), 0, m)
    est._embedding_ = SpectralEmbedding(vectors, components, _size(fitted, "embedding_n_components"))
    est._seeds = _field(fitted, "seeds", (list,))
    if not est._seeds or any(type(seed) is not int for seed in est._seeds):
        raise _damaged("the k-means seeds are not integers")
    est._readouts = {}
    for entry in _field(fitted, "readouts", (list,)):
        if type(entry) is not list or len(entry) != 2 or any(type(v) is not int or v < 1 for v in entry):
            raise _damaged("a read-out is not a [k, rank] pair")
        k, rank = entry
        if k in est._readouts:
            raise _damaged(f"two read-outs for k={k}")
        assigner = SubspaceAssigner(rank)
        assigner.classes_ = arrays.take(f"readout.{k}.classes", "i", (None,), 0, k)
        assigner.bases_ = arrays.take(f"readout.{k}.bases", "f", (len(assigner.classes_), z_dim, rank))
        if not len(assigner.classes_):
            raise _damaged(f"the read-out for k={k} has no clusters")
        mapping = arrays.take(f"readout.{k}.mapping", "i", (k,), -1, k)
        est._readouts[k] = _Readout(assigner, mapping, arrays.take(f"readout.{k}.labels", "i", (n,), -1, k))
    curve_ks = _ks(_field(fitted, "curve_ks", (list,)), "the coding-length curve")
    lengths = arrays.take("curve.lengths", "f", (len(curve_ks),))
    labels = {k: arrays.take(f"curve.labels.{k}", "i", (m,), 0, k) for k in curve_ks}
    est._curve = KCurve(lengths={k: float(v) for k, v in zip(curve_ks, lengths, strict=True)}, labels=labels)
    length_ks = _ks(_field(fitted, "coding_lengths_ks", (list,)), "the coding lengths")
    values = arrays.take("coding_lengths", "f", (len(length_ks),))
    est.coding_lengths_ = {k: float(v) for k, v in zip(length_ks, values, strict=True)}
    est.n_clusters_ = _size(fitted, "n_clusters_")
    est.labels_ = arrays.take("labels_", "i", (n,), -1, est.n_clusters_)
    est._incoherent = _incoherent(fitted.get("incoherent", []), labels)
    est.album_counts_ = _album_counts(fitted.get("album_counts", []), labels)
    return est


def _album_counts(entries: Any, curve_ks: Collection[int]) -> dict[int, int]:
    """The stored album count of each k on the curve; models stored before they were kept have none."""
    if type(entries) is not list:
        raise _damaged("the album counts are not a list")
    counts: dict[int, int] = {}
    for entry in entries:
        if type(entry) is not list or len(entry) != 2 or any(type(v) is not int for v in entry):
            raise _damaged("an album count is not a [k, count] pair")
        k, count = entry
        if k not in curve_ks or k in counts or not 1 <= count <= k:
            raise _damaged(f"the album count for k={k} does not fit the curve")
        counts[k] = count
    return counts


def stored_album_counts(description: str) -> dict[int, int]:
    """{k: albums} from a stored estimator's JSON description alone (no tensors are read): what "fewer" and
    "more albums" compare. Empty for a refiner, a model stored before album counts, or a description that cannot
    be read (the caller then takes k albums for each k)."""
    try:
        fitted = json.loads(description)["fitted"]
        return _album_counts(fitted.get("album_counts", []), set(fitted["curve_ks"]))
    except (ValueError, TypeError, KeyError, AttributeError, CatalogError):
        return {}


def _incoherent(entries: Any, labels: dict[int, np.ndarray]) -> dict[int, list[int]]:
    """The stored diffuse clusters per k; models stored before they were judged have none."""
    if type(entries) is not list:
        raise _damaged("the diffuse clusters are not a list")
    found: dict[int, list[int]] = {}
    for entry in entries:
        if type(entry) is not list or len(entry) != 2 or type(entry[0]) is not int or type(entry[1]) is not list:
            raise _damaged("a diffuse-cluster entry is not a [k, [ids]] pair")
        k, ids = entry
        if k not in labels or k in found or any(type(c) is not int or not 0 <= c < k for c in ids):
            raise _damaged(f"the diffuse clusters for k={k} do not fit the curve")
        found[k] = ids
    return found


def _load_dac(description: dict[str, Any], arrays: _Arrays) -> Any:
    from engine.cluster.dac import DACRefiner, EpochRecord, _head
    from engine.cluster.dac_pairs import ThresholdSchedule

    est = DACRefiner(**_params(description, _DAC_PARAMS))
    fitted = _field(description, "fitted", (dict,))
    arch = _field(_field(description, "modules", (dict,)), "head_", (dict,))
    if arch.get("type") != "DACHead":
        raise _damaged("the head is not a DAC head")
    dim, hidden, k = (_size(arch, key) for key in ("in_dim", "hidden_dim", "k"))
    est.device_ = "cpu"
    est.schedule_ = _dataclass_from_json(ThresholdSchedule, _field(fitted, "schedule_", (dict,)))
    est.n_clusters_ = _size(fitted, "n_clusters_")
    if est.n_clusters_ != k:
        raise _damaged("the head does not have one output per cluster")
    values = arrays.take("history.values", "f", (None, 4))
    pairs = arrays.take("history.pairs", "i", (len(values), 3))
    est.history_ = [
        EpochRecord(float(lam), float(up), float(low), int(same), int(diff), int(forced), float(loss))
        for (lam, up, low, loss), (same, diff, forced) in zip(values, pairs, strict=True)
    ]
    est.head_ = _module(lambda: _head(dim, hidden, k), arrays.module_state("head_"), "head_")
    est.n_features_in_ = _size(fitted, "n_features_in_")
    if est.n_features_in_ != dim:
        raise _damaged("the head does not take the stored number of features")
    before, after = arrays.take("constraint_agreement", "f", (2,))
    est.constraint_agreement_ = (float(before), float(after))
    est.labels_ = arrays.take("labels_", "i", (None,), 0, k)
    est._train_confidence = arrays.take("train_confidence", "f", (len(est.labels_),))
    return est


def _dac_refiner() -> type:
    """`DACRefiner`, imported only when a refiner is at hand: it imports scikit-learn (0.9 s), which storing a
    `CPPClusterer` after every re-cluster must not pay."""
    from engine.cluster.dac import DACRefiner

    return DACRefiner


# ---------------------------------------------------------------------------------------------- legacy
def _legacy_globals() -> list[tuple[Any, str]]:
    """Exactly the globals the `torch.save` pickles of earlier releases name, under the names they use."""
    from torch import nn

    from engine.cluster.assign import SubspaceAssigner
    from engine.cluster.choose_k import KCurve
    from engine.cluster.dac import DACRefiner, EpochRecord
    from engine.cluster.dac_pairs import ThresholdSchedule
    from engine.cluster.estimator import CPPClusterer, _Readout
    from engine.cluster.mlc_head import MLCHead, TrainConfig
    from engine.cluster.spectral import SpectralEmbedding

    try:
        from numpy._core.multiarray import _reconstruct
    except ImportError:  # numpy 1.x
        from numpy.core.multiarray import _reconstruct

    # Pinned names, not the classes' current modules: the pickles name where the classes were then.
    return [
        (CPPClusterer, "engine.cluster.estimator.CPPClusterer"),
        (_Readout, "engine.cluster.estimator._Readout"),
        (MLCHead, "engine.cluster.mlc_head.MLCHead"),
        (TrainConfig, "engine.cluster.mlc_head.TrainConfig"),
        (SubspaceAssigner, "engine.cluster.assign.SubspaceAssigner"),
        (KCurve, "engine.cluster.choose_k.KCurve"),
        (SpectralEmbedding, "engine.cluster.spectral.SpectralEmbedding"),
        (DACRefiner, "engine.cluster.dac.DACRefiner"),
        (EpochRecord, "engine.cluster.dac.EpochRecord"),
        (ThresholdSchedule, "engine.cluster.dac_pairs.ThresholdSchedule"),
        (nn.Sequential, "torch.nn.modules.container.Sequential"),
        (nn.Linear, "torch.nn.modules.linear.Linear"),
        (nn.BatchNorm1d, "torch.nn.modules.batchnorm.BatchNorm1d"),
        (nn.ReLU, "torch.nn.modules.activation.ReLU"),
        (_reconstruct, "numpy._core.multiarray._reconstruct"),
        (_reconstruct, "numpy.core.multiarray._reconstruct"),  # written under numpy 1.x
        (np.ndarray, "numpy.ndarray"),
        (np.dtype, "numpy.dtype"),
        # Never named in a pickle, but the unpickler only sets the state of instances of allowed types.
        *((cls, f"numpy.dtypes.{cls.__name__}") for cls in (np.dtypes.Float32DType, np.dtypes.Float64DType)),
        *((cls, f"numpy.dtypes.{cls.__name__}") for cls in (np.dtypes.Int32DType, np.dtypes.Int64DType)),
    ]


def load_legacy_pickle(blob: bytes) -> Any:
    """An estimator from a `torch.save` pickle of an earlier release, read without running code from it.

    The weights-only unpickler allows only `_legacy_globals`, so a crafted pickle (a `__reduce__` calling
    `os.system`, say) stops before anything is called. The result goes through `dump_estimator` and
    `load_estimator`, so it is checked like a stored model and lives on the CPU.

    Raises:
        CatalogError: not such a pickle, a global outside the allowlist, or a malformed estimator.
    """
    import torch

    from engine.cluster.dac import DACRefiner
    from engine.cluster.estimator import CPPClusterer

    if not isinstance(blob, bytes | bytearray | memoryview):
        raise _damaged("not a stored model")
    try:
        with torch.serialization.safe_globals(_legacy_globals()):
            obj = torch.load(io.BytesIO(bytes(blob)), map_location="cpu", weights_only=True)
    except Exception as exc:  # unpickling errors of every kind: the blob is untrusted data
        raise _damaged("an old-format model that is corrupt or holds more than a clustering") from exc
    if type(obj) not in (CPPClusterer, DACRefiner):
        raise _damaged(f"an old-format model holds a {type(obj).__name__}")
    try:
        return load_estimator(dump_estimator(obj))
    except CatalogError:
        raise
    except Exception as exc:
        raise _damaged(f"an old-format model is incomplete ({type(exc).__name__}: {exc})") from exc
