"""``AsyncStatements``: the hot path's prepared statements awaited on the event loop (psycopg)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError, ProgrammingError

from service.db.async_driver import AsyncStatements
from service.db.engine import make_engine


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    made = make_engine(database_url, pre_ping=False)
    if made.dialect.driver != "psycopg":
        made.dispose()
        pytest.skip("asyncio connections are psycopg's (PostgreSQL)")
    yield made
    made.dispose()


def test_parameters_and_rows_round_trip_as_psycopg_adapts_them(engine: Engine) -> None:
    statements = AsyncStatements(engine, 2)
    now = datetime.now(UTC)

    async def call() -> list[tuple[object, ...]]:
        try:
            return await statements.rows(
                "SELECT %s::text, %s::boolean, %s::text, %s::text[], %s::timestamptz[], "
                "%s::double precision",
                ("it's 100%", True, None, ["a", None, 'x"y,{}'], [now], 0.25),
            )
        finally:
            await statements.aclose()

    assert asyncio.run(call()) == [("it's 100%", True, None, ["a", None, 'x"y,{}'], [now], 0.25)]


def test_the_connections_are_per_loop_and_at_most_size_at_once(engine: Engine) -> None:
    statements = AsyncStatements(engine, 2)

    async def backends() -> set[int]:
        # The sleep keeps each connection busy, so ten calls need more than two at once.
        rows = await asyncio.gather(
            *(statements.rows("SELECT pg_backend_pid() FROM pg_sleep(0.02)", ()) for _ in range(10))
        )
        return {row[0][0] for row in rows}

    first = asyncio.run(backends())
    second = asyncio.run(backends())  # a new loop (as a second TestClient starts) opens its own
    statements.close()
    assert len(first) == 2 and len(second) == 2


def test_a_connection_the_server_closed_is_replaced(engine: Engine) -> None:
    statements = AsyncStatements(engine, 1)

    async def scenario() -> tuple[int, int]:
        first = (await statements.rows("SELECT pg_backend_pid()", ()))[0][0]
        with engine.begin() as connection:
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
        await asyncio.sleep(0.2)  # the server's goodbye reaches the idle connection
        second = (await statements.rows("SELECT pg_backend_pid()", ()))[0][0]
        await statements.aclose()
        return first, second

    first, second = asyncio.run(scenario())
    assert second != first


def test_a_write_commits_by_itself_and_errors_are_sqlalchemys(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS async_driver_probe"))
        connection.execute(text("CREATE TABLE async_driver_probe (value text)"))
    statements = AsyncStatements(engine, 1)

    async def scenario() -> None:
        await statements.execute(
            "INSERT INTO async_driver_probe SELECT * FROM unnest(%s::text[])", (["a", "b"],)
        )
        with pytest.raises(ProgrammingError, match="no_such_table_here"):
            await statements.rows("SELECT * FROM no_such_table_here", ())
        with pytest.raises(DBAPIError):  # all or nothing: the failing row takes the others
            await statements.execute(
                "INSERT INTO async_driver_probe SELECT * FROM unnest(%s::text[]) "
                "WHERE 1 / (CASE WHEN unnest = 'bad' THEN 0 ELSE 1 END) = 1",
                (["c", "bad"],),
            )
        assert await statements.rows("SELECT 1", ()) == [(1,)]  # usable after the errors
        await statements.aclose()

    try:
        asyncio.run(scenario())
        with engine.connect() as connection:  # another connection sees the committed rows
            values = connection.execute(text("SELECT value FROM async_driver_probe")).scalars()
            assert sorted(values) == ["a", "b"]
    finally:
        with engine.begin() as connection:
            connection.execute(text("DROP TABLE async_driver_probe"))


def test_an_engine_of_another_driver_is_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    sqlite = make_engine(f"sqlite:///{tmp_path / 'x.sqlite'}")
    with pytest.raises(ValueError, match="psycopg"):
        AsyncStatements(sqlite, 1)
    sqlite.dispose()


def test_loops_dropped_without_aclose_leave_no_server_connection_open(
    engine: Engine, database_url: str
) -> None:
    """``asyncio.run`` per call (or a test client's portal per request) drops its loop without
    ``aclose``: that loop's connections must be closed on the server, not kept until the process
    ends (they had filled the server's 100 connections during the test suite)."""
    import gc
    import uuid

    name = f"nengli-leak-{uuid.uuid4().hex[:8]}"
    separator = "&" if "?" in database_url else "?"
    tagged = make_engine(f"{database_url}{separator}application_name={name}", pre_ping=False)
    statements = AsyncStatements(tagged, 3)

    async def busy() -> None:  # three connections at once on this loop
        await asyncio.gather(*(statements.rows("SELECT pg_sleep(0.02)", ()) for _ in range(3)))

    for _ in range(5):
        asyncio.run(busy())
    gc.collect()  # the last loop too is gone now; nothing else refers to it

    def still_open() -> int:
        with engine.connect() as connection:
            return int(
                connection.execute(
                    text("SELECT count(*) FROM pg_stat_activity WHERE application_name = :n"),
                    {"n": name},
                ).scalar_one()
            )

    deadline = datetime.now(UTC).timestamp() + 5  # the server notices a closed socket at once
    while still_open() and datetime.now(UTC).timestamp() < deadline:
        asyncio.run(asyncio.sleep(0.05))
    assert still_open() == 0
    statements.close()
    tagged.dispose()
