"""Row-level security as a second line: the API's PostgreSQL transactions run as ``nengli_api``.

The service's own tenancy check (:mod:`service.db.stores.scope`) decides what a key may see.
Behind it, migration 0008's policies let a session of the role ``nengli_api`` (neither superuser
nor owner) read and write only the rows of the region in the setting ``nengli.region``: every
region when it is :data:`ALL_REGIONS` (admin keys), nothing when it is unset or empty — so a
query that forgot its tenancy filter, or a store called without the check, still cannot cross
regions.

:func:`scope_session` marks a request's session with the caller's role and scope; at the start
of each of its transactions (``after_begin``, so a route that commits and goes on is covered
too) one statement sets ``role`` and ``nengli.region`` for that transaction only
(``set_config(…, true)``, i.e. ``SET LOCAL``). The region of a school or teacher key is looked
up in the same statement, planned before the role changes. Sessions that are not marked (the
CLI, migrations, background jobs) keep the connecting role — the schema owner, to whom the
policies do not apply. The connecting role must be a member of ``nengli_api``
(``GRANT nengli_api TO <login>``); SQLite has no roles and ignores all of this.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine, event, text
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

from service.db.driver_query import DriverQuery

__all__ = [
    "ALL_REGIONS",
    "API_ROLE",
    "driver_prelude",
    "install_row_security",
    "scope_session",
]

API_ROLE = "nengli_api"
#: The ``nengli.region`` value that lets a session see every region (admin keys).
ALL_REGIONS = "*"
_INFO_KEY = "nengli_row_scope"

_REGION_OF = {
    "admin": "CAST(:all AS text)",
    "platform": "CAST(:scope AS text)",
    "school": "(SELECT region FROM schools WHERE school_id = :scope)",
    "teacher": "(SELECT region FROM teachers WHERE teacher_id = :scope)",
}
#: A role without a region sees nothing.
_NO_REGION = "CAST(NULL AS text)"


def _statement(region: str) -> Any:
    return text(
        f"SELECT set_config('nengli.region', COALESCE({region}, ''), true), "
        "set_config('role', :role, true)"
    )


_STATEMENTS = {role: _statement(region) for role, region in _REGION_OF.items()}
_NOTHING = _statement(_NO_REGION)


def scope_session(session: Session, role: str, scope: str | None) -> None:
    """Run ``session``'s PostgreSQL transactions as :data:`API_ROLE` limited to the caller's region.

    ``role`` and ``scope`` are the key's (a role without a region — none today — sees nothing).
    A transaction already open is limited at once.
    """
    session.info[_INFO_KEY] = (role, scope)
    if session.in_transaction():
        _apply(session, session.connection())


def install_row_security(factory: sessionmaker[Session]) -> None:
    """Limit every transaction of ``factory``'s sessions marked by :func:`scope_session`."""

    @event.listens_for(factory, "after_begin")
    def _after_begin(session: Session, _transaction: SessionTransaction, connection: Any) -> None:
        _apply(session, connection)


_driver_statements: dict[str, DriverQuery] = {}


def driver_prelude(
    engine: Engine, role: str, scope: str | None
) -> tuple[DriverQuery, dict[str, Any]] | None:
    """The same limit for a :class:`DriverQuery` on a raw cursor (the recommendation hot path).

    None on SQLite. Pass it as ``prelude`` to :meth:`DriverQuery.rows`.
    """
    if engine.dialect.name != "postgresql":
        return None
    statement = _STATEMENTS.get(role, _NOTHING)
    key = role if role in _STATEMENTS else ""
    query = _driver_statements.get(key)
    if query is None:
        query = _driver_statements[key] = DriverQuery(engine, statement)
    return query, {"role": API_ROLE, "scope": scope or "", "all": ALL_REGIONS}


def _apply(session: Session, connection: Connection) -> None:
    marked = session.info.get(_INFO_KEY)
    if marked is None or connection.dialect.name != "postgresql":
        return
    role, scope = marked
    connection.execute(
        _STATEMENTS.get(role, _NOTHING),
        {"role": API_ROLE, "scope": scope or "", "all": ALL_REGIONS},
    )
