"""The hot-path read of a teacher's precomputed list (one indexed range of the primary key).

Only the version the region's pointer names is read, and only if it is the model version the
worker serves: lists of another model would rank with scores the loaded model cannot explain.
"""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import Engine, Integer, and_, bindparam, select

from service.db.driver_query import DriverQuery
from service.db.models import Teacher
from service.db.row_security import driver_prelude
from service.db.scale_models import ListPointer, RecommendationListRow

__all__ = ["LIST_OF_TEACHER", "ListedRow", "stored_list"]


class ListedRow(NamedTuple):
    """One item of a teacher's served list as the request reads it."""

    item_id: str
    score: float
    #: The item's reasons as JSON arrays (the API's text), None when the batch stored none.
    reasons_zh: str | None
    reasons_en: str | None


_L, _P = RecommendationListRow, ListPointer
_STORED_LIST = (
    select(_L.item_id, _L.score)
    .join(_P, and_(_P.region == _L.region, _P.model_version == _L.model_version))
    .where(
        _L.region == bindparam("region"),
        _L.model_version == bindparam("model_version"),
        _L.teacher_id == bindparam("teacher_id"),
        _L.kind == bindparam("kind"),
    )
    .order_by(_L.rank)
    .limit(bindparam("depth", type_=Integer))
)
#: The whole served list of a teacher, in the teacher's region (a scalar subquery, so
#: PostgreSQL prunes the other regions' partitions when it runs): the recommendation request
#: sends it with its tenancy read in one round trip (:func:`service.db.stores.scope.
#: visible_teacher_with_list`), before it knows the region. Whole, not ``LIMIT``: which items
#: to skip (completed since the batch) is decided with the completions read beside it. Rows
#: are :class:`ListedRow`'s columns.
LIST_OF_TEACHER = (
    select(_L.item_id, _L.score, _L.reasons_zh, _L.reasons_en)
    .join(_P, and_(_P.region == _L.region, _P.model_version == _L.model_version))
    .where(
        _L.region
        == select(Teacher.region)
        .where(Teacher.teacher_id == bindparam("teacher_id"))
        .scalar_subquery(),
        _L.model_version == bindparam("model_version"),
        _L.teacher_id == bindparam("teacher_id"),
        _L.kind == bindparam("kind"),
    )
    .order_by(_L.rank)
)
_compiled_for: dict[tuple[str, str], DriverQuery] = {}


def stored_list(
    engine: Engine,
    region: str,
    model_version: str,
    teacher_id: str,
    kind: str,
    depth: int,
    *,
    row_security: bool = False,
) -> list[tuple[str, float]]:
    """The first ``depth`` ``(item_id, score)`` of the teacher's served list, best first.

    Empty when the region serves no lists, serves another model version, or the batch did not
    rank this teacher. ``row_security``: read as the API role limited to ``region``
    (PostgreSQL; the caller checked that the key may see the teacher of that region).
    """
    dialect = engine.dialect
    query = _compiled_for.get((dialect.name, dialect.paramstyle))
    if query is None:
        query = _compiled_for[(dialect.name, dialect.paramstyle)] = DriverQuery(
            engine, _STORED_LIST
        )
    prelude = driver_prelude(engine, "platform", region) if row_security else None
    rows = query.rows(
        engine,
        prelude,
        region=region,
        model_version=model_version,
        teacher_id=teacher_id,
        kind=kind,
        depth=depth,
    )
    return [(str(item), float(score)) for item, score in rows]
