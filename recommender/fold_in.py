"""Fold-in: a known teacher's new events update that teacher, and nothing else, without retraining.

Retraining a province-sized model takes minutes; a teacher who just completed a course should
see it leave their list at once. Only the teacher's own state changes: their confidence row, their
ALS factors (re-solved against the fixed item factors with implicit's ``partial_fit_users``), the
taken/completed sets, their contribution to colleague and popularity counts and, if given, their
diagnosis. Item factors, rankers and every other teacher stay as trained.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import NDArray

from competency_model.errors import NotFoundError
from recommender.cf import confidence_matrix, replace_csr_row

if TYPE_CHECKING:
    from recommender.hybrid import HybridRecommender

__all__ = ["fold_in_teacher"]


def _replace_row(matrix: sp.csr_matrix, row: int, values: NDArray[np.float32]) -> sp.csr_matrix:
    return replace_csr_row(matrix, row, sp.csr_matrix(values[None, :]))


def fold_in_teacher(
    model: HybridRecommender,
    teacher_id: str,
    events: pd.DataFrame,
    mastery: Mapping[str, float] | None = None,
) -> None:
    """Apply :meth:`HybridRecommender.fold_in` (see there) to ``model`` in place."""
    row = model.row_of(teacher_id)
    for code, probability in (mastery or {}).items():
        try:
            column = int(model.points_.index([code])[0])
        except KeyError as error:
            raise NotFoundError(str(error.args[0]), details={"point": code}) from None
        model.mastery_[row, column] = float(np.clip(probability, 0.0, 1.0))
    events = events.assign(teacher_id=str(teacher_id))
    one = pd.Index([str(teacher_id)])
    item_index = pd.Index(model.items_.item_ids)
    unknown = sorted(set(events["item_id"].astype(str)) - set(model.items_.item_ids.tolist()))
    if unknown:
        raise NotFoundError(
            f"events name unknown catalog items {unknown[:5]}; check item_id",
            details={"item_ids": unknown[:20]},
        )
    new = confidence_matrix(events, one, item_index, model.event_weights)
    done = confidence_matrix(
        events[events["event"] == "complete"],
        one,
        item_index,
        {"complete": 1.0, "enrol": 0.0, "progress": 0.0, "rate": 0.0},
    )
    confidence = model.als_.user_items_[row] + new
    old_took = np.asarray(model.took_[row].todense(), dtype=np.float32).ravel()
    old_done = np.asarray(model.completed_[row].todense(), dtype=np.float32).ravel()
    took = (np.asarray(confidence.todense()).ravel() > 0).astype(np.float32)
    completed = np.maximum(old_done, (np.asarray(done.todense()).ravel() > 0).astype(np.float32))
    model.als_.fold_in(row, confidence)
    model.knn_.user_items_ = model.als_.user_items_
    model.took_ = _replace_row(model.took_, row, took)
    model.completed_ = _replace_row(model.completed_, row, completed)
    t = model.teachers_
    model.social_.group_took[t.group_row[row]] += took - old_took
    model.social_.group_completed[t.group_row[row]] += completed - old_done
    model.social_.school_took[t.school_row[row]] += took - old_took
    model.social_.item_took += took - old_took
