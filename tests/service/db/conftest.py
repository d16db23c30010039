"""Fixtures of the database tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Connection


@pytest.fixture
def pg(client) -> Iterator[Connection]:  # type: ignore[no-untyped-def]
    """A connection of the app's engine as the schema owner, rolled back after the test.

    Partitions, roles, row-level security and planner statistics are PostgreSQL's: on the
    SQLite variant of ``client`` the test is skipped.
    """
    engine = client.app.state.nengli.engine
    if engine.dialect.name != "postgresql":
        pytest.skip("partitions, roles and row-level security exist on PostgreSQL only")
    with engine.connect() as connection:
        yield connection
        connection.rollback()
