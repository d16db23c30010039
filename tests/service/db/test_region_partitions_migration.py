"""Migration 0008 on a database holding rows: upgrade from 0007 and downgrade keep every row.

On PostgreSQL the rebuilt tables become partitioned and every row lands in its region's
partition; on SQLite the same columns and keys appear without partitions. Ids and the
numbering of new rows survive both ways.
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

TABLES = ("schools", "teachers", "responses", "grades", "events")
_ROWS = [
    "INSERT INTO schools (school_id, region, environment, chosen_points, updated_at) VALUES "
    "('S1', '江苏', 'blended', '', '2026-01-01T00:00:00+00:00'), "
    "('S2', '浙江', 'blended', '', '2026-01-01T00:00:00+00:00')",
    "INSERT INTO teachers (teacher_id, school_id, stage, subject, updated_at) VALUES "
    "('T1', 'S1', '小学', '数学', '2026-01-01T00:00:00+00:00'), "
    "('T2', 'S1', '小学', '语文', '2026-01-01T00:00:00+00:00'), "
    "('T3', 'S2', '初中', '数学', '2026-01-01T00:00:00+00:00')",
    "INSERT INTO responses (teacher_id, item_id, response, answered_at) VALUES "
    "('T1', 'Q01', 1.0, '2026-01-02T00:00:00+00:00'), "
    "('T3', 'Q01', 0.0, '2026-01-02T00:00:00+00:00')",
    "INSERT INTO grades (id, teacher_id, point, grade, assessed_at) VALUES "
    "(7, 'T1', 'A1', '合格', '2026-01-03T00:00:00+00:00'), "
    "(9, 'T3', 'B2', '优秀', '2026-01-03T00:00:00+00:00')",
    "INSERT INTO events (id, tenant, event_id, teacher_id, event, item_id, timestamp, "
    "content_hash, received_at) VALUES "
    "(11, 'platform:江苏', 'e1', 'T1', 'complete', 'CRS-0001', '2026-01-04T00:00:00+00:00', "
    "'h1', '2026-01-04T00:00:00+00:00'), "
    "(12, 'platform:江苏', 'e2', 'T2', 'enrol', 'CRS-0002', '2026-01-04T00:00:00+00:00', "
    "'h2', '2026-01-04T00:00:00+00:00'), "
    "(13, 'platform:浙江', 'e1', 'T3', 'complete', 'CRS-0001', '2026-01-04T00:00:00+00:00', "
    "'h3', '2026-01-04T00:00:00+00:00')",
]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A database migrated to 0007 and filled with rows of two regions."""
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
    upgrade_database(engine, "0007")
    with engine.begin() as connection:
        for statement in _ROWS:
            connection.execute(text(statement))
    yield engine
    engine.dispose()
    if schemas is not None:
        next(schemas, None)  # drops the schema


def _snapshot(engine: Engine) -> dict[str, list[tuple[object, ...]]]:
    """Every row of the five tables (without the region column 0008 adds)."""
    columns = {
        "schools": "school_id, region",
        "teachers": "teacher_id, school_id",
        "responses": "teacher_id, item_id, response",
        "grades": "id, teacher_id, point, grade",
        "events": "id, tenant, event_id, teacher_id, event, item_id, content_hash",
    }
    with engine.connect() as connection:
        return {
            table: [
                tuple(row)
                for row in connection.execute(text(f"SELECT {cols} FROM {table} ORDER BY 1, 2"))
            ]
            for table, cols in columns.items()
        }


def _downgrade(engine: Engine, revision: str) -> None:
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def test_upgrade_and_downgrade_keep_every_row(engine: Engine) -> None:
    before = _snapshot(engine)
    assert len(before["events"]) == 3
    upgrade_database(engine, "0008_region_partitions")
    assert _snapshot(engine) == before
    with engine.connect() as connection:
        regions = {
            table: sorted(
                tuple(r)
                for r in connection.execute(text(f"SELECT teacher_id, region FROM {table}"))
            )
            for table in ("teachers", "responses", "grades", "events")
        }
        assert regions["teachers"] == [("T1", "江苏"), ("T2", "江苏"), ("T3", "浙江")]
        assert regions["events"] == [("T1", "江苏"), ("T2", "江苏"), ("T3", "浙江")]
        assert regions["grades"] == regions["responses"] == [("T1", "江苏"), ("T3", "浙江")]
        if engine.dialect.name == "postgresql":
            for table in ("responses", "grades", "events"):
                jiangsu = connection.execute(
                    text(f"SELECT count(*) FROM {partition_name(table, '江苏')}")
                )
                zhejiang = connection.execute(
                    text(f"SELECT count(*) FROM {partition_name(table, '浙江')}")
                )
                default = connection.execute(text(f"SELECT count(*) FROM {table}_default"))
                expected = 2 if table == "events" else 1
                assert (jiangsu.scalar(), zhejiang.scalar(), default.scalar()) == (expected, 1, 0)
    # New rows continue the kept numbering.
    with engine.begin() as connection:
        new_id = connection.execute(
            text(
                "INSERT INTO events (region, tenant, event_id, teacher_id, event, item_id, "
                "timestamp, content_hash, received_at) VALUES ('江苏', 'platform:江苏', 'e3', 'T1', "
                "'enrol', 'CRS-0003', '2026-01-05T00:00:00+00:00', 'h4', "
                "'2026-01-05T00:00:00+00:00') RETURNING id"
            )
        ).scalar()
        assert new_id is not None and new_id > 13
        connection.execute(text("DELETE FROM events WHERE id = :i"), {"i": new_id})
    _downgrade(engine, "0007")
    assert _snapshot(engine) == before
    inspector = inspect(engine)
    for table in ("teachers", "responses", "grades", "events"):
        assert "region" not in {c["name"] for c in inspector.get_columns(table)}
    upgrade_database(engine)  # and up again, to head
    assert _snapshot(engine) == before
