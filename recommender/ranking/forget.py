"""Removing one teacher from a fitted state, for the right to erasure (PIPL art. 47).

Retraining drops an erased teacher for good; until then the service must not keep answering
from their rows. :func:`forget_teacher` makes the id unknown to the state (it is then served as
any unseen teacher would be, which the service never does: the id answers 404 first) and
overwrites what the state learned from that teacher alone: their id, diagnosis row,
taken/completed rows, interaction rows and ALS factors. Item factors, rankers and the
colleague and popularity counts are population aggregates and stay as trained.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from recommender.ranking.state import FittedState

__all__ = ["forget_teacher"]


def _without_row(matrix: sp.csr_matrix, row: int) -> sp.csr_matrix:
    keep = np.ones(matrix.shape[0], dtype=matrix.dtype)
    keep[row] = 0
    out = sp.csr_matrix(sp.diags(keep) @ matrix)
    out.eliminate_zeros()
    return out


def forget_teacher(state: FittedState, teacher_id: str) -> bool:
    """Overwrite ``teacher_id``'s rows of ``state`` in place; False if the state never knew them."""
    row = state.teacher_index.pop(str(teacher_id), None)
    if row is None:
        return False
    state.teachers.teacher_ids[row] = ""
    state.mastery[row, :] = state.mastery_prior
    state.took = _without_row(state.took, row)
    state.completed = _without_row(state.completed, row)
    for model in (state.als, state.knn):
        user_items = getattr(model, "user_items_", None)
        if user_items is not None:
            model.user_items_ = _without_row(sp.csr_matrix(user_items), row)
        factors = getattr(getattr(model, "model_", None), "user_factors", None)
        if isinstance(factors, np.ndarray) and factors.ndim == 2 and factors.shape[0] > row:
            factors[row, :] = 0
    return True
