"""A teacher's ranking and its explained top-k: :class:`RankedItems` and :class:`Recommendation`.

Ranking is cheap next to explaining, so a ranking keeps every allowed item in order and explains
only the ones shown (:meth:`RankedItems.top`). :func:`rank_items` turns one teacher's scores and
filter verdict into that ranking; every entry point of the recommender ends there.
"""

from __future__ import annotations

import sys
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, Field

from recommender.ranking.explanations import ExplanationContext, explain_item
from recommender.ranking.signals import ItemTable, PointTable

__all__ = ["RankedItems", "Recommendation", "catalog_fields", "rank_items"]


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


def catalog_fields(items: ItemTable, points: PointTable, row: int) -> dict[str, Any]:
    """The fields of a :class:`Recommendation` that only the catalog decides (title, kind,
    hours, point weights), for catalog row ``row``.

    One function for every door that builds a recommendation (a ranking explained here, a
    precomputed list rendered by the service), so the item fields cannot drift apart.
    """
    weights = items.point_weights[row].tolist()
    codes = points.codes
    return {
        "title_zh": str(items.titles_zh[row]),
        "kind": str(items.kinds[row]),
        "hours": float(items.hours[row]),
        "points": {str(codes[c]): round(float(w), 4) for c, w in enumerate(weights) if w > 0},
    }


@dataclass(frozen=True)
class RankedItems:
    """One teacher's allowed items of one kind, best first, explained only when shown.

    Ranking is cheap next to explaining, and a teacher's ranking does not change between two
    retrainings except for the items they complete meanwhile. Keeping the ranking (not the
    explained list) lets a caller answer every later request for the same teacher by skipping
    the newly completed items: because no score or reason depends on what is excluded,
    ``ranked(exclude=()).top(k, exclude=done)`` equals ``ranked(exclude=done).top(k)``.

    Attributes
    ----------
    rows, item_ids, scores
        Catalog rows, their ids and ranker scores, best first (ties broken by item id).
    signals
        Per-signal values aligned with ``rows``.
    exhaustive
        Whether ``rows`` holds every allowed item (False when cut at ``depth``).
    """

    items: ItemTable
    points: PointTable
    rows: NDArray[np.int64]
    item_ids: list[str]
    scores: NDArray[np.float64]
    signals: Mapping[str, NDArray[np.float32]]
    context: ExplanationContext
    exhaustive: bool

    def positions(self, k: int, exclude: Collection[str] = ()) -> list[int] | None:
        """Positions of the ``k`` best items not in ``exclude``.

        ``None`` when the ranking was cut short and too many of its items are excluded to
        fill ``k`` (the caller must rank again with ``exclude``); fewer than ``k`` positions
        only when the teacher has fewer allowed items.
        """
        if k < 1:
            raise ValueError(f"k={k} must be at least 1")
        chosen: list[int] = []
        for position, item_id in enumerate(self.item_ids):
            if item_id not in exclude:
                chosen.append(position)
                if len(chosen) == k:
                    return chosen
        return chosen if self.exhaustive else None

    def reasons(self, position: int) -> tuple[list[str], list[str]]:
        """The reasons (zh, en) of the item at ``position``: what the batch stores per list row."""
        return explain_item(int(self.rows[position]), self.items, self.points, self.context)

    def explain(self, position: int) -> Recommendation:
        """The item at ``position`` with its score, signals and reasons."""
        zh, en = self.reasons(position)
        return Recommendation(
            **catalog_fields(self.items, self.points, int(self.rows[position])),
            item_id=self.item_ids[position],
            score=float(self.scores[position]),
            reasons_zh=zh,
            reasons_en=en,
            signals={name: round(float(v[position]), 4) for name, v in self.signals.items()},
        )

    def top(self, k: int, exclude: Collection[str] = ()) -> list[Recommendation]:
        """The ``k`` best items not in ``exclude``, explained.

        Raises
        ------
        ValueError
            When the ranking was cut short and cannot fill ``k`` (rank with ``exclude``).
        """
        positions = self.positions(k, exclude)
        if positions is None:
            raise ValueError(
                f"this ranking holds {len(self.rows)} items and cannot fill k={k} once "
                f"{len(exclude)} are excluded; rank again with exclude"
            )
        return [self.explain(position) for position in positions]


def rank_items(
    items: ItemTable,
    points: PointTable,
    scores: NDArray[np.float64],
    allowed: NDArray[np.bool_],
    context: ExplanationContext,
    signals: Mapping[str, NDArray[np.float32]],
    depth: int | None = None,
) -> RankedItems:
    """Allowed items with finite scores in rank order (best first, ties by item id).

    Parameters
    ----------
    items, points
        The fitted catalog and point tables.
    scores, allowed
        One teacher's score and filter verdict per item; non-finite scores are never shown.
    context
        What the explanations may cite about this teacher.
    signals
        Per-item signal values reported with each recommendation (rounded to 4 places).
    depth
        Keep only the first ``depth`` items (None: all of them).
    """
    candidates = np.flatnonzero(allowed & np.isfinite(scores))
    order = candidates[np.lexsort((items.item_ids[candidates], -scores[candidates]))]
    exhaustive = depth is None or depth >= len(order)
    if not exhaustive:
        order = order[:depth]
    return RankedItems(
        items=items,
        points=points,
        rows=order,
        # Interned: a ranking kept for many teachers then shares one string per catalog item.
        item_ids=[sys.intern(str(item)) for item in items.item_ids[order].tolist()],
        scores=scores[order],
        signals={name: np.asarray(value)[order] for name, value in signals.items()},
        context=context,
        exhaustive=exhaustive,
    )
