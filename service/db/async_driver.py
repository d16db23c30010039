"""One-statement calls of the hot path on psycopg's asyncio connections, on the event loop.

The recommendation request of a known teacher is one prepared ``SELECT`` (migration 0015's
``nengli_list_rows``) and, for its read audit, one share of a group-committed ``INSERT``.
Sent from a worker thread, each of them cost two thread hand-offs (the request's task to the
pool and back, plus the wake-ups of the pool's queue) and the SQLAlchemy pool's checkout and
checkin around a round trip that PostgreSQL answers in a fraction of that time: profiled at
about half of the request's server CPU (docs/benchmarks.md, section service, 2026-12-04).
:class:`AsyncStatements` keeps a few ``psycopg.AsyncConnection`` per event loop instead and
awaits the round trip on the loop itself.

An asyncio connection belongs to the loop that opened it, so connections are kept per loop (a
test may drive one app from several loops in turn); a loop's connections are closed by
:meth:`AsyncStatements.aclose` on that loop, and those of a loop found closed are released
without it. No ``psycopg_pool``: a fixed set handed out through a queue is all this needs.
"""

from __future__ import annotations

import asyncio
import re
import select
import weakref
from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg import abc, pq
from psycopg.adapt import PyFormat, Transformer
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

__all__ = ["AsyncStatements"]


class _LoopConnections:
    """The connections of one event loop: idle ones in a queue, at most ``size`` open."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.opened = 0
        self.idle: asyncio.LifoQueue[psycopg.AsyncConnection[Any]] = asyncio.LifoQueue()
        self.all: set[psycopg.AsyncConnection[Any]] = set()
        #: Per open connection: the server-side name of each statement prepared on it, and the
        #: adapters' transformer its calls use (one call at a time on a connection). Kept here,
        #: not in a module-level map keyed by the connection: the transformer refers to its
        #: connection, so such a map would never let a connection go.
        self.prepared: dict[psycopg.AsyncConnection[Any], tuple[dict[str, bytes], abc.Transformer]]
        self.prepared = {}


class AsyncStatements:
    """Prepared statements on up to ``size`` autocommit asyncio connections per event loop.

    Parameters
    ----------
    engine
        A psycopg engine; its URL (database, user, ``options`` such as the search path) is
        what the connections connect to, so they reach the same schema as the engine's.
    size
        Connections kept per event loop. A call that finds them all busy waits for one, as
        a fixed SQLAlchemy pool would: the database, on the same cores, would not answer
        more calls at once faster.

    Each statement is its own transaction (autocommit) and is prepared on the server once
    per connection. A connection the server closed meanwhile (a restart) is replaced and the
    statement sent once more on the new one, as :func:`service.db.driver_query.run_prepared`
    does; callers only send statements for which that is safe (a read, or a write that fails
    as a whole before it commits). A driver error is raised as SQLAlchemy's
    :class:`~sqlalchemy.exc.DBAPIError` subclass, like every other query's (a lost database
    is then 503).
    """

    def __init__(self, engine: Engine, size: int) -> None:
        if engine.dialect.driver != "psycopg":
            raise ValueError(f"AsyncStatements needs a psycopg engine, not {engine.dialect.driver}")
        args, kwargs = engine.dialect.create_connect_args(engine.url)
        self._conninfo: str = args[0] if args else ""
        self._connect_kwargs: dict[str, Any] = dict(kwargs)
        self._size = size
        self._loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopConnections]
        self._loops = weakref.WeakKeyDictionary()

    async def rows(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        """All rows of the read ``sql`` (``%s`` placeholders) for ``params``.

        Sent once more on a new connection when the server had closed the one used.
        """
        return await self._run(sql, params, fetch=True, attempts=2)

    async def execute(self, sql: str, params: Sequence[Any]) -> None:
        """Run the write ``sql`` for ``params``; it has committed when this returns.

        Never sent twice: if the connection is lost mid-call, the write may have committed
        and only its answer been lost, and a second copy would be committed too.
        """
        await self._run(sql, params, fetch=False, attempts=1)

    async def _run(
        self, sql: str, params: Sequence[Any], *, fetch: bool, attempts: int
    ) -> list[tuple[Any, ...]]:
        connections = self._for_loop()
        for attempt in range(1, attempts + 1):
            connection = await self._checkout(connections)
            try:
                fetched = await _prepared_call(connections, connection, sql, params, fetch)
            except psycopg.Error as error:
                lost = connection.broken or connection.closed
                self._discard(connections, connection)
                if attempt < attempts and lost and isinstance(error, psycopg.OperationalError):
                    continue  # the server closed it meanwhile: once more on a new connection
                raise DBAPIError.instance(sql, params, error, psycopg.Error) from error
            except BaseException:
                # Cancelled (or worse) mid-round-trip: the connection's state is unknown.
                self._discard(connections, connection)
                raise
            connections.idle.put_nowait(connection)
            return fetched
        raise AssertionError("unreachable")  # pragma: no cover

    def _for_loop(self) -> _LoopConnections:
        loop = asyncio.get_running_loop()
        connections = self._loops.get(loop)
        if connections is None:
            for other, kept in list(self._loops.items()):
                if other.is_closed():  # a finished test loop: its connections cannot be awaited
                    _finish(kept)
                    self._loops.pop(other, None)
            connections = self._loops[loop] = _LoopConnections(self._size)
            # A loop that is dropped without aclose() (asyncio.run per call, a test client's
            # portal) would otherwise keep its server connections open until the process ends.
            weakref.finalize(loop, _finish, connections)
        return connections

    async def _checkout(self, connections: _LoopConnections) -> psycopg.AsyncConnection[Any]:
        if connections.idle.empty() and connections.opened < connections.size:
            connections.opened += 1
            try:
                connection = await psycopg.AsyncConnection.connect(
                    self._conninfo, autocommit=True, **self._connect_kwargs
                )
            except psycopg.Error as error:
                connections.opened -= 1
                raise DBAPIError.instance(None, None, error, psycopg.Error) from error
            except BaseException:
                connections.opened -= 1
                raise
            connections.all.add(connection)
            return connection
        while True:
            connection = await connections.idle.get()
            if not _closed_by_server(connection):
                return connection
            self._discard(connections, connection)
            if connections.idle.empty():
                return await self._checkout(connections)

    @staticmethod
    def _discard(connections: _LoopConnections, connection: psycopg.AsyncConnection[Any]) -> None:
        connections.opened -= 1
        connections.all.discard(connection)
        connections.prepared.pop(connection, None)
        connection.pgconn.finish()  # no round trip: the connection may be dead or mid-query

    async def aclose(self) -> None:
        """Close the running loop's connections (and release those of closed loops)."""
        loop = asyncio.get_running_loop()
        connections = self._loops.pop(loop, None)
        if connections is not None:
            for connection in list(connections.all):
                await connection.close()
            connections.all.clear()
            connections.prepared.clear()
        self.close()

    def close(self) -> None:
        """Release every connection still kept without awaiting (no loop needed)."""
        for connections in list(self._loops.values()):
            _finish(connections)
        self._loops.clear()


