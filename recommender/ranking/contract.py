"""The estimator contract every ranking model follows: one fitted check, sklearn's.

sklearn's :func:`~sklearn.utils.validation.check_is_fitted` decides whether an estimator has
learned state (an attribute ending in ``_``); nengli callers expect its own
:class:`~competency_model.errors.NotFittedError`, which the service maps to a problem+json
answer. This module is the one place that translates between the two.
"""

from __future__ import annotations

from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError as SklearnNotFittedError
from sklearn.utils.validation import check_is_fitted

from competency_model.errors import NotFittedError

__all__ = ["require_fitted"]


def require_fitted(estimator: BaseEstimator, attribute: str, hint: str) -> None:
    """Raise :class:`NotFittedError` (``hint`` says what to do) unless ``attribute`` was learned.

    Parameters
    ----------
    estimator
        The sklearn-compatible estimator.
    attribute
        A learned attribute (ending in ``_``) that ``fit`` always sets.
    hint
        The message's second half, e.g. ``"call fit first"``.
    """
    try:
        check_is_fitted(estimator, attribute)
    except SklearnNotFittedError:
        raise NotFittedError(f"this {_describe(estimator)} is not fitted; {hint}") from None


def _describe(estimator: BaseEstimator) -> str:
    algorithm = getattr(estimator, "algorithm", None)
    name = type(estimator).__name__
    return f"{algorithm} {name}" if isinstance(algorithm, str) else name
