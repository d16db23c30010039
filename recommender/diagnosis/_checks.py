"""Input checks shared by the diagnosis estimators.

Kept apart so that :mod:`dina` and :mod:`higher_order` validate responses and Q-matrices with the
same words: a school administrator reading an error should not have to guess which estimator
raised it.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from numpy.typing import ArrayLike, NDArray

from competency_model.errors import NengliError, NotFittedError


def check_is_fitted(estimator: object, attributes: Iterable[str]) -> None:
    """Raise :class:`NotFittedError` unless every learned attribute exists.

    Parameters
    ----------
    estimator
        Any object following the sklearn convention that learned state ends in ``_``.
    attributes
        Names that ``fit`` sets.
    """
    missing = [name for name in attributes if not hasattr(estimator, name)]
    if missing:
        raise NotFittedError(
            f"{type(estimator).__name__} is not fitted (missing {', '.join(missing)}); "
            "call fit(responses, q_matrix) first"
        )


def check_q_matrix(q_matrix: ArrayLike, n_items: int | None = None) -> NDArray[np.int8]:
    """Return ``q_matrix`` as a 0/1 int8 array of shape (items, attributes).

    Raises
    ------
    NengliError
        When entries are not 0/1, an item measures no attribute, or the number of rows does
        not match the number of items in the responses.
    """
    q = np.asarray(q_matrix)
    if q.ndim != 2 or q.shape[1] == 0:
        raise NengliError(f"q_matrix must be 2-D (items x attributes); got shape {q.shape}")
    if n_items is not None and q.shape[0] != n_items:
        raise NengliError(
            f"q_matrix has {q.shape[0]} rows but responses have {n_items} item columns; "
            "give one Q-matrix row per item"
        )
    bad = ~np.isin(q, (0, 1))
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise NengliError(
            f"q_matrix[{row}, {col}] = {q[row, col].item()!r}; entries must be 0 or 1"
        )
    empty = np.flatnonzero(q.sum(axis=1) == 0)
    if empty.size:
        raise NengliError(
            f"q_matrix row {int(empty[0])} measures no attribute; every item needs at least one 1"
        )
    return q.astype(np.int8)


def check_responses(
    responses: ArrayLike, n_items: int | None = None, *, binary: bool = True
) -> NDArray[np.float64]:
    """Return responses as float64 (NaN = not answered), checking values and width.

    Parameters
    ----------
    responses
        Array (examinees x items).
    n_items
        Expected number of columns, when known from the fitted model.
    binary
        When true every observed value must be 0 or 1.
    """
    x = np.asarray(responses, dtype=np.float64)
    if x.ndim != 2:
        raise NengliError(f"responses must be 2-D (examinees x items); got shape {x.shape}")
    if n_items is not None and x.shape[1] != n_items:
        raise NengliError(
            f"responses have {x.shape[1]} item columns but the model was fitted on {n_items}"
        )
    if np.isinf(x).any():
        row, col = np.argwhere(np.isinf(x))[0]
        raise NengliError(f"responses[{row}, {col}] is infinite; use NaN for unanswered items")
    if binary:
        observed = ~np.isnan(x)
        bad = observed & ~np.isin(x, (0.0, 1.0))
        if bad.any():
            row, col = np.argwhere(bad)[0]
            raise NengliError(
                f"responses[{row}, {col}] = {float(x[row, col])!r}; DINA responses must be 0, 1 or NaN"
            )
    return x


def encode_responses(responses: ArrayLike, n_categories: NDArray[np.int64]) -> NDArray[np.int8]:
    """Turn category responses (0..n-1, NaN = unanswered) into int8 codes with -1 for missing.

    Raises
    ------
    NengliError
        Naming the first (row, column, value) that is not a valid category of its item.
    """
    x = check_responses(responses, len(n_categories), binary=False)
    observed = ~np.isnan(x)
    valid = observed & (x == np.round(x)) & (x >= 0) & (x < n_categories[None, :])
    bad = observed & ~valid
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise NengliError(
            f"responses[{row}, {col}] = {float(x[row, col])!r}; item {col} takes categories "
            f"0..{int(n_categories[col]) - 1} (or NaN when unanswered)"
        )
    return np.where(observed, np.nan_to_num(x), -1).astype(np.int8)
