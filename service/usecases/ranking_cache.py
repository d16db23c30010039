"""Rankings kept between requests, so a teacher's second request costs no model call.

Scoring the catalog for one teacher takes most of a recommendation request, yet a known
teacher's ranking changes only when the model does: a retraining (new model version) or a
fold-in (new :attr:`~recommender.ranking.HybridRecommender.revision`). Items the teacher
completed since training are skipped when the list is read, which gives exactly the list that
ranking again with those items excluded would give (see
:class:`~recommender.ranking.RankedItems`; pinned by
``test_a_kept_ranking_minus_completed_items_equals_ranking_again``).

Each entry keeps the ranking cut at :data:`RANKING_DEPTH` items and the JSON of every item
already shown, so a repeated request only joins bytes. Entries are evicted least recently used
first; the cache belongs to one worker process (workers do not share memory).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Collection
from dataclasses import dataclass, field

from competency_model.catalog import Kind
from recommender.bundle import ModelBundle
from recommender.ranking import RankedItems, Recommendation

__all__ = ["RANKING_DEPTH", "RankingCache", "recommendation_json"]

#: Items kept per ranking: the largest ``k`` the API accepts (100) plus room for items
#: completed after training. A request that cannot be filled from them ranks again.
RANKING_DEPTH = 150


def recommendation_json(recommendation: Recommendation) -> bytes:
    """One item as compact UTF-8 JSON (the shape of ``RecommendationOut``; pydantic's encoder)."""
    return recommendation.model_dump_json().encode("utf-8")


@dataclass
class _Entry:
    ranking: RankedItems
    rendered: dict[int, bytes] = field(default_factory=dict)


class RankingCache:
    """Least-recently-used rankings of known teachers, keyed by model version and revision.

    Parameters
    ----------
    max_entries
        Rankings kept (one per teacher, kind and ``personalized``); 0 disables the cache.
        An entry holds about 40 KB (``docs/benchmarks.md``, section service).
    """

    def __init__(self, max_entries: int = 5_000) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[tuple[object, ...], _Entry] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    def top(
        self,
        models: ModelBundle,
        teacher_id: str,
        row: int,
        kind: Kind,
        personalized: bool,
        k: int,
        completed: Collection[str],
    ) -> list[bytes]:
        """JSON of the ``k`` best items for a known teacher, skipping ``completed``.

        ``row`` is the teacher's model row, resolved once by
        :func:`service.usecases.recommendations.knows`; ``teacher_id`` names the entry.
        """
        recommender = models.recommender
        key = (models.version, recommender.revision, teacher_id, kind, personalized)
        entry = self._get(key)
        if entry is None:
            ranking = recommender.rank_row(row, kind, personalized, depth=RANKING_DEPTH)
            entry = self._put(key, _Entry(ranking))
        positions = entry.ranking.positions(k, completed)
        if positions is None:  # too many of the kept items were completed since training
            fresh = recommender.rank_row(
                row, kind, personalized, exclude=sorted(completed), depth=k
            ).top(k)
            return [recommendation_json(item) for item in fresh]
        rendered = entry.rendered
        out = []
        for position in positions:
            fragment = rendered.get(position)
            if fragment is None:
                fragment = rendered[position] = recommendation_json(entry.ranking.explain(position))
            out.append(fragment)
        return out

    def clear(self) -> None:
        """Forget every ranking (after a model reload, to free the memory at once)."""
        with self._lock:
            self._entries.clear()

    def _get(self, key: tuple[object, ...]) -> _Entry | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return entry

    def _put(self, key: tuple[object, ...], entry: _Entry) -> _Entry:
        if self.max_entries <= 0:
            return entry
        with self._lock:
            kept = self._entries.setdefault(key, entry)  # a concurrent request may have won
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
            return kept
