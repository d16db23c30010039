"""PostgreSQL schema of migrations 0007–0008: tables partitioned by region, row-level security.

Row-level security is the second line behind the service's tenancy check: a session of the
``nengli_api`` role (neither superuser nor owner) whose ``nengli.region`` is one region reads and
writes no row of another, whatever its query says and even when a store is called without the
service's own check; unset, it sees nothing; ``*`` (admin keys) sees every region.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import pandas as pd
import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.orm import Session

from competency_model.errors import NotFoundError
from service.auth import Principal
from service.db.bulk import insert_new_rows
from service.db.driver_query import DriverQuery
from service.db.models import Grade, School, Teacher
from service.db.partitions import PARTITIONED_TABLES, partition_name
from service.db.row_security import driver_prelude, scope_session
from service.db.stores.province import store_tables
from service.db.stores.records import load_record
from service.db.stores.scope import _SCOPE_AND_COMPLETED
from tests.service.conftest import OTHER_REGION, REGION, Keys, World, put_school, put_teacher

pytestmark = pytest.mark.postgres
ADMIN = Principal("test", "admin", None)


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


def _partitions(pg: Connection, table: str) -> dict[str, str]:
    """``{partition: bound}`` of ``table`` in the test schema."""
    rows = pg.execute(
        text(
            "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i "
            "JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent "
            "WHERE p.relname = :t AND p.relnamespace = current_schema()::regnamespace"
        ),
        {"t": table},
    ).tuples()
    return {str(name): str(bound) for name, bound in rows}


@pytest.mark.parametrize("table", PARTITIONED_TABLES)
def test_tables_that_grow_with_teachers_are_partitioned_by_region(
    pg: Connection, world: World, table: str
) -> None:
    strategy = pg.execute(
        text(
            "SELECT p.partstrat, a.attname FROM pg_partitioned_table p "
            "JOIN pg_class c ON c.oid = p.partrelid "
            "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = p.partattrs[0] "
            "WHERE c.relname = :t AND c.relnamespace = current_schema()::regnamespace"
        ),
        {"t": table},
    ).one()
    assert tuple(strategy) == ("l", "region")
    partitions = _partitions(pg, table)
    assert partitions[f"{table}_default"] == "DEFAULT"
    for region in (REGION, OTHER_REGION):
        assert partitions[partition_name(table, region)] == f"FOR VALUES IN ('{region}')"


@pytest.mark.parametrize("table", ["events", "grades", "responses"])
def test_rows_land_in_their_regions_partition(pg: Connection, world: World, table: str) -> None:
    by_region = {
        str(region): int(n)
        for region, n in pg.execute(text(f"SELECT region, count(*) FROM {table} GROUP BY region"))
    }
    assert by_region[REGION] > 0
    for region, n in by_region.items():
        stored = pg.execute(text(f"SELECT count(*) FROM {partition_name(table, region)}"))
        assert stored.scalar() == n
    assert pg.execute(text(f"SELECT count(*) FROM {table}_default")).scalar() == 0
    # Each row carries its teacher's region, which is the teacher's school's.
    mismatched = pg.execute(
        text(
            f"SELECT count(*) FROM {table} x JOIN teachers t ON t.teacher_id = x.teacher_id "
            "JOIN schools s ON s.school_id = t.school_id "
            "WHERE x.region <> t.region OR t.region <> s.region"
        )
    ).scalar()
    assert mismatched == 0


@pytest.mark.parametrize(
    "table",
    [
        "schools",
        "teachers",
        "events",
        "grades",
        "responses",
        "recommendation_lists",
        "list_versions",
        "list_pointers",
        "region_grades",
        "school_pairing_summary",
        "region_pairing",
    ],
)
def test_row_level_security_checks_reads_and_writes(pg: Connection, table: str) -> None:
    enabled = pg.execute(
        text(
            "SELECT relrowsecurity FROM pg_class WHERE relname = :t "
            "AND relnamespace = current_schema()::regnamespace"
        ),
        {"t": table},
    ).scalar()
    assert enabled is True
    using, check = pg.execute(
        text(
            "SELECT qual, with_check FROM pg_policies WHERE tablename = :t "
            "AND schemaname = current_schema()"
        ),
        {"t": table},
    ).one()
    assert "nengli.region" in using and "nengli.region" in check


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
        "grades": ("SELECT count(*) FROM grades WHERE region = :r", {"r": REGION}),
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


def test_without_a_region_the_role_sees_nothing_and_star_sees_every_region(
    pg: Connection, world: World
) -> None:
    with _as_api_role(pg, None):
        assert pg.execute(text("SELECT count(*) FROM schools")).scalar() == 0
        assert pg.execute(text("SELECT count(*) FROM events")).scalar() == 0
    with _as_api_role(pg, "*"):
        regions = set(pg.execute(text("SELECT DISTINCT region FROM schools")).scalars())
    assert {REGION, OTHER_REGION} <= regions


@pytest.fixture
def scoped(client) -> Iterator[Session]:  # type: ignore[no-untyped-def]
    """A session as a 江苏 platform request has it: role nengli_api, ``nengli.region`` 江苏."""
    state = client.app.state.nengli
    if state.engine.dialect.name != "postgresql":
        pytest.skip("row-level security exists on PostgreSQL only")
    session = state.sessions()
    scope_session(session, "platform", REGION)
    try:
        yield session
    finally:
        session.rollback()
        session.close()


def test_a_store_called_without_the_tenancy_check_cannot_read_another_region(
    scoped: Session, world: World
) -> None:
    assert scoped.scalar(text("SELECT current_user")) == "nengli_api"
    # The store is handed the foreign teacher as if the service's check had let it through.
    teacher = Teacher(teacher_id=world.foreign_teacher, school_id=world.foreign_school)
    school = School(school_id=world.foreign_school, region=OTHER_REGION)
    record = load_record(scoped, teacher, school)
    assert record.responses == {} and record.grades == [] and record.events.empty
    assert scoped.get(Teacher, world.foreign_teacher) is None
    assert scoped.get(Teacher, world.teacher) is not None


def test_a_store_called_without_the_tenancy_check_cannot_write_another_region(
    scoped: Session, world: World
) -> None:
    # An admin principal passes the service's own check; the session is still 江苏's, so the
    # store does not even find the foreign teacher ...
    grades = pd.DataFrame(
        {
            "teacher_id": [world.foreign_teacher],
            "point": ["A1"],
            "grade": ["合格"],
            "assessed_at": ["2026-11-01 09:00:00"],
        }
    )
    with pytest.raises(NotFoundError):
        store_tables(scoped, ADMIN, {"grades": grades})
    scoped.rollback()
    # ... and a row of the other region written straight through the bulk helper is refused.
    row = {
        "teacher_id": world.foreign_teacher,
        "region": OTHER_REGION,
        "point": "A1",
        "grade": "合格",
        "assessed_at": datetime(2026, 11, 1, tzinfo=UTC),
    }
    keys = ["teacher_id", "point", "assessed_at", "region"]
    with pytest.raises(ProgrammingError, match="row-level security"):
        insert_new_rows(scoped, Grade.__table__, [row], keys)
    scoped.rollback()
    with pytest.raises(ProgrammingError, match="row-level security"):
        scoped.execute(
            text(
                "INSERT INTO schools (school_id, region, environment, chosen_points, updated_at) "
                "VALUES ('S977777', :r, 'blended', '', now())"
            ),
            {"r": OTHER_REGION},
        )
    scoped.rollback()
    # Nor can a 江苏 session move one of its rows into the other region (WITH CHECK).
    with pytest.raises(ProgrammingError, match="row-level security"):
        scoped.execute(
            text("UPDATE schools SET region = :r WHERE school_id = :s"),
            {"r": OTHER_REGION, "s": world.school},
        )


def test_the_api_runs_as_the_restricted_role(client, keys: Keys, world: World) -> None:  # type: ignore[no-untyped-def]
    state = client.app.state.nengli
    if state.engine.dialect.name != "postgresql":
        pytest.skip("row-level security exists on PostgreSQL only")
    seen: list[tuple[str, str]] = []
    original = state.sessions

    def spying() -> Session:
        session = original()
        real_close = session.close

        def close() -> None:
            # Whatever transaction the session runs next is limited like its earlier ones.
            row = session.execute(
                text("SELECT current_user, current_setting('nengli.region', true)")
            ).one()
            seen.append((row[0], row[1]))
            real_close()

        session.close = close  # type: ignore[method-assign]
        return session

    state.sessions = spying
    try:
        response = client.get(f"/v1/teachers/{world.teacher}", headers=keys.header("platform"))
        assert response.status_code == 200, response.text
        response = client.get(f"/v1/schools/{world.school}", headers=keys.header("school"))
        assert response.status_code == 200, response.text
        response = client.get(f"/v1/teachers/{world.teacher}", headers=keys.header("admin"))
        assert response.status_code == 200, response.text
    finally:
        state.sessions = original
    # The key lookups run as the owner before the caller is known; every request session is
    # the API role, limited to the platform's region, the school key's school's region, or all.
    scoped = [entry for entry in seen if entry[0] == "nengli_api"]
    assert scoped == [("nengli_api", REGION), ("nengli_api", REGION), ("nengli_api", "*")]
    assert all(entry == ("postgres", "") for entry in seen if entry[0] != "nengli_api")


def test_a_new_region_gets_its_partitions_and_a_move_carries_the_rows(
    client, pg: Connection, keys: Keys, world: World
) -> None:  # type: ignore[no-untyped-def]
    region, school, teacher = "安徽", "S955001", "T9550001"
    admin = keys.header("admin")
    put_school(client, admin, school, region)
    for table in PARTITIONED_TABLES:
        assert partition_name(table, region) in _partitions(pg, table)
    put_teacher(client, admin, teacher, school)
    event = {
        "event_id": "move-1",
        "teacher_id": teacher,
        "event": "progress",
        "item_id": "CRS-0001",
        "value": 0.5,
        "timestamp": "2026-11-02T08:00:00+08:00",
    }
    response = client.post("/v1/events", json={"events": [event]}, headers=admin)
    assert response.status_code == 200, response.text
    events_in = pg.execute(
        text(f"SELECT count(*) FROM {partition_name('events', region)} WHERE teacher_id = :t"),
        {"t": teacher},
    )
    assert events_in.scalar() == 1
    pg.rollback()
    # The school moves to 江苏: its teacher and the teacher's events follow.
    put_school(client, admin, school, REGION)
    moved = pg.execute(
        text(
            "SELECT (SELECT region FROM teachers WHERE teacher_id = :t), "
            f"(SELECT count(*) FROM {partition_name('events', REGION)} WHERE teacher_id = :t), "
            f"(SELECT count(*) FROM {partition_name('events', region)})"
        ),
        {"t": teacher},
    ).one()
    assert tuple(moved) == (REGION, 1, 0)


def test_the_raw_cursor_hot_path_is_limited_too(client, world: World) -> None:  # type: ignore[no-untyped-def]
    engine = client.app.state.nengli.engine
    if engine.dialect.name != "postgresql":
        pytest.skip("row-level security exists on PostgreSQL only")
    query = DriverQuery(engine, _SCOPE_AND_COMPLETED)
    # The tenancy query of the recommendation path, for the foreign teacher: as the owner it
    # finds the row; limited to 江苏 it finds nothing, whatever the caller's own check said.
    assert query.rows(engine, teacher_id=world.foreign_teacher)
    jiangsu = driver_prelude(engine, "platform", REGION)
    assert query.rows(engine, jiangsu, teacher_id=world.foreign_teacher) == []
    assert query.rows(engine, jiangsu, teacher_id=world.teacher)
    everyone = driver_prelude(engine, "admin", None)
    assert query.rows(engine, everyone, teacher_id=world.foreign_teacher)
