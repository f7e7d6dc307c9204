"""The not-fitted error of the estimators, which scikit-learn recognises as its own.

It subclasses scikit-learn's `NotFittedError`, so importing this module imports scikit-learn (0.9 s): the
estimators import it only on the way to raising it, never on the path of a fit.
"""

from __future__ import annotations

from sklearn.exceptions import NotFittedError as SklearnNotFittedError

from engine.errors import NotFittedError


class EstimatorNotFittedError(NotFittedError, SklearnNotFittedError):
    """`NotFittedError` that scikit-learn also recognises (its `check_is_fitted` and common checks)."""
