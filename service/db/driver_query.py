"""A Core statement compiled once for the engine's driver and run on a plain DBAPI cursor.

For the few queries on the hottest request path: SQLAlchemy's execution context (parameter
processing, result wrapping) costs several times the indexed lookup it runs, while the driver
cursor costs only the lookup. The statement is still written with SQLAlchemy, so it stays
portable; only its execution is unwrapped.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

__all__ = ["DriverQuery", "run_prepared", "run_together"]


class DriverQuery:
    """``statement`` compiled for ``engine``'s dialect; :meth:`rows` runs it.

    Parameters
    ----------
    engine
        Whose dialect decides the SQL text and parameter style.
    statement
        A Core ``SELECT`` whose parameters are ``bindparam`` names (literals are kept).
    """

    def __init__(self, engine: Engine, statement: ClauseElement) -> None:
        compiled = statement.compile(dialect=engine.dialect)
        assert isinstance(compiled, SQLCompiler)
        self.sql = str(compiled)
        self._defaults = dict(compiled.params)
        self._order = list(compiled.positiontup or []) if compiled.positional else None

    def arguments(self, params: dict[str, Any]) -> Any:
        """The driver's arguments for ``params`` (a tuple or a mapping, by parameter style)."""
        values = {**self._defaults, **params}
        return tuple(values[name] for name in self._order) if self._order is not None else values

    def rows(
        self,
        engine: Engine,
        prelude: tuple[DriverQuery, dict[str, Any]] | None = None,
        **params: Any,
    ) -> list[tuple[Any, ...]]:
        """All result rows for ``params`` (a pooled connection, returned at once).

        ``prelude`` runs first in the same transaction (the row-level security settings of
        :func:`service.db.row_security.driver_prelude`).
        """
        connection = engine.raw_connection()
        try:
            cursor = connection.cursor()
            try:
                if prelude is not None:
                    cursor.execute(prelude[0].sql, prelude[0].arguments(prelude[1]))
                cursor.execute(self.sql, self.arguments(params))
                return [tuple(row) for row in cursor.fetchall()]
            finally:
                cursor.close()
        finally:
            connection.close()  # back to the pool, which ends the read transaction


def run_together(
    engine: Engine,
    prelude: tuple[DriverQuery, dict[str, Any]] | None,
    queries: Sequence[tuple[DriverQuery, dict[str, Any]]],
) -> list[list[tuple[Any, ...]]]:
    """The rows of each of ``queries``, run after ``prelude`` in one transaction.

    On psycopg the statements go to the server as one simple-protocol query (parameters bound
    on the client, psycopg's own quoting), which PostgreSQL runs as one implicit transaction:
    one round trip and no ``BEGIN``/``COMMIT`` of their own, and the prelude's ``SET LOCAL``
    settings hold for the statements after it and end with it. (The round trips, not the
    indexed lookups, were most of the recommendation request on PostgreSQL; psycopg's pipeline
    mode gave one round trip too but cost about twice the client CPU of this: see
    docs/benchmarks.md, 2026-12-03.) Other drivers run the statements one after the other in
    one transaction.
    """
    statements = ([prelude] if prelude is not None else []) + list(queries)

    def run(connection: Any) -> list[list[tuple[Any, ...]]]:
        if engine.dialect.driver == "psycopg":
            return _one_simple_query(connection.driver_connection, statements)
        return _one_after_another(connection, statements)

    fetched = _sent_again_once(engine, run)
    return fetched[1:] if prelude is not None else fetched


def run_prepared(engine: Engine, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    """The rows of one psycopg statement ``sql`` (``%s`` placeholders), prepared on the server.

    For the one-statement reads of the hot path (a PL/pgSQL function that does the whole
    read, migration 0014): in autocommit, so the statement is its own transaction and the
    call is one round trip; prepared, so PostgreSQL parses it once per connection (psycopg
    keeps the prepared statement per connection). A connection the server closed is replaced
    once, as in :func:`run_together`.
    """
    assert engine.dialect.driver == "psycopg", "prepared statements are psycopg's"

    def run(connection: Any) -> list[tuple[Any, ...]]:
        driver = connection.driver_connection
        driver.autocommit = True
        try:
            with driver.cursor() as cursor:
                cursor.execute(sql, params, prepare=True)
                return [tuple(row) for row in cursor.fetchall()]
        finally:
            if not driver.closed:
                driver.autocommit = False

    return _sent_again_once(engine, run)


_Result = TypeVar("_Result")


def _sent_again_once(engine: Engine, run: Callable[[Any], _Result]) -> _Result:
    """``run(pooled DBAPI connection)``, once more on a new connection if the old one was closed.

    A driver error is raised as SQLAlchemy's :class:`~sqlalchemy.exc.DBAPIError` subclass.
    """
    for attempt in (1, 2):
        connection = engine.raw_connection()
        try:
            return run(connection)
        except engine.dialect.loaded_dbapi.Error as error:
            # A pooled connection the server closed meanwhile (a restart): the read changes
            # nothing, so it is sent once more on a new connection. This is what the pool's
            # pre-ping would do, without a round trip on every request (an engine made with
            # ``pre_ping=False`` for this path: service.state.ServiceState.read_engine).
            if attempt == 2 or not engine.dialect.is_disconnect(
                error, connection.driver_connection, None
            ):
                # As SQLAlchemy's error, like every other query's (a lost database is 503).
                raise DBAPIError.instance(
                    None, None, error, engine.dialect.loaded_dbapi.Error
                ) from error
            connection.invalidate()
        finally:
            connection.close()  # back to the pool, the transaction already ended
    raise AssertionError("unreachable")  # pragma: no cover


def _one_after_another(
    connection: Any, statements: Sequence[tuple[DriverQuery, dict[str, Any]]]
) -> list[list[tuple[Any, ...]]]:
    cursor = connection.cursor()
    try:
        fetched = []
        for query, params in statements:
            cursor.execute(query.sql, query.arguments(params))
            fetched.append([tuple(row) for row in cursor.fetchall()] if cursor.description else [])
        connection.commit()
        return fetched
    finally:
        cursor.close()


_joined: dict[tuple[str, ...], str] = {}
_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _one_simple_query(
    driver: Any, statements: Sequence[tuple[DriverQuery, dict[str, Any]]]
) -> list[list[tuple[Any, ...]]]:
    """``statements`` as one multi-statement query on psycopg's client-side binding cursor."""
    import psycopg

    texts = tuple(query.sql for query, _ in statements)
    sql = _joined.get(texts)
    if sql is None:
        # Each statement's parameters get their position as a prefix: two statements may use
        # the same name for different values.
        sql = _joined[texts] = "; ".join(
            _PLACEHOLDER.sub(rf"%(s{index}_\1)s", text) for index, text in enumerate(texts)
        )
    arguments: dict[str, Any] = {}
    for index, (query, params) in enumerate(statements):
        values = query.arguments(params)
        arguments.update({f"s{index}_{name}": value for name, value in values.items()})
    # Autocommit: the server runs the statements of one query string as one transaction of
    # their own, so psycopg must not open another around them (a BEGIN round trip).
    driver.autocommit = True
    try:
        with psycopg.ClientCursor(driver) as cursor:
            cursor.execute(sql, arguments)
            fetched = []
            while True:
                fetched.append([tuple(row) for row in cursor.fetchall()])
                if not cursor.nextset():
                    break
    finally:
        if not driver.closed:
            driver.autocommit = False
    if len(fetched) != len(statements):
        raise RuntimeError(f"{len(statements)} statements gave {len(fetched)} results")
    return fetched
