"""Per-request assembly for the hybrid recommender: fast row copies and the explained top-k list.

Serving one teacher must cost little more than scoring the catalog once, so this module holds the
pieces of :meth:`~recommender.hybrid.HybridRecommender.recommend` that would otherwise dominate
a single request: copying a few sparse rows, ranking CF scores, and turning the chosen ``k``
items into :class:`Recommendation` objects with their reasons. Each fast helper documents the
general formula it replaces; ``tests/recommender/test_hybrid_fast_path.py`` pins them to it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from pydantic import BaseModel, Field

from recommender.explanations import ExplanationContext, explain_item
from recommender.filters import Kind, apply_filters
from recommender.signals import ItemTable, PointTable

if TYPE_CHECKING:
    from recommender.hybrid import HybridRecommender

__all__ = [
    "Recommendation",
    "dense_rows",
    "popular_recommendations",
    "share_below",
    "top_recommendations",
    "zscore_rows",
]


class Recommendation(BaseModel):
    """One recommended course or practice task with its score, signals and reasons."""

    item_id: str
    title_zh: str
    kind: str
    hours: float
    points: dict[str, float]
    score: float
    reasons_zh: list[str]
    reasons_en: list[str]
    signals: dict[str, float] = Field(default_factory=dict)


def dense_rows(
    matrix: sp.spmatrix, rows: NDArray[np.int64], dtype: Any = np.float32
) -> NDArray[Any]:
    """``matrix[rows]`` as a dense array of ``dtype`` (duplicate entries summed, as ``todense``).

    For a CSR matrix and a handful of rows the rows are copied straight from
    ``indptr``/``indices``: scipy's fancy indexing builds intermediate sparse matrices, which
    for one teacher costs more than scoring every item.
    """
    rows = np.asarray(rows, dtype=np.int64)
    if matrix.format != "csr" or len(rows) > 64:
        return np.asarray(matrix[rows].todense(), dtype=dtype)
    dense = np.zeros((len(rows), matrix.shape[1]), dtype=dtype)
    for out, row in enumerate(rows):
        start, stop = matrix.indptr[row], matrix.indptr[row + 1]
        np.add.at(dense[out], matrix.indices[start:stop], matrix.data[start:stop])
    return dense


def share_below(values: NDArray[np.float32]) -> NDArray[np.float64]:
    """Per entry, the share of entries strictly smaller (``(v[:, None] > v[None, :]).mean(1)``).

    A sort and a binary search give the same numbers in O(n log n) instead of an n × n
    comparison; NaN (never produced by the CF models) falls back to the comparison.
    """
    if np.isnan(values).any():
        return (values[:, None] > values[None, :]).mean(axis=1)
    ordered = np.sort(values)
    return np.searchsorted(ordered, values, side="left") / float(values.size)


def zscore_rows(scores: NDArray[np.float32]) -> NDArray[np.float32]:
    """Per-teacher standardisation, so CF scores from users of any activity level compare."""
    mean = scores.mean(axis=1, keepdims=True)
    spread = scores.std(axis=1, keepdims=True)
    return ((scores - mean) / np.where(spread > 1e-9, spread, 1.0)).astype(np.float32)


def top_recommendations(
    items: ItemTable,
    points: PointTable,
    scores: NDArray[np.float64],
    allowed: NDArray[np.bool_],
    k: int,
    context: ExplanationContext,
    signals: Mapping[str, NDArray[np.float32]],
) -> list[Recommendation]:
    """The ``k`` best allowed items, explained, ties broken by item id.

    Parameters
    ----------
    items, points
        The fitted catalog and point tables.
    scores, allowed
        One teacher's score and filter verdict per item; non-finite scores are never shown.
    k
        List length (at least 1).
    context
        What the explanations may cite about this teacher.
    signals
        Per-item signal values reported with each recommendation (rounded to 4 places).
    """
    if k < 1:
        raise ValueError(f"k={k} must be at least 1")
    candidates = np.flatnonzero(allowed & np.isfinite(scores))
    order = candidates[np.lexsort((items.item_ids[candidates], -scores[candidates]))][:k]
    # Gather the k rows once and convert with ``tolist`` (exactly ``float(x)`` per value):
    # per-item numpy scalar access cost more than scoring every candidate.
    codes = points.codes.tolist()
    weights = items.point_weights[order].tolist()
    values = {name: np.asarray(value)[order].tolist() for name, value in signals.items()}
    result = []
    for i, (row, item_id, title, kind, hours, score) in enumerate(
        zip(
            order.tolist(),
            items.item_ids[order].tolist(),
            items.titles_zh[order].tolist(),
            items.kinds[order].tolist(),
            items.hours[order].tolist(),
            scores[order].tolist(),
            strict=True,
        )
    ):
        zh, en = explain_item(row, items, points, context)
        result.append(
            Recommendation(
                item_id=str(item_id),
                title_zh=str(title),
                kind=str(kind),
                hours=float(hours),
                points={
                    str(codes[c]): round(float(w), 4) for c, w in enumerate(weights[i]) if w > 0
                },
                score=float(score),
                reasons_zh=zh,
                reasons_en=en,
                signals={name: round(float(v[i]), 4) for name, v in values.items()},
            )
        )
    return result


def popular_recommendations(
    model: HybridRecommender,
    school_rank: int,
    k: int,
    kind: Kind,
    exclude: Sequence[str],
    only_points: Sequence[str],
) -> list[Recommendation]:
    """The non-personalised list: policy, school environment and province-wide popularity.

    Never reads the teacher's history or diagnosis, so it serves as the baseline a teacher can
    ask for (``personalized=False``) and as the comparison in evaluations.
    """
    allowed, _ = apply_filters(
        model.items_,
        model.points_,
        model.rules_,
        kind,
        school_rank,
        None,
        exclude=exclude,
        only_points=only_points,
    )
    context = ExplanationContext(
        None, model.mastered_threshold, None, None, None, None, None, model.social_.item_took
    )
    scores = model.popularity_scores()
    return model._top(scores, allowed, k, context, {"popularity": scores.astype(np.float32)})