_PLACEHOLDER = re.compile(r"%s")


async def _prepared_call(
    connections: _LoopConnections,
    connection: psycopg.AsyncConnection[Any],
    sql: str,
    params: Sequence[Any],
    fetch: bool,
) -> list[tuple[Any, ...]]:
    """``sql`` for ``params`` as one prepared statement, on libpq directly.

    psycopg's asyncio cursor (its query conversion, per-call cursor, result machinery) was
    the largest part of the request's client CPU once the thread hops were gone; the same
    round trip through the connection's libpq object and psycopg's own adapters (parameters
    dumped as text, the row loaded from binary) costs about half of it. The statement is
    prepared on the connection at its first use (one round trip, once).
    """
    kept = connections.prepared.get(connection)
    if kept is None:
        kept = connections.prepared[connection] = ({}, Transformer(connection))
    names, transformer = kept
    name = names.get(sql)
    pgconn = connection.pgconn
    if name is None:
        name = f"nengli_{len(names)}".encode()
        numbered = iter(range(1, sql.count("%s") + 1))
        pgconn.send_prepare(name, _PLACEHOLDER.sub(lambda _: f"${next(numbered)}", sql).encode())
        await _results(connection)
        names[sql] = name
    values = transformer.dump_sequence(params, [PyFormat.TEXT] * len(params))
    pgconn.send_query_prepared(name, values, result_format=pq.Format.BINARY)
    result = await _results(connection)
    if not fetch or result.ntuples == 0:
        return []
    transformer.set_pgresult(result)
    return transformer.load_rows(0, result.ntuples, tuple)


async def _results(connection: psycopg.AsyncConnection[Any]) -> pq.abc.PGresult:
    """Flush what was sent, wait for every result of it; the last one (raised if an error)."""
    pgconn = connection.pgconn
    loop = asyncio.get_running_loop()
    while pgconn.flush():  # a non-blocking connection: the rest once the socket takes it
        await _ready(loop, pgconn.socket, write=True)
    results: list[pq.abc.PGresult] = []
    while True:
        pgconn.consume_input()
        while not pgconn.is_busy():
            result = pgconn.get_result()
            if result is None:
                for got in results:
                    if got.status == pq.ExecStatus.FATAL_ERROR:
                        raise psycopg.errors.error_from_result(
                            got, encoding=connection.info.encoding
                        )
                return results[-1]
            results.append(result)
        await _ready(loop, pgconn.socket, write=False)


async def _ready(loop: asyncio.AbstractEventLoop, fd: int, *, write: bool) -> None:
    ready: asyncio.Future[None] = loop.create_future()

    def wake() -> None:
        if not ready.done():
            ready.set_result(None)

    if write:
        loop.add_writer(fd, wake)
    else:
        loop.add_reader(fd, wake)
    try:
        await ready
    finally:
        if write:
            loop.remove_writer(fd)
        else:
            loop.remove_reader(fd)


def _closed_by_server(connection: psycopg.AsyncConnection[Any]) -> bool:
    """Whether an idle connection has been ended by the server, without a round trip.

    An idle connection of ours has nothing to read (no ``LISTEN``); a server that ends it (a
    restart, an administrator) sends its last message and closes the socket, which then
    reads. This is the pool's pre-ping without the ``SELECT 1``.
    """
    if connection.closed or connection.broken:
        return True
    readable, _, _ = select.select([connection.pgconn.socket], [], [], 0)
    return bool(readable)


def _finish(connections: _LoopConnections) -> None:
    for connection in list(connections.all):
        connection.pgconn.finish()
    connections.all.clear()
    connections.prepared.clear()
    connections.opened = 0
