"""Explaining a list ranked earlier (by the batch) for a teacher the model was trained on.

The batch ranks every teacher once after training and stores item ids and scores; a request
then only needs the reasons of the ``k`` items it shows. The reasons depend on the teacher's
diagnosis, colleagues' counts and CF percentile, not on the order, so they are rebuilt here
from the fitted state without scoring the catalog again (the expensive part of a ranking).
The list carries no per-signal values (``signals`` stays empty).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from recommender.ranking.explanations import ExplanationContext
from recommender.ranking.ranked import RankedItems, Recommendation, catalog_fields
from recommender.ranking.rows import dense_rows, share_below, zscore_rows
from recommender.ranking.state import FittedState

__all__ = ["catalog_fields_by_item", "explain_listed", "item_columns", "known_context"]


def known_context(state: FittedState, row: int, mastered_threshold: float) -> ExplanationContext:
    """What the reasons of a known teacher may cite (as :func:`serving.rank_known` builds it)."""
    t, social = state.teachers, state.social
    rows = np.array([row])
    school = int(t.school_row[row])
    group_row = int(t.group_row[row])
    own_took = dense_rows(state.took, rows)[0]
    own_completed = dense_rows(state.completed, rows, state.completed.dtype)[0]
    group_done = social.group_completed[group_row] if group_row >= 0 else None
    if group_done is not None:
        group_done = group_done - own_completed
    cf = zscore_rows(state.als.score(rows))[0]
    return ExplanationContext(
        state.mastery[row],
        mastered_threshold,
        str(t.stages[row]),
        str(t.subjects[row]),
        str(t.research_groups[row]),
        group_done,
        social.school_took[school] - own_took,
        social.item_took,
        share_below(cf) if cf.size < 4000 else None,
        t.school_chosen[school],
    )


def item_columns(state: FittedState) -> dict[str, int]:
    """Catalog column of every item id of the fitted state."""
    return {str(item): column for column, item in enumerate(state.items.item_ids.tolist())}


def catalog_fields_by_item(state: FittedState) -> dict[str, dict[str, Any]]:
    """:func:`~recommender.ranking.ranked.catalog_fields` of every item of the fitted state."""
    return {
        item: catalog_fields(state.items, state.points, column)
        for item, column in item_columns(state).items()
    }


def explain_listed(
    state: FittedState,
    row: int,
    mastered_threshold: float,
    item_ids: Sequence[str],
    scores: Sequence[float],
    columns: Mapping[str, int] | None = None,
) -> list[Recommendation]:
    """``item_ids`` (best first, with their stored ``scores``) explained for the teacher at ``row``.

    Items no longer in the fitted catalog are skipped (a retired course is never shown).
    ``columns`` is :func:`item_columns` of ``state``, passed when the caller keeps it.
    """
    index = item_columns(state) if columns is None else columns
    kept = [
        (index[item], item, score)
        for item, score in zip(item_ids, scores, strict=True)
        if item in index
    ]
    if not kept:
        return []
    ranking = RankedItems(
        items=state.items,
        points=state.points,
        rows=np.array([column for column, _, _ in kept], dtype=np.int64),
        item_ids=[item for _, item, _ in kept],
        scores=np.array([score for _, _, score in kept], dtype=np.float64),
        signals={},
        context=known_context(state, row, mastered_threshold),
        exhaustive=True,
    )
    return [ranking.explain(position) for position in range(len(kept))]
