"""``run_together``: the statements of one read in one transaction (one round trip on psycopg)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, bindparam, literal, select, text
from sqlalchemy.exc import DBAPIError

from service.db.driver_query import DriverQuery, run_prepared, run_together
from service.db.engine import make_engine


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    # No pre-ping, as the recommendation read's pool; calls one after the other reuse one
    # pooled connection.
    made = make_engine(database_url, pre_ping=False)
    yield made
    made.dispose()


def test_each_statement_keeps_its_own_parameters(engine: Engine) -> None:
    pair = DriverQuery(engine, select(bindparam("value"), literal("100%")))
    out = run_together(engine, None, [(pair, {"value": "it's"}), (pair, {"value": "b"})])
    assert out == [[("it's", "100%")], [("b", "100%")]]


def test_the_prelude_holds_for_the_read_and_ends_with_it(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("transaction-local settings exist on PostgreSQL only")
    prelude = DriverQuery(engine, text("SELECT set_config('nengli.test_setting', :value, true)"))
    setting = DriverQuery(engine, select(text("current_setting('nengli.test_setting', true)")))
    inside = run_together(engine, (prelude, {"value": "on"}), [(setting, {})])
    after = run_together(engine, None, [(setting, {})])
    assert inside == [[("on",)]] and after[0][0][0] in (None, "")


def test_a_connection_the_server_closed_is_replaced(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("a server that closes connections is PostgreSQL")
    backend = DriverQuery(engine, select(text("pg_backend_pid()")))
    first = run_together(engine, None, [(backend, {})])[0][0][0]
    killer = make_engine(engine.url.render_as_string(hide_password=False))
    try:
        with killer.begin() as connection:
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
    finally:
        killer.dispose()
    # The pooled connection is dead and no pre-ping looked at it: the read is sent again.
    second = run_together(engine, None, [(backend, {})])[0][0][0]
    assert second != first


def test_run_prepared_reads_in_one_statement_and_raises_sqlalchemys_errors(engine: Engine) -> None:
    if engine.dialect.driver != "psycopg":
        pytest.skip("prepared statements are psycopg's")
    assert run_prepared(engine, "SELECT %s::text || 'x'", ("a",)) == [("ax",)]
    with pytest.raises(DBAPIError):
        run_prepared(engine, "SELECT * FROM no_such_table_here", ())
    # The pooled connection is usable after the error (autocommit: nothing left to roll back).
    assert run_prepared(engine, "SELECT 1", ()) == [(1,)]
