"""Migration 0011 on a database holding aggregates: upgrade and downgrade keep every row.

On PostgreSQL the per-teacher aggregates become partitioned and each row lands in its region's
partition; on SQLite the same columns and keys appear without partitions. Each row's new region
is its school's; the stale-school triggers keep working both ways.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, inspect, text

from service.db.engine import make_engine
from service.db.migrate import alembic_config, upgrade_database
from service.db.partitions import partition_name
from tests.service.conftest import POSTGRES_ENV, _postgres_schema_url

BEFORE = "0010_aggregate_statistics"
REVISION = "0011_aggregate_regions"
_STAMP = "'2026-01-01T00:00:00+00:00'"
_ROWS = [
    "INSERT INTO schools (school_id, region, environment, chosen_points, updated_at) VALUES "
    f"('S1', '江苏', 'blended', '', {_STAMP}), ('S2', '浙江', 'blended', '', {_STAMP})",
    "INSERT INTO teachers (teacher_id, school_id, region, stage, subject, updated_at) VALUES "
    f"('T1', 'S1', '江苏', '小学', '数学', {_STAMP}), "
    f"('T2', 'S1', '江苏', '小学', '语文', {_STAMP}), "
    f"('T3', 'S2', '浙江', '初中', '数学', {_STAMP})",
    # The teachers' triggers marked S1 and S2 in progress_dirty and mastery_dirty.
    "INSERT INTO school_progress VALUES ('S1', 'b1', 2, 1, 0, 3.0, 1.0, 2.0), "
    "('S2', 'b1', 1, 1, 1, 50.0, 25.0, 25.0)",
    "INSERT INTO school_grades VALUES ('S1', 'A1', '合格', 2), ('S2', 'B2', '优秀', 1)",
    "INSERT INTO school_grades_fresh VALUES ('S1'), ('S2')",
    "INSERT INTO teacher_progress (basis, teacher_id, school_id, region, hours, practice_hours, "
    "online_hours, started, compliant, hours_missing, behind_order) VALUES "
    "('b1', 'T1', 'S1', '江苏', 2.0, 1.0, 1.0, 1, 0, 48.0, -48.0), "
    "('b1', 'T2', 'S1', '江苏', 1.0, 0.0, 1.0, 0, 0, 49.0, -49.0), "
    "('b1', 'T3', 'S2', '浙江', 50.0, 25.0, 25.0, 1, 1, 0.0, 0.0)",
    "INSERT INTO school_monthly VALUES ('S1', 'b1', '小学数学组', '2026-01', 2.0, 1.0, 1, 2), "
    "('S2', 'b1', '', '2026-01', 50.0, 25.0, 1, 9)",
    "INSERT INTO teacher_mastery VALUES ('T1', 'S1', 'm1', '2026-01-02', '[0.5]'), "
    "('T3', 'S2', 'm1', '2026-01-02', '[0.7]')",
]
_TABLES = {
    "school_progress": "school_id, basis, n_teachers, sum_hours",
    "school_grades": "school_id, point, grade, n_teachers",
    "school_grades_fresh": "school_id",
    "progress_dirty": "school_id",
    "teacher_progress": "basis, teacher_id, school_id, region, hours, behind_order",
    "school_monthly": "school_id, basis, research_group, month, hours, completions",
    "teacher_mastery": "teacher_id, school_id, model_version, mastery",
    "mastery_dirty": "school_id",
}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A database migrated to the revision before 0011 (0010), holding aggregates of two regions."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'm.sqlite'}"
        schemas: Iterator[str] | None = None
    else:
        base = os.environ.get(POSTGRES_ENV)
        if not base:
            pytest.skip(f"{POSTGRES_ENV} is not set")
        schemas = _postgres_schema_url(base)
        url = next(schemas)
    engine = make_engine(url)
    upgrade_database(engine, BEFORE)
    with engine.begin() as connection:
        for statement in _ROWS:
            connection.execute(text(statement))
    yield engine
    engine.dispose()
    if schemas is not None:
        next(schemas, None)  # drops the schema


def _snapshot(engine: Engine) -> dict[str, list[tuple[object, ...]]]:
    """Every row of the eight tables (without the region column 0011 adds)."""
    with engine.connect() as connection:
        return {
            table: [
                tuple(row)
                for row in connection.execute(text(f"SELECT {cols} FROM {table} ORDER BY {cols}"))
            ]
            for table, cols in _TABLES.items()
        }


def _downgrade(engine: Engine, revision: str) -> None:
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def test_upgrade_and_downgrade_keep_every_aggregate(engine: Engine) -> None:
    before = _snapshot(engine)
    assert len(before["progress_dirty"]) == 2 and len(before["teacher_progress"]) == 3
    upgrade_database(engine, REVISION)
    assert _snapshot(engine) == before
    with engine.connect() as connection:
        for table in _TABLES:
            regions = connection.execute(
                text(
                    f"SELECT x.region, s.region FROM {table} x "
                    "JOIN schools s ON s.school_id = x.school_id"
                )
            ).all()
            assert len(regions) == len(before[table])
            assert all(own == school for own, school in regions), (table, regions)
        if engine.dialect.name == "postgresql":
            for table, per_region in (("teacher_progress", (2, 1)), ("teacher_mastery", (1, 1))):
                counts = tuple(
                    connection.execute(
                        text(f"SELECT count(*) FROM {partition_name(table, region)}")
                    ).scalar()
                    for region in ("江苏", "浙江")
                )
                default = connection.execute(text(f"SELECT count(*) FROM {table}_default"))
                assert (*counts, default.scalar()) == (*per_region, 0), table
    # The triggers now write the school's region with the mark.
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM progress_dirty"))
        connection.execute(text("DELETE FROM mastery_dirty"))
        connection.execute(
            text(
                "INSERT INTO grades (region, teacher_id, point, grade, assessed_at) VALUES "
                "('浙江', 'T3', 'A1', '合格', '2026-01-05T00:00:00+00:00')"
            )
        )
        for table in ("progress_dirty", "mastery_dirty"):
            marks = connection.execute(text(f"SELECT region, school_id FROM {table}")).all()
            assert [tuple(m) for m in marks] == [("浙江", "S2")], table
        connection.execute(text("DELETE FROM grades"))
    # A school moving region takes its aggregates along (ON UPDATE CASCADE).
    with engine.begin() as connection:
        connection.execute(text("UPDATE schools SET region = '江苏' WHERE school_id = 'S2'"))
        moved = connection.execute(
            text("SELECT DISTINCT region FROM teacher_progress WHERE school_id = 'S2'")
        ).scalars()
        assert list(moved) == ["江苏"]
        connection.execute(text("UPDATE schools SET region = '浙江' WHERE school_id = 'S2'"))
    with engine.begin() as connection:  # the marks of the test, as before it
        for table in ("progress_dirty", "mastery_dirty"):
            connection.execute(text(f"DELETE FROM {table}"))
            connection.execute(
                text(
                    f"INSERT INTO {table} (region, school_id) SELECT region, school_id FROM schools"
                )
            )
    marked = _snapshot(engine)
    _downgrade(engine, BEFORE)
    assert _snapshot(engine) == marked
    inspector = inspect(engine)
    for table in _TABLES:
        columns = {c["name"] for c in inspector.get_columns(table)}
        assert ("region" in columns) == (table == "teacher_progress"), table
    with engine.begin() as connection:  # 0009's triggers are back
        connection.execute(text("DELETE FROM progress_dirty"))
        connection.execute(
            text(
                "INSERT INTO grades (region, teacher_id, point, grade, assessed_at) VALUES "
                "('浙江', 'T3', 'A1', '合格', '2026-01-05T00:00:00+00:00')"
            )
        )
        marks = connection.execute(text("SELECT school_id FROM progress_dirty")).scalars()
        assert list(marks) == ["S2"]
        connection.execute(text("DELETE FROM grades"))
        connection.execute(text("INSERT INTO progress_dirty VALUES ('S1')"))
    upgrade_database(engine)  # and up again, to head
    assert _snapshot(engine) == marked
