"""PostgreSQL schema of migration 0011: the dashboard aggregates by region.

Every one of the eight aggregate tables (and 0013's pairing summary) carries its school's region and is behind 0008's
fail-closed policy, so a ``nengli_api`` session of one region reads none of another's rows
whatever its query says (the service's tenancy check bypassed); the per-teacher aggregates are
partitioned by region and the service's reads of them plan their region's partition only; the
API role holds no privilege on any partition (a policy binds only through the parent).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import Connection, event, text
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.orm import Session

from service.auth import Principal
from service.db.partitions import PARTITIONED_TABLES, partition_name
from service.db.row_security import scope_session
from service.db.stores.province import store_tables
from service.db.stores.teacher_rows import school_teachers
from tests.service.conftest import OTHER_REGION, REGION, Keys, World

pytestmark = pytest.mark.postgres

AGGREGATES = (
    "school_progress",
    "school_grades",
    "school_grades_fresh",
    "progress_dirty",
    "teacher_progress",
    "school_monthly",
    "teacher_mastery",
    "mastery_dirty",
    "school_pairing_summary",  # 0013
)


@pytest.fixture(scope="module")
def filled(client, keys: Keys, world: World) -> World:  # type: ignore[no-untyped-def]
    """Both regions' aggregates written by the service itself (refreshes, stored mastery)."""
    if client.app.state.nengli.engine.dialect.name != "postgresql":
        pytest.skip("partitions and row-level security exist on PostgreSQL only")
    admin = keys.header("admin")
    state = client.app.state.nengli
    # The foreign teacher completes an item and is graded, so every aggregate of the foreign
    # school has rows (its 学时 per month, its grade counts).
    item = next(iter(state.catalog))
    completed = {
        "event_id": "aggregate-regions-1",
        "teacher_id": world.foreign_teacher,
        "event": "complete",
        "item_id": item.item_id,
        "timestamp": datetime.now(UTC).isoformat(),
    }
    response = client.post("/v1/events", json={"events": [completed]}, headers=admin)
    assert response.status_code == 200, response.text
    grades = pd.DataFrame(
        {
            "teacher_id": [world.foreign_teacher],
            "point": ["A1"],
            "grade": ["合格"],
            "assessed_at": ["2026-11-01 09:00:00"],
        }
    )
    with state.sessions() as session:
        store_tables(session, Principal("test", "admin", None), {"grades": grades})
        session.commit()
    for path in (
        f"/v1/regions/{REGION}/progress",
        f"/v1/regions/{OTHER_REGION}/progress",
        f"/v1/schools/{world.school}/portrait",
        f"/v1/schools/{world.foreign_school}/portrait",
    ):
        response = client.get(path, headers=admin)
        assert response.status_code == 200, response.text
    return world


@pytest.fixture
def pg(client, filled: World) -> Iterator[Connection]:  # type: ignore[no-untyped-def]
    """An owner's connection in a transaction rolled back afterwards, with a stale mark of
    each region (the refreshes cleared the triggers' marks)."""
    with client.app.state.nengli.engine.connect() as connection:
        connection.begin()
        for table in ("progress_dirty", "mastery_dirty"):
            connection.execute(
                text(
                    f"INSERT INTO {table} (region, school_id) VALUES (:a, :s), (:b, :f) "
                    "ON CONFLICT DO NOTHING"
                ),
                {"a": REGION, "s": filled.school, "b": OTHER_REGION, "f": filled.foreign_school},
            )
        yield connection
        connection.rollback()


@contextmanager
def _as_api_role(connection: Connection, region: str | None) -> Iterator[None]:
    """The rest of the enclosing transaction as ``nengli_api`` limited to ``region``."""
    savepoint = connection.begin_nested()
    connection.execute(text("SET LOCAL ROLE nengli_api"))
    if region is not None:
        connection.execute(text("SELECT set_config('nengli.region', :r, true)"), {"r": region})
    try:
        yield
    finally:
        savepoint.rollback()
        connection.execute(text("RESET ROLE"))
        connection.execute(text("SELECT set_config('nengli.region', '', true)"))


def _count_of(connection: Connection, table: str, school_id: str) -> int:
    # No region in the query: the policy alone decides what the role sees.
    sql = f"SELECT count(*) FROM {table} WHERE school_id = :s"
    return int(connection.execute(text(sql), {"s": school_id}).scalar_one())


@pytest.mark.parametrize("table", AGGREGATES)
def test_a_region_session_reads_no_aggregate_row_of_another_region(
    pg: Connection, filled: World, table: str
) -> None:
    owner = {s: _count_of(pg, table, s) for s in (filled.school, filled.foreign_school)}
    assert owner[filled.school] > 0 and owner[filled.foreign_school] > 0, owner
    mismatched = pg.execute(
        text(
            f"SELECT count(*) FROM {table} x JOIN schools s ON s.school_id = x.school_id "
            "WHERE x.region <> s.region"
        )
    ).scalar()
    assert mismatched == 0
    with _as_api_role(pg, REGION):
        own = _count_of(pg, table, filled.school)
        foreign = _count_of(pg, table, filled.foreign_school)
        everything = int(pg.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())
        by_region = int(
            pg.execute(
                text(f"SELECT count(*) FROM {table} WHERE region = :r"), {"r": OTHER_REGION}
            ).scalar_one()
        )
    assert own == owner[filled.school]
    assert foreign == 0 and by_region == 0
    assert everything == int(
        pg.execute(
            text(f"SELECT count(*) FROM {table} WHERE region = :r"), {"r": REGION}
        ).scalar_one()
    )
    with _as_api_role(pg, None):  # no region set: nothing
        assert int(pg.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()) == 0
    with _as_api_role(pg, "*"):  # admin keys: every region
        assert _count_of(pg, table, filled.foreign_school) == owner[filled.foreign_school]


