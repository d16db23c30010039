"""Province scale: precomputed lists, per-school aggregates, partitions and row-level security.

* ``recommendation_lists`` (the batch's top-N per teacher and kind, tagged with the model
  version), ``list_versions`` and ``list_pointers`` (which version a region serves);
* ``school_progress``, ``school_grades``, ``school_grades_fresh`` and ``progress_dirty``: the
  per-school aggregates of the dashboards and the stale marks that triggers on ``teachers``,
  ``events`` and ``grades`` write (row triggers on SQLite; statement triggers over transition
  tables on PostgreSQL, so a COPY merge of millions of events marks its schools in one join);
* PostgreSQL only: ``recommendation_lists`` — the table that grows fastest with teachers
  (teachers × kinds × N) — is partitioned by region (``LIST``, one partition per region made
  by the loader, plus a default); row-level security by region on ``schools``, ``teachers``,
  ``events``, ``grades``, ``responses`` and the list tables, as a second line behind the
  service's tenancy check: a role that is neither superuser nor owner (``nengli_api``) sees only
  the region named by the session's ``nengli.region`` setting (every region when it is unset).
  SQLite stays plain.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)

#: Everything the session may see when ``nengli.region`` is set; all when unset or empty.
_REGION_SETTING = "nullif(current_setting('nengli.region', true), '')"
_IN_REGION = f"({_REGION_SETTING} IS NULL OR region = {_REGION_SETTING})"
_RLS_POLICIES = {
    "schools": _IN_REGION,
    "recommendation_lists": _IN_REGION,
    "list_versions": _IN_REGION,
    "list_pointers": _IN_REGION,
    "region_grades": _IN_REGION,
    "teachers": f"({_REGION_SETTING} IS NULL OR school_id IN (SELECT school_id FROM schools))",
    "events": f"({_REGION_SETTING} IS NULL OR teacher_id IN (SELECT teacher_id FROM teachers))",
    "grades": f"({_REGION_SETTING} IS NULL OR teacher_id IN (SELECT teacher_id FROM teachers))",
    "responses": f"({_REGION_SETTING} IS NULL OR teacher_id IN (SELECT teacher_id FROM teachers))",
}

_SQLITE_TRIGGERS = {
    "events_dirty_insert": "AFTER INSERT ON events BEGIN INSERT OR IGNORE INTO progress_dirty "
    "SELECT school_id FROM teachers WHERE teacher_id = NEW.teacher_id; END",
    "events_dirty_delete": "AFTER DELETE ON events BEGIN INSERT OR IGNORE INTO progress_dirty "
    "SELECT school_id FROM teachers WHERE teacher_id = OLD.teacher_id; END",
    "grades_dirty_insert": "AFTER INSERT ON grades BEGIN INSERT OR IGNORE INTO progress_dirty "
    "SELECT school_id FROM teachers WHERE teacher_id = NEW.teacher_id; END",
    "grades_dirty_delete": "AFTER DELETE ON grades BEGIN INSERT OR IGNORE INTO progress_dirty "
    "SELECT school_id FROM teachers WHERE teacher_id = OLD.teacher_id; END",
    "teachers_dirty_insert": "AFTER INSERT ON teachers BEGIN INSERT OR IGNORE INTO "
    "progress_dirty VALUES (NEW.school_id); END",
    "teachers_dirty_update": "AFTER UPDATE OF school_id ON teachers BEGIN INSERT OR IGNORE "
    "INTO progress_dirty VALUES (NEW.school_id); INSERT OR IGNORE INTO progress_dirty "
    "VALUES (OLD.school_id); END",
    "teachers_dirty_delete": "AFTER DELETE ON teachers BEGIN INSERT OR IGNORE INTO "
    "progress_dirty VALUES (OLD.school_id); END",
}

_POSTGRES_FUNCTIONS = {
    # ``changed`` is the transition table of whichever trigger calls the function.
    "progress_dirty_by_teacher": "INSERT INTO progress_dirty (school_id) SELECT DISTINCT "
    "t.school_id FROM changed c JOIN teachers t ON t.teacher_id = c.teacher_id "
    "ON CONFLICT DO NOTHING",
    "progress_dirty_by_school": "INSERT INTO progress_dirty (school_id) SELECT DISTINCT "
    "c.school_id FROM changed c ON CONFLICT DO NOTHING",
}
_POSTGRES_TRIGGERS = [
    ("events_dirty_insert", "events", "INSERT", "NEW", "progress_dirty_by_teacher"),
    ("events_dirty_delete", "events", "DELETE", "OLD", "progress_dirty_by_teacher"),
    ("grades_dirty_insert", "grades", "INSERT", "NEW", "progress_dirty_by_teacher"),
    ("grades_dirty_delete", "grades", "DELETE", "OLD", "progress_dirty_by_teacher"),
    ("teachers_dirty_insert", "teachers", "INSERT", "NEW", "progress_dirty_by_school"),
    ("teachers_dirty_update_new", "teachers", "UPDATE", "NEW", "progress_dirty_by_school"),
    ("teachers_dirty_update_old", "teachers", "UPDATE", "OLD", "progress_dirty_by_school"),
    ("teachers_dirty_delete", "teachers", "DELETE", "OLD", "progress_dirty_by_school"),
]
_CREATE_ROLE = """DO $$ BEGIN
    CREATE ROLE nengli_api NOLOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $$"""


def _summary_tables() -> None:
    op.create_table(
        "list_versions",
        sa.Column("region", sa.String(64), primary_key=True),
        sa.Column("model_version", sa.String(64), primary_key=True),
        sa.Column("n_rows", sa.Integer, nullable=False),
        sa.Column("n_teachers", sa.Integer, nullable=False),
        sa.Column("source_sha256", sa.String(64), nullable=False),
        sa.Column("loaded_at", TZ, nullable=False),
    )
    op.create_table(
        "list_pointers",
        sa.Column("region", sa.String(64), primary_key=True),
        sa.Column("model_version", sa.String(64), nullable=False),
        sa.Column("switched_at", TZ, nullable=False),
    )
    op.create_table(
        "school_progress",
        sa.Column("school_id", sa.String(32), primary_key=True),
        sa.Column("basis", sa.String(16), primary_key=True),
        sa.Column("n_teachers", sa.Integer, nullable=False),
        sa.Column("n_started", sa.Integer, nullable=False),
        sa.Column("n_compliant", sa.Integer, nullable=False),
        sa.Column("sum_hours", sa.Float, nullable=False),
        sa.Column("sum_practice_hours", sa.Float, nullable=False),
        sa.Column("sum_online_hours", sa.Float, nullable=False),
    )
    op.create_table(
        "school_grades",
        sa.Column("school_id", sa.String(32), primary_key=True),
        sa.Column("point", sa.String(8), primary_key=True),
        sa.Column("grade", sa.String(8), primary_key=True),
        sa.Column("n_teachers", sa.Integer, nullable=False),
    )
    op.create_table(
        "region_grades",
        sa.Column("region", sa.String(64), primary_key=True),
        sa.Column("point", sa.String(8), primary_key=True),
        sa.Column("grade", sa.String(8), primary_key=True),
        sa.Column("n_teachers", sa.Integer, nullable=False),
    )
    op.create_table("school_grades_fresh", sa.Column("school_id", sa.String(32), primary_key=True))
    op.create_table("progress_dirty", sa.Column("school_id", sa.String(32), primary_key=True))


def _postgres_lists() -> None:
    op.execute(
        """CREATE TABLE recommendation_lists (
            region VARCHAR(64) NOT NULL,
            model_version VARCHAR(64) NOT NULL,
            teacher_id VARCHAR(32) NOT NULL,
            kind VARCHAR(8) NOT NULL,
            rank INTEGER NOT NULL,
            item_id VARCHAR(32) NOT NULL,
            score FLOAT NOT NULL,
            CONSTRAINT recommendation_lists_pkey
                PRIMARY KEY (region, model_version, teacher_id, kind, rank)
        ) PARTITION BY LIST (region)"""
    )
    op.execute(
        "CREATE TABLE recommendation_lists_default PARTITION OF recommendation_lists DEFAULT"
    )


def _postgres_security() -> None:
    for name, body in _POSTGRES_FUNCTIONS.items():
        op.execute(
            f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger AS $$ BEGIN {body}; "
            "RETURN NULL; END; $$ LANGUAGE plpgsql"
        )
    for trigger, table, operation, side, function in _POSTGRES_TRIGGERS:
        op.execute(
            f"CREATE TRIGGER {trigger} AFTER {operation} ON {table} REFERENCING {side} TABLE "
            f"AS changed FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
        )
    op.execute(_CREATE_ROLE)
    schema = op.get_bind().execute(sa.text("SELECT current_schema()")).scalar()
    op.execute(f'GRANT USAGE ON SCHEMA "{schema}" TO nengli_api')
    op.execute(
        f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "{schema}" TO nengli_api'
    )
    for table, condition in _RLS_POLICIES.items():
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY {table}_by_region ON {table} USING {condition}")


def upgrade() -> None:
    _summary_tables()
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        _postgres_lists()
        _postgres_security()
        # Every existing school starts stale, so the first read computes its aggregates.
        op.execute("INSERT INTO progress_dirty (school_id) SELECT school_id FROM schools")
        return
    op.create_table(
        "recommendation_lists",
        sa.Column("region", sa.String(64), primary_key=True),
        sa.Column("model_version", sa.String(64), primary_key=True),
        sa.Column("teacher_id", sa.String(32), primary_key=True),
        sa.Column("kind", sa.String(8), primary_key=True),
        sa.Column("rank", sa.Integer, primary_key=True),
        sa.Column("item_id", sa.String(32), nullable=False),
        sa.Column("score", sa.Float, nullable=False),
    )
    if dialect == "sqlite":
        for name, body in _SQLITE_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {body}")
    op.execute("INSERT INTO progress_dirty (school_id) SELECT school_id FROM schools")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        for table in _RLS_POLICIES:
            op.execute(f"DROP POLICY IF EXISTS {table}_by_region ON {table}")
            op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
        for trigger, table, *_ in _POSTGRES_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {trigger} ON {table}")
        for name in _POSTGRES_FUNCTIONS:
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    elif dialect == "sqlite":
        for name in _SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    for table in (
        "recommendation_lists",
        "progress_dirty",
        "school_grades_fresh",
        "region_grades",
        "school_grades",
        "school_progress",
        "list_pointers",
        "list_versions",
    ):
        op.drop_table(table)
