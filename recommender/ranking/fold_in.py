"""Fold-in: a known teacher's new events update that teacher, and nothing else, without retraining.

Retraining a province-sized model takes minutes; a teacher who just completed a course should
see it leave their list at once. Only the teacher's own state changes: their confidence row, their
ALS factors (re-solved against the fixed item factors with implicit's ``partial_fit_users``), the
taken/completed sets, their contribution to colleague and popularity counts and, if given, their
diagnosis. Item factors, rankers and every other teacher stay as trained.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import NDArray

from competency_model.errors import NotFoundError
from recommender.ranking.cf import confidence_matrix, replace_csr_row
from recommender.ranking.state import FittedState

__all__ = ["fold_in_teacher"]


def _replace_row(matrix: sp.csr_matrix, row: int, values: NDArray[np.float32]) -> sp.csr_matrix:
    return replace_csr_row(matrix, row, sp.csr_matrix(values[None, :]))


def fold_in_teacher(
    state: FittedState,
    row: int,
    events: pd.DataFrame,
    mastery: Mapping[str, float] | None = None,
    event_weights: Mapping[str, float] | None = None,
) -> FittedState:
    """``state`` with the teacher at ``row`` updated by ``events`` (and ``mastery``).

    The counts, the diagnosis row and the ALS factors are updated in place (a fold-in is
    visible to whoever holds the state); the taken/completed matrices are replaced.
    """
    for code, probability in (mastery or {}).items():
        try:
            column = int(state.points.index([code])[0])
        except KeyError as error:
            raise NotFoundError(str(error.args[0]), details={"point": code}) from None
        state.mastery[row, column] = float(np.clip(probability, 0.0, 1.0))
    teacher_id = str(state.teachers.teacher_ids[row])
    events = events.assign(teacher_id=teacher_id)
    one = pd.Index([teacher_id])
    item_index = pd.Index(state.items.item_ids)
    unknown = sorted(set(events["item_id"].astype(str)) - set(state.items.item_ids.tolist()))
    if unknown:
        raise NotFoundError(
            f"events name unknown catalog items {unknown[:5]}; check item_id",
            details={"item_ids": unknown[:20]},
        )
    new = confidence_matrix(events, one, item_index, event_weights)
    done = confidence_matrix(
        events[events["event"] == "complete"],
        one,
        item_index,
        {"complete": 1.0, "enrol": 0.0, "progress": 0.0, "rate": 0.0},
    )
    confidence = state.als.user_items_[row] + new
    old_took = np.asarray(state.took[row].todense(), dtype=np.float32).ravel()
    old_done = np.asarray(state.completed[row].todense(), dtype=np.float32).ravel()
    took = (np.asarray(confidence.todense()).ravel() > 0).astype(np.float32)
    completed = np.maximum(old_done, (np.asarray(done.todense()).ravel() > 0).astype(np.float32))
    state.als.fold_in(row, confidence)
    state.knn.user_items_ = state.als.user_items_
    state.took = _replace_row(state.took, row, took)
    state.completed = _replace_row(state.completed, row, completed)
    t, social = state.teachers, state.social
    social.group_took[t.group_row[row]] += took - old_took
    social.group_completed[t.group_row[row]] += completed - old_done
    social.school_took[t.school_row[row]] += took - old_took
    social.item_took += took - old_took
    return state
