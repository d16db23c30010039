"""A Core statement compiled once for the engine's driver and run on a plain DBAPI cursor.

For the few queries on the hottest request path: SQLAlchemy's execution context (parameter
processing, result wrapping) costs several times the indexed lookup it runs, while the driver
cursor costs only the lookup. The statement is still written with SQLAlchemy, so it stays
portable; only its execution is unwrapped.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

__all__ = ["DriverQuery"]


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

    def rows(self, engine: Engine, **params: Any) -> list[tuple[Any, ...]]:
        """All result rows for ``params`` (a pooled connection, returned at once)."""
        values = {**self._defaults, **params}
        arguments: Any = (
            tuple(values[name] for name in self._order) if self._order is not None else values
        )
        connection = engine.raw_connection()
        try:
            cursor = connection.cursor()
            try:
                cursor.execute(self.sql, arguments)
                return [tuple(row) for row in cursor.fetchall()]
            finally:
                cursor.close()
        finally:
            connection.close()  # back to the pool, which ends the read transaction
