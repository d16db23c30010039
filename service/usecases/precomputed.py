"""A known teacher's list from the batch's precomputed lists, with completions applied now.

None when the region serves no lists of the worker's model version, the batch did not rank the
teacher, or too many stored items were completed since to fill ``k``: the caller then ranks
live (the ranking cache). The reasons of the ``k`` items shown are built from the model without
scoring the catalog (:meth:`HybridRecommender.explain_listed`), so a first request costs what a
repeat request costs.
"""

from __future__ import annotations

from recommender.bundle import ModelBundle
from service.db.list_reader import stored_list
from service.state import ServiceState
from service.usecases.ranking_cache import recommendation_json

__all__ = ["precomputed_list"]


def precomputed_list(
    state: ServiceState,
    models: ModelBundle,
    region: str,
    teacher_id: str,
    kind: str,
    k: int,
    completed: list[str],
) -> list[bytes] | None:
    """JSON of the ``k`` best stored items the teacher has not completed (None: rank live)."""
    done = set(completed)
    stored = stored_list(
        state.engine,
        region,
        models.version,
        teacher_id,
        kind,
        k + len(done),
        row_security=state.settings.row_security,
    )
    kept = [(item, score) for item, score in stored if item not in done][:k]
    if len(kept) < k:
        return None
    items = models.recommender.explain_listed(
        teacher_id, [item for item, _ in kept], [score for _, score in kept]
    )
    return [recommendation_json(item) for item in items] if len(items) == k else None