@pytest.mark.parametrize("table", AGGREGATES)
def test_a_region_session_writes_no_aggregate_row_of_another_region(
    pg: Connection, filled: World, table: str
) -> None:
    enabled, forced = pg.execute(
        text(
            "SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE relname = :t "
            "AND relnamespace = current_schema()::regnamespace"
        ),
        {"t": table},
    ).one()
    assert (enabled, forced) == (True, False)  # as 0008's: the schema owner is not limited
    with _as_api_role(pg, REGION):
        # Moving a foreign row into the session's region finds nothing to move ...
        moved = pg.execute(
            text(f"UPDATE {table} SET region = :r WHERE school_id = :f"),
            {"r": REGION, "f": filled.foreign_school},
        )
        assert moved.rowcount == 0
        # ... and a row of the session's region cannot be sent to another (WITH CHECK).
        with pytest.raises(ProgrammingError, match="row-level security"):
            pg.execute(
                text(f"UPDATE {table} SET region = :o WHERE school_id = :s"),
                {"o": OTHER_REGION, "s": filled.school},
            )


def test_a_store_called_without_the_tenancy_check_reads_no_foreign_teacher(  # type: ignore[no-untyped-def]
    client, filled: World
) -> None:
    state = client.app.state.nengli
    session: Session = state.sessions()
    try:
        basis = session.execute(
            text("SELECT basis FROM school_progress WHERE school_id = :f LIMIT 1"),
            {"f": filled.foreign_school},
        ).scalar_one()
        session.rollback()
        # The store is handed the foreign school as if the service's check had let it through.
        scope_session(session, "platform", REGION)
        frame = school_teachers(session, basis, OTHER_REGION, filled.foreign_school)
        assert frame.empty
        session.rollback()
        scope_session(session, "platform", OTHER_REGION)
        assert not school_teachers(session, basis, OTHER_REGION, filled.foreign_school).empty
    finally:
        session.rollback()
        session.close()


def _children(pg: Connection) -> list[str]:
    rows = pg.execute(
        text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = ANY(:parents) "
            "AND p.relnamespace = current_schema()::regnamespace"
        ),
        {"parents": list(PARTITIONED_TABLES)},
    )
    return [str(name) for name in rows.scalars()]


def _privileged(pg: Connection, table: str) -> bool:
    return bool(
        pg.execute(
            text("SELECT has_table_privilege('nengli_api', :t, 'SELECT,INSERT,UPDATE,DELETE')"),
            {"t": table},
        ).scalar()
    )


def test_the_api_role_reaches_partitions_only_through_their_parents(
    client, pg: Connection, keys: Keys
) -> None:  # type: ignore[no-untyped-def]
    # A region made after the migration: its partitions come from the function, not 0011.
    body = {"region": "福建", "environment": "blended", "chosen_points": ["A1"], "rollout_batch": 1}
    response = client.put("/v1/schools/S966001", json=body, headers=keys.header("admin"))
    assert response.status_code == 200, response.text
    children = _children(pg)
    for table in PARTITIONED_TABLES:
        assert _privileged(pg, table), table
        assert partition_name(table, "福建") in children
        assert f"{table}_default" in children
    assert [child for child in children if _privileged(pg, child)] == []
    with _as_api_role(pg, REGION):
        with pytest.raises(ProgrammingError, match="permission denied"):
            pg.execute(text(f"SELECT count(*) FROM {partition_name('teacher_progress', REGION)}"))


def _relations(plan: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(plan, dict):
        if "Relation Name" in plan:
            found.add(str(plan["Relation Name"]))
        for value in plan.values():
            found |= _relations(value)
    elif isinstance(plan, list):
        for value in plan:
            found |= _relations(value)
    return found


@pytest.mark.parametrize(
    ("path", "table"),
    [
        ("progress", "teacher_progress"),
        ("behind", "teacher_progress"),
        ("portrait", "teacher_mastery"),
        ("plan", "teacher_mastery"),
    ],
)
def test_the_school_views_plan_only_their_regions_partition(  # type: ignore[no-untyped-def]
    client, keys: Keys, filled: World, path: str, table: str
) -> None:
    engine = client.app.state.nengli.engine
    seen: list[tuple[str, Any]] = []

    def capture(_conn, _cursor, statement, parameters, _context, _many) -> None:  # type: ignore[no-untyped-def]
        if table in statement and not statement.lstrip().upper().startswith("EXPLAIN"):
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        response = client.get(f"/v1/schools/{filled.school}/{path}", headers=keys.header("admin"))
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    assert response.status_code == 200, response.text
    assert seen, f"no statement read {table}"
    with engine.connect() as connection:
        for statement, parameters in seen:
            plan = connection.exec_driver_sql(
                f"EXPLAIN (FORMAT JSON) {statement}", parameters
            ).scalar()
            scanned = _relations(json.loads(plan) if isinstance(plan, str) else plan)
            assert partition_name(table, REGION) in scanned, (statement, scanned)
            others = {r for r in scanned if r.startswith(f"{table}_")} - {
                partition_name(table, REGION)
            }
            assert others == set(), (statement, scanned)
        connection.rollback()


def test_without_the_region_a_read_would_plan_every_partition(pg: Connection) -> None:
    """The check above can fail: by school alone the planner keeps every region's partition."""
    plan = pg.execute(
        text("EXPLAIN (FORMAT JSON) SELECT * FROM teacher_progress WHERE school_id = 'S000001'")
    ).scalar()
    scanned = _relations(json.loads(plan) if isinstance(plan, str) else plan)
    assert partition_name("teacher_progress", OTHER_REGION) in scanned, scanned
