"""A scikit-learn clusterer's parameter protocol without importing scikit-learn (algorithms.md §4's estimator).

`CPPClusterer` must work in scikit-learn (`clone`, `get_params`, pipelines, its `check_estimator`), and
every re-cluster creates one. Inheriting `sklearn.base.BaseEstimator` imports scikit-learn, which imports
scipy.stats: 0.9 s of a re-cluster command that should take 3. The protocol scikit-learn reads is small and
documented (parameters are the `__init__` arguments, stored unchanged under their own names; `__sklearn_tags__`
describes the estimator), so it is written out here. scikit-learn is imported only when scikit-learn asks for
the tags, which happens only where it is already loaded.
"""

from __future__ import annotations

import inspect
from typing import Any


def _same(value: Any, default: Any) -> bool:
    """Whether a parameter still holds its default (for the repr), without comparing arrays elementwise."""
    if value is default:
        return True
    if type(value) is not type(default):
        return False
    try:
        return bool(value == default)
    except (TypeError, ValueError):
        return False


class ClustererParams:
    """`get_params`, `set_params`, a repr of the changed parameters, and clusterer tags, as scikit-learn expects
    of an estimator whose `__init__` only stores its arguments."""

    _estimator_type = "clusterer"

    @classmethod
    def _param_names(cls) -> list[str]:
        """The `__init__` arguments, sorted, as scikit-learn lists parameters."""
        signature = inspect.signature(cls.__init__)
        kinds = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
        return sorted(p.name for p in signature.parameters.values() if p.name != "self" and p.kind not in kinds)

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The parameters by name; with `deep`, a nested estimator's as `name__param` too."""
        params: dict[str, Any] = {}
        for name in self._param_names():
            value = getattr(self, name)
            if deep and hasattr(value, "get_params") and not isinstance(value, type):
                params.update((f"{name}__{key}", inner) for key, inner in value.get_params().items())
            params[name] = value
        return params

    def set_params(self, **params: Any) -> ClustererParams:
        """Set parameters by name (`name__param` for a nested estimator's); unknown names raise ValueError."""
        valid = self._param_names()
        nested: dict[str, dict[str, Any]] = {}
        for key, value in params.items():
            name, _, inner = key.partition("__")
            if name not in valid:
                raise ValueError(f"Invalid parameter {name!r} for estimator {self}. Valid parameters are: {valid!r}.")
            if inner:
                nested.setdefault(name, {})[inner] = value
            else:
                setattr(self, name, value)
        for name, inner_params in nested.items():
            getattr(self, name).set_params(**inner_params)
        return self

    def __repr__(self) -> str:
        defaults = {p.name: p.default for p in inspect.signature(type(self).__init__).parameters.values()}
        changed = [
            f"{name}={getattr(self, name)!r}"
            for name in self._param_names()
            if not _same(getattr(self, name), defaults.get(name, inspect.Parameter.empty))
        ]
        return f"{type(self).__name__}({', '.join(changed)})"

    def __sklearn_tags__(self) -> Any:
        """scikit-learn's tags for a clusterer (scikit-learn is loaded by whoever asks)."""
        from sklearn.utils import Tags, TargetTags

        return Tags(
            estimator_type="clusterer",
            target_tags=TargetTags(required=False),
            transformer_tags=None,
            regressor_tags=None,
            classifier_tags=None,
        )
