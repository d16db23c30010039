"""A refresh made by a request leaves the aggregate tables with real planner statistics.

The API's transactions run as ``nengli_api``, which does not own the aggregate tables:
PostgreSQL skips a plain ``ANALYZE`` from it with a warning, so the planner went on believing
the tables empty and planned nested loops over a province (seconds to minutes at 1,000,000
teachers, docs/benchmarks.md). ``nengli_analyze`` (migration 0010) analyzes as the owner, and
only the aggregate tables — since 0011 also their partitions, and a refresh analyzes the
region's partition of ``teacher_progress`` (partitioned by region) rather than the parent.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from service.db.partitions import partition_name
from tests.service.conftest import REGION, Keys, World

pytestmark = pytest.mark.postgres


#: What a refresh rewrites: ``teacher_progress`` in the region's partition (0011).
_REFRESHED = ("school_progress", partition_name("teacher_progress", REGION), "school_monthly")


def _planner_rows(pg: Connection, table: str) -> float:
    """The planner's row estimate of ``table``: -1 until it is first analyzed (PostgreSQL 14+).

    ANALYZE writes it in place, so it is visible at once and survives a rollback.
    """
    return float(
        pg.execute(
            text("SELECT reltuples FROM pg_class WHERE oid = CAST(:t AS regclass)"), {"t": table}
        ).scalar_one()
    )


def _rows(pg: Connection, table: str) -> int:
    return int(pg.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


@pytest.fixture
def no_autovacuum(pg: Connection) -> Iterator[None]:
    """Keep autovacuum from analyzing the tables behind the test's back."""
    for table in _REFRESHED:
        pg.execute(text(f"ALTER TABLE {table} SET (autovacuum_enabled = false)"))
    pg.commit()
    yield
    for table in _REFRESHED:
        pg.execute(text(f"ALTER TABLE {table} RESET (autovacuum_enabled)"))
    pg.commit()


def _forget_statistics(pg: Connection, table: str) -> None:
    """Set ``table``'s row estimate back to "never analyzed" (owner only; test set-up)."""
    pg.execute(
        text("UPDATE pg_class SET reltuples = -1 WHERE oid = CAST(:t AS regclass)"), {"t": table}
    )
    pg.commit()


def test_a_plain_analyze_from_the_api_role_is_skipped(pg: Connection, world: World) -> None:
    # Why the function exists: as nengli_api, ANALYZE is a warning, not statistics.
    notices: list[str] = []
    pg.connection.driver_connection.add_notice_handler(  # type: ignore[union-attr]
        lambda diagnostic: notices.append(str(diagnostic.message_primary))
    )
    pg.execute(text("SET LOCAL ROLE nengli_api"))
    pg.execute(text("ANALYZE school_progress"))
    pg.rollback()
    assert any("school_progress" in notice and "skipping" in notice for notice in notices)
    notices.clear()
    pg.execute(text("SET LOCAL ROLE nengli_api"))
    pg.execute(text("SELECT nengli_analyze(ARRAY['school_progress'])"))
    pg.rollback()
    assert not notices
    assert _planner_rows(pg, "school_progress") == _rows(pg, "school_progress")


def test_the_function_analyzes_aggregate_tables_only(pg: Connection, world: World) -> None:
    pg.execute(text("SET LOCAL ROLE nengli_api"))
    with pytest.raises(DBAPIError, match="not an aggregate table"):
        pg.execute(text("SELECT nengli_analyze(ARRAY['school_progress', 'teachers'])"))


def test_the_function_analyzes_partitions_of_aggregate_tables_only(
    pg: Connection, world: World
) -> None:
    pg.execute(text("SET LOCAL ROLE nengli_api"))
    own = partition_name("teacher_mastery", REGION)
    pg.execute(text("SELECT nengli_analyze(CAST(:t AS text[]))"), {"t": [own]})
    pg.rollback()
    pg.execute(text("SET LOCAL ROLE nengli_api"))
    with pytest.raises(DBAPIError, match="not an aggregate table"):
        pg.execute(
            text("SELECT nengli_analyze(CAST(:t AS text[]))"),
            {"t": [partition_name("events", REGION)]},
        )


def test_a_refresh_made_by_a_request_analyzes_what_it_rewrote(
    client, pg: Connection, keys: Keys, world: World, no_autovacuum: None
) -> None:  # type: ignore[no-untyped-def]
    for table in _REFRESHED:
        _forget_statistics(pg, table)
    # A new completion marks its school stale, so the next region read refreshes it.
    item = sorted(client.app.state.nengli.catalog_item_ids)[0]
    event = {
        "event_id": f"statistics-{uuid.uuid4().hex[:8]}",
        "teacher_id": world.teacher,
        "event": "complete",
        "item_id": item,
        "timestamp": "2026-11-30T08:00:00+08:00",
    }
    recorded = client.post("/v1/events", json={"events": [event]}, headers=keys.header("platform"))
    assert recorded.status_code == 200, recorded.text
    response = client.get(f"/v1/regions/{REGION}/progress", headers=keys.header("platform"))
    assert response.status_code == 200, response.text
    for table in _REFRESHED:
        assert _planner_rows(pg, table) == _rows(pg, table) > 0, table


def test_a_stored_diagnosis_analyzes_its_regions_mastery_partition(
    client, pg: Connection, keys: Keys, world: World
) -> None:  # type: ignore[no-untyped-def]
    partition = partition_name("teacher_mastery", REGION)
    pg.execute(text(f"ALTER TABLE {partition} SET (autovacuum_enabled = false)"))
    pg.commit()
    try:
        _forget_statistics(pg, partition)
        # A stale mark makes the next portrait diagnose the school and store its rows again.
        pg.execute(
            text(
                "INSERT INTO mastery_dirty (region, school_id) VALUES (:r, :s) ON CONFLICT DO NOTHING"
            ),
            {"r": REGION, "s": world.school},
        )
        pg.commit()
        response = client.get(f"/v1/schools/{world.school}/portrait", headers=keys.header("school"))
        assert response.status_code == 200, response.text
        assert _planner_rows(pg, partition) == _rows(pg, partition) > 0
    finally:
        pg.rollback()
        pg.execute(text(f"ALTER TABLE {partition} RESET (autovacuum_enabled)"))
        pg.commit()
