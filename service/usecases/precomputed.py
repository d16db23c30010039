"""A known teacher's list from the batch's precomputed lists, with completions applied now.

The stored list arrives with the request's tenancy read (one database round trip:
:func:`service.db.stores.scope.visible_teacher_with_list`). None when the region serves no
lists of the worker's model version, the batch did not rank the teacher, or too many stored
items were completed since to fill ``k``: the caller then ranks live (the ranking cache). The
reasons of the ``k`` items shown are built from the model without scoring the catalog
(:meth:`HybridRecommender.explain_listed`), so a first request costs what a repeat request
costs.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from recommender.bundle import ModelBundle
from service.usecases.ranking_cache import recommendation_json

__all__ = ["precomputed_list"]


def precomputed_list(
    models: ModelBundle,
    teacher_id: str,
    k: int,
    completed: Collection[str],
    stored: Sequence[tuple[str, float]],
) -> list[bytes] | None:
    """JSON of the ``k`` best ``stored`` items the teacher has not completed (None: rank live).

    ``stored`` is the teacher's served list of ``models``' version, best first.
    """
    done = set(completed)
    kept = [(item, score) for item, score in stored if item not in done][:k]
    if len(kept) < k:
        return None
    items = models.recommender.explain_listed(
        teacher_id, [item for item, _ in kept], [score for _, score in kept]
    )
    return [recommendation_json(item) for item in items] if len(items) == k else None
