"""Tenant checks used by every route: an object outside the key's scope does not exist.

Both "no such id" and "not yours" raise the same :class:`NotFoundError` with the same text, so
a key cannot learn which ids other tenants use.
"""

from __future__ import annotations

import itertools
import weakref
from dataclasses import dataclass
from functools import partial
from operator import itemgetter
from typing import Any, TypeVar

from anyio import to_thread
from sqlalchemy import Engine, Select, and_, bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from competency_model.errors import NotFoundError
from service.auth import Principal
from service.db.async_driver import AsyncStatements
from service.db.driver_query import DriverQuery, run_prepared, run_together
from service.db.list_reader import LIST_OF_TEACHER, ListedRow
from service.db.models import Event, School, Teacher
from service.db.row_security import driver_prelude
from service.db.stores.records import completed_items

__all__ = [
    "TeacherScope",
    "commit_new",
    "in_key_region_or_school",
    "schools_in_scope",
    "teacher_ids_in_scope",
    "visible_region",
    "visible_school",
    "visible_teacher",
    "visible_teacher_with_completed",
    "visible_teacher_with_list",
    "visible_teacher_with_list_async",
]

_Row = TypeVar("_Row", bound=Any)

# Built once (statement construction costs more than the indexed lookup it runs).
_TEACHER_AND_SCHOOL = (
    select(Teacher, School)
    .join(School, School.school_id == Teacher.school_id)
    .where(Teacher.teacher_id == bindparam("teacher_id"))
)

# The teacher's school, region and completed items in one round trip (one row per completed
# item; one row with a NULL item when there is none). Unordered: callers only exclude them.
_SCOPE_AND_COMPLETED = (
    select(Teacher.school_id, School.region, Event.item_id)
    .join(School, School.school_id == Teacher.school_id)
    .outerjoin(
        Event,
        # The region names the teacher's partition of events (PostgreSQL prunes the others).
        and_(
            Event.teacher_id == Teacher.teacher_id,
            Event.region == Teacher.region,
            Event.event == "complete",
        ),
    )
    .where(Teacher.teacher_id == bindparam("teacher_id"))
)
_compiled_for: dict[tuple[str, str], DriverQuery] = {}
_list_compiled_for: dict[tuple[str, str], DriverQuery] = {}


@dataclass(frozen=True)
class TeacherScope:
    """Where a teacher belongs: enough to check tenancy and write the audit entry."""

    teacher_id: str
    school_id: str
    region: str


def visible_school(session: Session, principal: Principal, school_id: str) -> School:
    """The school if this key may see it, else 404."""
    school = session.get(School, school_id)
    if not principal.can_see_school(school):
        raise NotFoundError(f"school {school_id!r} not found", details={"school_id": school_id})
    assert school is not None
    return school


def visible_teacher(
    session: Session, principal: Principal, teacher_id: str
) -> tuple[Teacher, School]:
    """The teacher and their school if this key may see the teacher, else 404."""
    row = session.execute(_TEACHER_AND_SCHOOL, {"teacher_id": teacher_id}).first()
    teacher, school = (row[0], row[1]) if row is not None else (None, None)
    if not principal.can_see_teacher(teacher, school):
        raise NotFoundError(f"teacher {teacher_id!r} not found", details={"teacher_id": teacher_id})
    assert teacher is not None and school is not None
    return teacher, school


def commit_new(session: Session, model: type[School] | type[Teacher], ident: str) -> None:
    """Commit a ``PUT`` that created ``ident``; 404 when the id is taken outside the key's scope.

    Row-level security (PostgreSQL) hides another region's school or teacher from the lookup
    that decided "new", so the insert meets its primary key: that is the same "not found" as
    when the lookup saw the foreign row. A conflict with a row the key can see (a concurrent
    create) is raised as it is.
    """
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        if session.get(model, ident) is not None:
            raise
        kind = "school" if model is School else "teacher"
        raise NotFoundError(f"{kind} {ident!r} not found", details={f"{kind}_id": ident}) from None


def visible_region(session: Session, principal: Principal, region: str) -> str:
    """The region if this key may see it and it has at least one school, else 404."""
    exists = session.scalar(select(School.school_id).where(School.region == region).limit(1))
    if not principal.can_see_region(region) or exists is None:
        raise NotFoundError(f"region {region!r} not found", details={"region": region})
    return region


