"""``AsyncReads`` and ``run_prepared``: one prepared statement, on the event loop or a pooled
connection; a connection the server closed is replaced once; driver errors are SQLAlchemy's."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError, ProgrammingError

from service.db.async_read import AsyncReads
from service.db.driver_query import run_prepared
from service.db.engine import make_engine


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    if not database_url.startswith("postgresql+psycopg"):
        pytest.skip("prepared psycopg statements need PostgreSQL")
    made = make_engine(database_url, pre_ping=False)
    yield made
    made.dispose()


def _terminate(engine: Engine, pid: int) -> None:
    killer = make_engine(engine.url.render_as_string(hide_password=False))
    try:
        with killer.begin() as connection:
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        killer.dispose()


def test_async_reads_reuse_a_connection_and_replace_a_closed_one(engine: Engine) -> None:
    reads = AsyncReads(engine, size=2)

    async def scenario() -> tuple[int, int, int, list[tuple[object, ...]]]:
        first = (await reads.rows("SELECT pg_backend_pid()", ()))[0][0]
        again = (await reads.rows("SELECT pg_backend_pid()", ()))[0][0]
        _terminate(engine, int(first))
        # The idle connection is dead: the read is sent once more on a new one.
        replaced = (await reads.rows("SELECT pg_backend_pid()", ()))[0][0]
        # Parameters are bound by the server (a quote needs no escaping).
        status = await reads.rows("SELECT %s::text, %s::int", ("a'b", 3))
        await reads.close()
        return int(first), int(again), int(replaced), status

    first, again, replaced, status = asyncio.run(scenario())
    assert first == again != replaced
    assert status == [("a'b", 3)]


def test_async_reads_raise_sqlalchemys_errors(engine: Engine) -> None:
    reads = AsyncReads(engine, size=1)

    async def scenario() -> None:
        try:
            await reads.rows("SELECT * FROM no_such_table_here", ())
        finally:
            await reads.close()

    with pytest.raises(ProgrammingError, match="no_such_table_here"):
        asyncio.run(scenario())


def test_run_prepared_reads_and_writes_in_one_statement(engine: Engine) -> None:
    assert run_prepared(engine, "SELECT %s::text || 'x'", ("a",)) == [("ax",)]
    with pytest.raises(DBAPIError):
        run_prepared(engine, "SELECT * FROM no_such_table_here", ())
    # The pooled connection is usable after the error (autocommit: nothing left to roll back).
    assert run_prepared(engine, "SELECT 1", ()) == [(1,)]
