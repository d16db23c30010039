"""Dashboard aggregates: per-teacher 学时 and status, 学时 per month, stored mastery.

* ``teacher_progress`` — one row per teacher and policy basis (hours, practice and online
  hours, started, compliant, hours missing), written with ``school_progress`` when a school is
  refreshed; the 未达标名单 of a school or a region is an indexed, keyset-paginated query on it;
* ``school_monthly`` — 学时 added per month (first completions, Beijing time) per school and
  教研组: the trends of a school, district or region are sums over it;
* ``teacher_mastery`` — a teacher's diagnosed mastery (JSON list in framework order), tagged
  with the model version and the day it was diagnosed, so portraits, plans and pairing read
  stored rows instead of diagnosing per request; ``mastery_dirty`` marks the schools whose
  teachers, events, grades or questionnaire answers changed since (triggers, as 0007's);
* SQLite: ``progress_dirty`` is also marked when a teacher's 教研组 changes (the monthly table
  is per 教研组; PostgreSQL's update trigger fires on every update already).

Every school starts stale, so the first read after the upgrade fills the new tables.

Revision ID: 0009
Revises: 0008_region_partitions
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_dashboard_aggregates"
down_revision = "0008_region_partitions"
branch_labels = None
depends_on = None


#: Marks a school in ``mastery_dirty``. ``OR IGNORE`` is not enough on its own: when a trigger
#: fires inside a foreign-key cascade (a teacher moving region carries its events along, 0008),
#: SQLite applies the cascade's ABORT to the trigger's INSERT, so a school already marked would
#: fail the whole statement; the NOT EXISTS guard keeps the insert from conflicting at all.
def _mark(school: str, source: str = "") -> str:
    guard = f"NOT EXISTS (SELECT 1 FROM mastery_dirty d WHERE d.school_id = {school})"
    where = f"{source} AND {guard}" if source else f"WHERE {guard}"
    return f"INSERT OR IGNORE INTO mastery_dirty (school_id) SELECT {school} {where};"


_SQLITE_TRIGGERS = {
    "teachers_dirty_update_group": "AFTER UPDATE OF research_group ON teachers BEGIN "
    "INSERT OR IGNORE INTO progress_dirty VALUES (NEW.school_id); END",
    **{
        f"{table}_mastery_{operation.lower()}": f"AFTER {operation} ON {table} BEGIN "
        + _mark("t.school_id", f"FROM teachers t WHERE t.teacher_id = {side}.teacher_id")
        + " END"
        for table in ("events", "grades", "responses")
        for operation, side in (("INSERT", "NEW"), ("DELETE", "OLD"), ("UPDATE", "NEW"))
    },
    "teachers_mastery_insert": f"AFTER INSERT ON teachers BEGIN {_mark('NEW.school_id')} END",
    "teachers_mastery_update": f"AFTER UPDATE ON teachers BEGIN {_mark('NEW.school_id')} "
    f"{_mark('OLD.school_id')} END",
    "teachers_mastery_delete": f"AFTER DELETE ON teachers BEGIN {_mark('OLD.school_id')} END",
}
_POSTGRES_FUNCTIONS = {
    "mastery_dirty_by_teacher": "INSERT INTO mastery_dirty (school_id) SELECT DISTINCT "
    "t.school_id FROM changed c JOIN teachers t ON t.teacher_id = c.teacher_id "
    "ON CONFLICT DO NOTHING",
    "mastery_dirty_by_school": "INSERT INTO mastery_dirty (school_id) SELECT DISTINCT "
    "c.school_id FROM changed c ON CONFLICT DO NOTHING",
}
_POSTGRES_TRIGGERS = [
    *[
        (f"{table}_mastery_{operation.lower()}", table, operation, side, "mastery_dirty_by_teacher")
        for table in ("events", "grades", "responses")
        for operation, side in (("INSERT", "NEW"), ("DELETE", "OLD"), ("UPDATE", "NEW"))
    ],
    ("teachers_mastery_insert", "teachers", "INSERT", "NEW", "mastery_dirty_by_school"),
    ("teachers_mastery_update_new", "teachers", "UPDATE", "NEW", "mastery_dirty_by_school"),
    ("teachers_mastery_update_old", "teachers", "UPDATE", "OLD", "mastery_dirty_by_school"),
    ("teachers_mastery_delete", "teachers", "DELETE", "OLD", "mastery_dirty_by_school"),
]


def upgrade() -> None:
    op.create_table(
        "teacher_progress",
        sa.Column("basis", sa.String(16), primary_key=True),
        sa.Column("teacher_id", sa.String(32), primary_key=True),
        sa.Column("school_id", sa.String(32), nullable=False),
        sa.Column("region", sa.String(64), nullable=False),
        sa.Column("hours", sa.Float, nullable=False),
        sa.Column("practice_hours", sa.Float, nullable=False),
        sa.Column("online_hours", sa.Float, nullable=False),
        sa.Column("started", sa.Integer, nullable=False),
        sa.Column("compliant", sa.Integer, nullable=False),
        sa.Column("hours_missing", sa.Float, nullable=False),
        # −hours_missing: the 未达标名单's order (most missing first, then teacher id) as the
        # index's plain ascending order (no DESC column, which SQLite's reflection loses).
        sa.Column("behind_order", sa.Float, nullable=False),
    )
    op.create_index("ix_teacher_progress_school", "teacher_progress", ["school_id", "basis"])
    # The 未达标名单's order (most hours missing first, then teacher id) within a region, in
    # the index's own order, so a keyset page is an index range scan, never a sort of the region.
    op.create_index(
        "ix_teacher_progress_behind",
        "teacher_progress",
        ["basis", "region", "compliant", "behind_order", "teacher_id"],
    )
    op.create_table(
        "school_monthly",
        sa.Column("school_id", sa.String(32), primary_key=True),
        sa.Column("basis", sa.String(16), primary_key=True),
        sa.Column("research_group", sa.String(64), primary_key=True),
        sa.Column("month", sa.String(7), primary_key=True),
        sa.Column("hours", sa.Float, nullable=False),
        sa.Column("practice_hours", sa.Float, nullable=False),
        sa.Column("active_teachers", sa.Integer, nullable=False),
        sa.Column("completions", sa.Integer, nullable=False),
    )
    op.create_table(
        "teacher_mastery",
        sa.Column("teacher_id", sa.String(32), primary_key=True),
        sa.Column("school_id", sa.String(32), nullable=False, index=True),
        sa.Column("model_version", sa.String(64), nullable=False),
        sa.Column("diagnosed_on", sa.String(10), nullable=False),
        sa.Column("mastery", sa.Text, nullable=False),
    )
    op.create_table("mastery_dirty", sa.Column("school_id", sa.String(32), primary_key=True))
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        for name, body in _POSTGRES_FUNCTIONS.items():
            op.execute(
                f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger AS $$ BEGIN {body}; "
                "RETURN NULL; END; $$ LANGUAGE plpgsql"
            )
        for trigger, table, operation, side, function in _POSTGRES_TRIGGERS:
            op.execute(
                f"CREATE TRIGGER {trigger} AFTER {operation} ON {table} REFERENCING {side} "
                f"TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
            )
        schema = op.get_bind().execute(sa.text("SELECT current_schema()")).scalar()
        op.execute(
            "DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'nengli_api') THEN "
            f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "{schema}" '
            "TO nengli_api; END IF; END $$"
        )
    elif dialect == "sqlite":
        for name, body in _SQLITE_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {body}")
    # The per-teacher rows are written with the school's aggregates: recompute every school.
    op.execute("DELETE FROM school_progress")
    op.execute(
        "INSERT INTO progress_dirty (school_id) SELECT school_id FROM schools "
        "WHERE school_id NOT IN (SELECT school_id FROM progress_dirty)"
    )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        for trigger, table, *_ in _POSTGRES_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {trigger} ON {table}")
        for name in _POSTGRES_FUNCTIONS:
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    elif dialect == "sqlite":
        for name in _SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    for table in ("mastery_dirty", "teacher_mastery", "school_monthly", "teacher_progress"):
        op.drop_table(table)