def visible_teacher_with_completed(
    engine: Engine, principal: Principal, teacher_id: str, *, row_security: bool = False
) -> tuple[TeacherScope, list[str]]:
    """Tenancy check plus the teacher's completed catalog ids, in one query on a raw cursor.

    The recommendation hot path needs exactly this; same 404 as :func:`visible_teacher`.
    ``row_security``: run it as the API role limited to the key's region (PostgreSQL).
    """
    dialect = engine.dialect
    query = _compiled_for.get((dialect.name, dialect.paramstyle))
    if query is None:
        query = _compiled_for[(dialect.name, dialect.paramstyle)] = DriverQuery(
            engine, _SCOPE_AND_COMPLETED
        )
    prelude = driver_prelude(engine, principal.role, principal.scope) if row_security else None
    rows = query.rows(engine, prelude, teacher_id=teacher_id)
    if not rows or not principal.can_see_teacher_at(teacher_id, rows[0][0], rows[0][1]):
        raise NotFoundError(f"teacher {teacher_id!r} not found", details={"teacher_id": teacher_id})
    completed = completed_items(row[2] for row in rows)
    return TeacherScope(teacher_id, rows[0][0], rows[0][1]), completed


def visible_teacher_with_list(
    engine: Engine,
    principal: Principal,
    teacher_id: str,
    listed: tuple[str, str] | None,
    *,
    row_security: bool = False,
) -> tuple[TeacherScope, list[str], list[ListedRow]]:
    """:func:`visible_teacher_with_completed` plus the teacher's served precomputed list.

    ``listed`` is ``(model_version, kind)`` of the list to read (None: read none, the list is
    then empty). Both reads and the row-level security prelude go in one transaction and, on
    PostgreSQL, one round trip: the request of a teacher served from the lists reads the
    database once. The list is rows (:class:`ListedRow`) best first, completions not yet removed;
    empty when the region serves no lists of that version or the batch did not rank the
    teacher. Same 404 as :func:`visible_teacher`; the list of a teacher the key may not see is
    never returned (row-level security limits both reads to the key's region).
    """
    if _has_list_read(engine):
        return _list_read(engine, principal, teacher_id, listed, row_security)
    dialect = engine.dialect
    key = (dialect.name, dialect.paramstyle)
    scope_query = _compiled_for.get(key)
    if scope_query is None:
        scope_query = _compiled_for[key] = DriverQuery(engine, _SCOPE_AND_COMPLETED)
    queries: list[tuple[DriverQuery, dict[str, Any]]] = [(scope_query, {"teacher_id": teacher_id})]
    if listed is not None:
        list_query = _list_compiled_for.get(key)
        if list_query is None:
            list_query = _list_compiled_for[key] = DriverQuery(engine, LIST_OF_TEACHER)
        version, kind = listed
        queries.append(
            (list_query, {"teacher_id": teacher_id, "model_version": version, "kind": kind})
        )
    prelude = driver_prelude(engine, principal.role, principal.scope) if row_security else None
    results = run_together(engine, prelude, queries)
    rows = results[0]
    if not rows or not principal.can_see_teacher_at(teacher_id, rows[0][0], rows[0][1]):
        raise NotFoundError(f"teacher {teacher_id!r} not found", details={"teacher_id": teacher_id})
    completed = completed_items(row[2] for row in rows)
    stored = [ListedRow(*row) for row in results[1]] if listed else []
    return TeacherScope(teacher_id, rows[0][0], rows[0][1]), completed, stored


#: The whole read as one call of migration 0015's function (one prepared statement).
_LIST_READ = "SELECT * FROM nengli_list_rows(%s, %s, %s, %s, %s, %s)"
_LIST_READ_SIGNATURE = "nengli_list_rows(text, text, boolean, text, text, text)"
#: Per engine (so per database and search path): whether the function exists there.
_list_read_in: weakref.WeakKeyDictionary[Engine, bool] = weakref.WeakKeyDictionary()


def _has_list_read(engine: Engine) -> bool:
    """Whether ``engine`` reaches a PostgreSQL schema with ``nengli_list_rows`` (psycopg).

    Looked up once per engine: a database migrated to 0015 has it; SQLite, other drivers and
    a database not yet migrated run the statements of :func:`run_together` instead.
    """
    known = _list_read_in.get(engine)
    if known is None:
        known = False
        if engine.dialect.name == "postgresql" and engine.dialect.driver == "psycopg":
            with engine.connect() as connection:
                found = connection.exec_driver_sql(
                    f"SELECT to_regprocedure('{_LIST_READ_SIGNATURE}') IS NOT NULL"
                ).scalar()
            known = bool(found)
        _list_read_in[engine] = known
    return known


