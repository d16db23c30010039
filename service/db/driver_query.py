"""A Core statement compiled once for the engine's driver and run on a plain DBAPI cursor.

For the few queries on the hottest request path: SQLAlchemy's execution context (parameter
processing, result wrapping) costs several times the indexed lookup it runs, while the driver
cursor costs only the lookup. The statement is still written with SQLAlchemy, so it stays
portable; only its execution is unwrapped.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import nullcontext
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

__all__ = ["DriverQuery", "run_together"]


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

    On psycopg the statements and the commit go in one pipeline, so the whole read is one
    round trip to the server instead of one per statement plus ``BEGIN`` and the pool's
    ``ROLLBACK`` (the round trips, not the indexed lookups, were most of the recommendation
    request on PostgreSQL: docs/benchmarks.md). Other drivers run them one after the other.
    The transaction ends here, so the prelude's ``SET LOCAL`` settings end with it.
    """
    connection = engine.raw_connection()
    try:
        driver = connection.driver_connection
        pipelined = engine.dialect.driver == "psycopg" and hasattr(driver, "pipeline")
        cursors = []
        fetched: list[list[tuple[Any, ...]]] = []
        try:
            with driver.pipeline() if pipelined else nullcontext():  # type: ignore[union-attr]
                if prelude is not None:
                    cursor = connection.cursor()
                    cursors.append(cursor)
                    cursor.execute(prelude[0].sql, prelude[0].arguments(prelude[1]))
                for query, params in queries:
                    cursor = connection.cursor()
                    cursors.append(cursor)
                    cursor.execute(query.sql, query.arguments(params))
                    if not pipelined:
                        fetched.append([tuple(row) for row in cursor.fetchall()])
                connection.commit()
            if pipelined:  # the results arrived with the pipeline's sync
                results = cursors[1:] if prelude is not None else cursors
                fetched = [[tuple(row) for row in cursor.fetchall()] for cursor in results]
            return fetched
        finally:
            for cursor in cursors:
                cursor.close()
    finally:
        connection.close()  # back to the pool, the transaction already ended
