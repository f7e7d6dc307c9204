"""`CPPClusterer` as a subclass of scikit-learn's `BaseEstimator` and `ClusterMixin`, for code that checks types.

`CPPClusterer` follows scikit-learn's estimator protocol (`get_params`, `set_params`, `clone`, tags) without
importing scikit-learn, which costs 0.9 s of every re-cluster (see `engine.cluster.params`). A few tools ask
for the classes themselves: `isinstance(est, ClusterMixin)` decides whether scikit-learn's clustering checks
run, and `check_estimator` warns about estimators outside `BaseEstimator`. This subclass is the same estimator
with those bases (its parameters, tags and methods are `CPPClusterer`'s), at the price of the import.
"""

from __future__ import annotations

from sklearn.base import BaseEstimator, ClusterMixin

from engine.cluster.estimator import CPPClusterer


class SklearnCPPClusterer(CPPClusterer, ClusterMixin, BaseEstimator):
    """`CPPClusterer`, and an instance of `sklearn.base.BaseEstimator` and `ClusterMixin`."""
