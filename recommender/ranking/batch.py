"""Whole-province lists: every known teacher's top ``k`` in chunks, as one long table.

A platform that refreshes lists overnight should not call the one-teacher path a million times:
scoring a chunk of teachers is one matrix operation per signal. :func:`recommend_all` yields,
chunk by chunk, the same items in the same order as
:meth:`~recommender.ranking.HybridRecommender.recommend` gives each teacher (same filters, ties
by item id; tested), as ``teacher_id, item_id, rank, score`` rows, so memory grows with a chunk,
not with the province.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from recommender.ranking.estimator import HybridRecommender
from recommender.ranking.filters import ListKind, kind_mask, unmastered_mask
from recommender.ranking.rows import dense_rows

__all__ = ["RECOMMENDATION_COLUMNS", "recommend_all"]

#: Columns of the batch table (``rank`` counts from 1).
RECOMMENDATION_COLUMNS = ("teacher_id", "item_id", "rank", "score")


def _top(
    scores: NDArray[np.float64], allowed: NDArray[np.bool_], item_ids: NDArray[np.str_], k: int
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Row and column of each teacher's ``k`` best allowed items, best first, ties by item id."""
    rows: list[NDArray[np.int64]] = []
    cols: list[NDArray[np.int64]] = []
    for i in range(len(scores)):
        candidates = np.flatnonzero(allowed[i] & np.isfinite(scores[i]))
        order = candidates[np.lexsort((item_ids[candidates], -scores[i, candidates]))][:k]
        rows.append(np.full(order.size, i, dtype=np.int64))
        cols.append(order.astype(np.int64))
    return np.concatenate(rows), np.concatenate(cols)


def recommend_all(
    model: HybridRecommender,
    kind: ListKind = "all",
    k: int = 10,
    chunk_size: int = 2000,
    progress: Callable[[int], None] | None = None,
) -> Iterator[pd.DataFrame]:
    """Every known teacher's personalised top ``k`` of ``kind``, one DataFrame per chunk.

    Parameters
    ----------
    model
        A fitted or loaded hybrid recommender.
    kind
        ``course``, ``task`` or ``all`` (both in one ranking).
    k
        Items per teacher (fewer when a teacher has fewer eligible items).
    chunk_size
        Teachers scored at once.
    progress
        Called with the number of teachers done after each chunk (e.g. a progress bar).
    """
    if k < 1:
        raise ValueError(f"k={k} must be at least 1")
    if chunk_size < 1:
        raise ValueError(f"chunk_size={chunk_size} must be at least 1")
    state = model.state_
    items = state.items
    of_kind = kind_mask(items, kind, state.rules)
    apply_mastered = model.mastered_filter_applies()
    n_teachers = len(state.teachers.teacher_ids)
    for start in range(0, n_teachers, chunk_size):
        rows = np.arange(start, min(start + chunk_size, n_teachers), dtype=np.int64)
        scores, _ = model.score_teachers(rows)
        allowed = model.eligible(rows) & of_kind[None, :]
        allowed &= ~(dense_rows(state.took, rows) > 0)
        if apply_mastered:
            active = model.active_points(rows)
            allowed &= unmastered_mask(items, state.mastery[rows], model.mastered_threshold, active)
        teacher, column = _top(scores, allowed, items.item_ids, k)
        rank = np.concatenate(
            [np.arange(1, n + 1) for n in np.bincount(teacher, minlength=len(rows))]
        )
        yield pd.DataFrame(
            {
                "teacher_id": state.teachers.teacher_ids[rows][teacher],
                "item_id": items.item_ids[column],
                "rank": rank.astype(np.int32),
                "score": scores[teacher, column].astype(np.float64),
            }
        )
        if progress is not None:
            progress(len(rows))
