"""A known teacher's list from the batch's precomputed lists, with completions applied now.

The stored list arrives with the request's tenancy read (one database round trip:
:func:`service.db.stores.scope.visible_teacher_with_list`). None when the region serves no
lists of the worker's model version, the batch did not rank the teacher, or too many stored
items were completed since to fill ``k``: the caller then ranks live (the ranking cache).

The reasons of the ``k`` items shown are the ones the batch rendered and stored with the list
rows (migration 0012): each item's JSON is its catalog fields, rendered once per model, joined
with its stored score and reasons, so a first request costs what a repeat request costs
(issue 15 §3). The batch's reasons are the live reasons only while the worker's model is the
one that ranked the lists: after a fold-in or an erasure changed it in memory (a new
:attr:`~recommender.ranking.HybridRecommender.revision`), and for rows of an older batch file
without reasons, the reasons are built from the model instead, without scoring the catalog
(:meth:`HybridRecommender.explain_listed`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from pydantic_core import to_json

from competency_model.errors import ModelError
from recommender.bundle import ModelBundle
from recommender.ranking import Recommendation
from service.db.list_reader import ListedRow
from service.usecases.ranking_cache import recommendation_json

__all__ = ["ListedJson", "precomputed_list"]

_SCORE = b',"score":'
#: What follows the reasons in a recommendation's JSON: a stored list has no signals.
_TAIL = b',"signals":{}}'


class ListedJson:
    """Renders stored list items as the JSON :func:`recommendation_json` gives the same item.

    The catalog part of each item (id, title, kind, hours, points) is rendered once per fitted
    catalog and kept; a request only joins it with the row's score and stored reasons. The
    layout is taken from :class:`Recommendation` itself (a template item dumped once), so a
    field added to the model fails here at once instead of drifting
    (``test_stored_reasons_render_as_the_live_item``).
    """

    def __init__(self) -> None:
        # (the catalog mapping the heads were rendered from, the heads): replaced whole, so a
        # request on a new model never mixes two catalogs.
        self._heads: tuple[Mapping[str, Mapping[str, Any]], dict[str, bytes]] | None = None

    def heads(self, catalog: Mapping[str, Mapping[str, Any]]) -> dict[str, bytes]:
        """Per item id, its JSON up to (not including) the score, for ``catalog``'s items."""
        kept = self._heads
        if kept is not None and kept[0] is catalog:
            return kept[1]
        heads = {item: _head(item, fields) for item, fields in catalog.items()}
        self._heads = (catalog, heads)
        return heads

    def render(self, heads: Mapping[str, bytes], row: ListedRow) -> bytes:
        """One stored item's JSON (``row`` has reasons; its item is in ``heads``)."""
        assert row.reasons_zh is not None and row.reasons_en is not None
        return b"".join(
            (
                heads[row.item_id],
                _SCORE,
                to_json(row.score),
                b',"reasons_zh":',
                row.reasons_zh.encode("utf-8"),
                b',"reasons_en":',
                row.reasons_en.encode("utf-8"),
                _TAIL,
            )
        )


def _head(item_id: str, fields: Mapping[str, Any]) -> bytes:
    template = recommendation_json(
        Recommendation(item_id=item_id, **fields, score=0.0, reasons_zh=[], reasons_en=[])
    )
    head, score, rest = template.partition(_SCORE)
    if not score or rest != b'0.0,"reasons_zh":[],"reasons_en":[]' + _TAIL:
        raise ModelError(
            "Recommendation's JSON layout changed (expected item fields, score, reasons_zh, "
            f"reasons_en, signals; got {template[:200]!r}); update ListedJson to match"
        )
    return head


def precomputed_list(
    models: ModelBundle,
    teacher_id: str,
    k: int,
    completed: Collection[str],
    stored: Sequence[ListedRow],
    rendering: ListedJson,
) -> list[bytes] | None:
    """JSON of the ``k`` best ``stored`` items the teacher has not completed (None: rank live).

    ``stored`` is the teacher's served list of ``models``' version, best first; ``rendering``
    keeps the catalog part of the items between requests.
    """
    done = set(completed)
    kept = [row for row in stored if row.item_id not in done][:k]
    if len(kept) < k:
        return None
    recommender = models.recommender
    if recommender.revision == 0 and all(
        row.reasons_zh is not None and row.reasons_en is not None for row in kept
    ):
        heads = rendering.heads(recommender.catalog_fields())
        if all(row.item_id in heads for row in kept):
            return [rendering.render(heads, row) for row in kept]
    items = recommender.explain_listed(
        teacher_id, [row.item_id for row in kept], [row.score for row in kept]
    )
    return [recommendation_json(item) for item in items] if len(items) == k else None
