"""One-statement reads on the event loop: psycopg's async connections, a few per event loop.

The recommendation request's read is one prepared call (migration 0014). From a worker
thread it cost the server about twice the client CPU of the same call awaited on the event
loop (the thread-pool hop, the pool's locks, the GIL hand-over: docs/benchmarks.md,
2026-12-04), so on PostgreSQL with psycopg the route awaits it here instead.

Connections belong to the event loop that opened them (a test may drive one app from several
loops in turn), at most ``size`` per loop, in autocommit: each statement is its own
transaction, so a connection goes back idle with no transaction open. A connection the server
closed is replaced once and the read sent again (it changes nothing), as
:func:`service.db.driver_query.run_together` does; a read that fails otherwise or is
cancelled closes its connection, since its state is then unknown. Driver errors are raised as
SQLAlchemy's (a lost database is answered 503 as everywhere else).
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

__all__ = ["AsyncReads"]


class _LoopConnections:
    def __init__(self, size: int) -> None:
        self.idle: list[Any] = []
        self.slots = asyncio.Semaphore(size)


class AsyncReads:
    """Prepared one-statement reads for ``engine``'s database (PostgreSQL, psycopg)."""

    def __init__(self, engine: Engine, size: int) -> None:
        assert engine.dialect.driver == "psycopg", "async reads are psycopg's"
        self._connect_args, self._connect_kwargs = engine.dialect.create_connect_args(engine.url)
        self._size = size
        self._loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopConnections]
        self._loops = weakref.WeakKeyDictionary()

    async def rows(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        """The rows of ``sql`` (``%s`` placeholders) for ``params``, prepared per connection."""
        import psycopg

        loop = asyncio.get_running_loop()
        connections = self._loops.get(loop)
        if connections is None:
            connections = self._loops[loop] = _LoopConnections(self._size)
        async with connections.slots:
            for attempt in (1, 2):
                connection = connections.idle.pop() if connections.idle else None
                try:
                    if connection is None:
                        connection = await psycopg.AsyncConnection.connect(
                            *self._connect_args, autocommit=True, **self._connect_kwargs
                        )
                    async with connection.cursor() as cursor:
                        await cursor.execute(sql, params, prepare=True)
                        rows = [tuple(row) for row in await cursor.fetchall()]
                except psycopg.Error as error:
                    broken = connection is None or connection.broken
                    if connection is not None:
                        await connection.close()
                    if attempt == 1 and broken and isinstance(error, psycopg.OperationalError):
                        continue  # the server closed it (a restart): once more, on a new one
                    raise DBAPIError.instance(sql, params, error, psycopg.Error) from error
                except BaseException:  # cancelled mid-read: the connection's state is unknown
                    if connection is not None:
                        await connection.close()
                    raise
                connections.idle.append(connection)
                return rows
        raise AssertionError("unreachable")  # pragma: no cover

    async def close(self) -> None:
        """Close the idle connections of the running event loop (at the app's shutdown)."""
        connections = self._loops.pop(asyncio.get_running_loop(), None)
        if connections is not None:
            for connection in connections.idle:
                await connection.close()
            connections.idle.clear()