def _list_read(
    engine: Engine,
    principal: Principal,
    teacher_id: str,
    listed: tuple[str, str] | None,
    row_security: bool,
) -> tuple[TeacherScope, list[str], list[ListedRow]]:
    """:func:`visible_teacher_with_list` as one call of ``nengli_list_rows`` (migration 0015).

    The function runs the same prelude and reads as the statements (same role, same row-level
    security, same order); PostgreSQL keeps their plans per connection.
    """
    rows = run_prepared(
        engine, _LIST_READ, _list_read_params(principal, teacher_id, listed, row_security)
    )
    return _list_read_answer(principal, teacher_id, rows)


async def visible_teacher_with_list_async(
    statements: AsyncStatements | None,
    engine: Engine,
    principal: Principal,
    teacher_id: str,
    listed: tuple[str, str] | None,
    *,
    row_security: bool = False,
) -> tuple[TeacherScope, list[str], list[ListedRow]]:
    """:func:`visible_teacher_with_list` for ``async`` routes: same answer, same 404.

    On a database with ``nengli_list_rows`` the call is awaited on the event loop through
    ``statements`` (asyncio connections to ``engine``'s database, :mod:`service.db.
    async_driver`); elsewhere (SQLite, a database not yet migrated to 0015, no
    ``statements``) the statements run in a worker thread as before.
    """
    if statements is not None and _has_list_read(engine):
        rows = await statements.rows(
            _LIST_READ, _list_read_params(principal, teacher_id, listed, row_security)
        )
        return _list_read_answer(principal, teacher_id, rows)
    return await to_thread.run_sync(
        partial(visible_teacher_with_list, row_security=row_security),
        engine,
        principal,
        teacher_id,
        listed,
    )


def _list_read_params(
    principal: Principal, teacher_id: str, listed: tuple[str, str] | None, row_security: bool
) -> tuple[Any, ...]:
    version, kind = listed if listed is not None else (None, None)
    return (principal.role, principal.scope or "", row_security, teacher_id, version, kind)


def _list_read_answer(
    principal: Principal, teacher_id: str, rows: list[tuple[Any, ...]]
) -> tuple[TeacherScope, list[str], list[ListedRow]]:
    """The function's rows as the tenancy answer (no row, or a foreign one: 404).

    The first row is the teacher's scope and completions, the others the list best first.
    """
    if not rows or not principal.can_see_teacher_at(teacher_id, rows[0][0], rows[0][1]):
        raise NotFoundError(f"teacher {teacher_id!r} not found", details={"teacher_id": teacher_id})
    school_id, region, completed = rows[0][:3]
    listed = rows[1:]
    if any(a[3] > b[3] for a, b in itertools.pairwise(listed)):
        # The function sends the list in rank order (its query's ORDER BY); should a server
        # ever hand a function's rows back otherwise, the request still shows them best first.
        listed = sorted(listed, key=itemgetter(3))
    stored = [ListedRow(row[4], row[5], row[6], row[7]) for row in listed]
    return TeacherScope(teacher_id, school_id, region), completed_items(completed), stored


def in_key_region_or_school(query: Select[_Row], principal: Principal) -> Select[_Row]:
    """``query`` (over ``schools``) cut to a platform key's region or a school key's school.

    Admin and teacher keys pass unchanged: callers decide what a teacher key may list.
    """
    if principal.role == "platform":
        return query.where(School.region == principal.scope)
    if principal.role == "school":
        return query.where(School.school_id == principal.scope)
    return query


def schools_in_scope(session: Session, principal: Principal) -> list[School]:
    """Every school this key may write to (none for a teacher key)."""
    if principal.role not in ("admin", "platform", "school"):
        return []
    return list(session.scalars(in_key_region_or_school(select(School), principal)))


def teacher_ids_in_scope(session: Session, principal: Principal) -> list[str]:
    """Ids of the teachers stored in this key's region or school (every teacher for an admin)."""
    query = select(Teacher.teacher_id).join(School, School.school_id == Teacher.school_id)
    return list(session.scalars(in_key_region_or_school(query, principal)))
