"""PostgreSQL schema of migration 0007: lists partitioned by region, row-level security by region.

Row-level security is the second line behind the service's tenancy check: a session of the
``nengli_api`` role (neither superuser nor owner) that has set ``nengli.region`` reads no row of
another region, whatever its query says.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Connection, text

from tests.service.conftest import OTHER_REGION, REGION, World

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg(client) -> Iterator[Connection]:  # type: ignore[no-untyped-def]
    engine = client.app.state.nengli.engine
    if engine.dialect.name != "postgresql":
        pytest.skip("partitions and row-level security exist on PostgreSQL only")
    with engine.connect() as connection:
        yield connection
        connection.rollback()


@contextmanager
def _as_api_role(connection: Connection, region: str | None) -> Iterator[None]:
    transaction = connection.begin()
    connection.execute(text("SET LOCAL ROLE nengli_api"))
    if region is not None:
        connection.execute(text("SELECT set_config('nengli.region', :r, true)"), {"r": region})
    try:
        yield
    finally:
        transaction.rollback()


def test_list_table_is_partitioned_by_region(pg: Connection) -> None:
    strategy = pg.execute(
        text(
            "SELECT p.partstrat, a.attname FROM pg_partitioned_table p "
            "JOIN pg_class c ON c.oid = p.partrelid "
            "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = p.partattrs[0] "
            "WHERE c.relname = 'recommendation_lists' AND c.relnamespace = current_schema()::regnamespace"
        )
    ).one()
    assert tuple(strategy) == ("l", "region")
    partitions = set(
        pg.execute(
            text(
                "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'recommendation_lists' "
                "AND p.relnamespace = current_schema()::regnamespace"
            )
        ).scalars()
    )
    assert "recommendation_lists_default" in partitions


@pytest.mark.parametrize(
    "table", ["schools", "teachers", "events", "grades", "responses", "recommendation_lists"]
)
def test_row_level_security_is_on(pg: Connection, table: str) -> None:
    enabled = pg.execute(
        text(
            "SELECT relrowsecurity FROM pg_class WHERE relname = :t "
            "AND relnamespace = current_schema()::regnamespace"
        ),
        {"t": table},
    ).scalar()
    assert enabled is True


def test_a_session_set_to_another_region_reads_nothing_of_this_one(
    pg: Connection, world: World
) -> None:
    checks = {
        "schools": ("SELECT count(*) FROM schools WHERE region = :r", {"r": REGION}),
        "teachers": ("SELECT count(*) FROM teachers WHERE teacher_id = :t", {"t": world.teacher}),
        "events": (
            "SELECT count(*) FROM events WHERE teacher_id = :t",
            {"t": world.sibling_teacher},
        ),
        "responses": (
            "SELECT count(*) FROM responses WHERE teacher_id IN "
            "(SELECT teacher_id FROM teachers WHERE school_id = 'S000003')",
            {},
        ),
    }
    with _as_api_role(pg, REGION):
        own = {
            name: pg.execute(text(sql), params).scalar() for name, (sql, params) in checks.items()
        }
    assert own["schools"] > 0 and own["teachers"] == 1 and own["responses"] > 0
    with _as_api_role(pg, OTHER_REGION):
        foreign = {
            name: pg.execute(text(sql), params).scalar() for name, (sql, params) in checks.items()
        }
        own_school = pg.execute(
            text("SELECT count(*) FROM schools WHERE school_id = :s"), {"s": world.foreign_school}
        ).scalar()
    assert foreign == dict.fromkeys(checks, 0)
    assert own_school == 1  # the session's own region stays visible


def test_without_a_region_the_role_sees_every_region(pg: Connection) -> None:
    with _as_api_role(pg, None):
        regions = set(pg.execute(text("SELECT DISTINCT region FROM schools")).scalars())
    assert {REGION, OTHER_REGION} <= regions
