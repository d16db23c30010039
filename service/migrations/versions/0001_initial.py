"""Initial schema: schools, teachers, responses, grades, events, keys, audit log, imports.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)

# The audit log is append-only at the database level too, so a bug (or a hand-written UPDATE)
# cannot rewrite who read what.
SQLITE_AUDIT_TRIGGERS = [
    """CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
       BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END""",
    """CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
       BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END""",
]
POSTGRES_AUDIT_TRIGGER = [
    """CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger AS $$
       BEGIN RAISE EXCEPTION 'audit_log is append-only'; END; $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
       FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()""",
]


def upgrade() -> None:
    op.create_table(
        "schools",
        sa.Column("school_id", sa.String(32), primary_key=True),
        sa.Column("region", sa.String(64), nullable=False),
        sa.Column("city", sa.String(64)),
        sa.Column("district", sa.String(64)),
        sa.Column("urban_rural", sa.String(8)),
        sa.Column("environment", sa.String(16), nullable=False),
        sa.Column("chosen_points", sa.String(256), nullable=False),
        sa.Column("rollout_batch", sa.Integer),
        sa.Column("updated_at", TZ, nullable=False),
    )
    op.create_index("ix_schools_region", "schools", ["region"])
    op.create_table(
        "teachers",
        sa.Column("teacher_id", sa.String(32), primary_key=True),
        sa.Column(
            "school_id",
            sa.String(32),
            sa.ForeignKey("schools.school_id", ondelete="RESTRICT"),
            nullable=False,
        ),
        sa.Column("stage", sa.String(8), nullable=False),
        sa.Column("subject", sa.String(32), nullable=False),
        sa.Column("years_of_service", sa.Integer),
        sa.Column("research_group", sa.String(64)),
        sa.Column("updated_at", TZ, nullable=False),
    )
    op.create_index("ix_teachers_school_id", "teachers", ["school_id"])
    teacher_fk = sa.ForeignKey("teachers.teacher_id", ondelete="CASCADE")
    op.create_table(
        "responses",
        sa.Column("teacher_id", sa.String(32), teacher_fk, primary_key=True),
        sa.Column("item_id", sa.String(16), primary_key=True),
        sa.Column("response", sa.Float, nullable=False),
        sa.Column("answered_at", TZ, nullable=False),
    )
    op.create_table(
        "grades",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "teacher_id",
            sa.String(32),
            sa.ForeignKey("teachers.teacher_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("point", sa.String(8), nullable=False),
        sa.Column("grade", sa.String(8), nullable=False),
        sa.Column("assessed_at", TZ, nullable=False),
    )
    op.create_index("ix_grades_teacher", "grades", ["teacher_id"])
    op.create_table(
        "events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("tenant", sa.String(96), nullable=False),
        sa.Column("event_id", sa.String(128), nullable=False),
        sa.Column(
            "teacher_id",
            sa.String(32),
            sa.ForeignKey("teachers.teacher_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("event", sa.String(16), nullable=False),
        sa.Column("item_id", sa.String(32)),
        sa.Column("point", sa.String(8)),
        sa.Column("value", sa.Float),
        sa.Column("grade", sa.String(8)),
        sa.Column("timestamp", TZ, nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("received_at", TZ, nullable=False),
        sa.UniqueConstraint("tenant", "event_id", name="uq_events_tenant_event_id"),
    )
    op.create_index("ix_events_teacher", "events", ["teacher_id"])
    op.create_table(
        "api_keys",
        sa.Column("key_id", sa.String(32), primary_key=True),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("scope", sa.String(64)),
        sa.Column("label", sa.String(128)),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("revoked_at", TZ),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", TZ, nullable=False),
        sa.Column("key_id", sa.String(32), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("teacher_id", sa.String(32)),
        sa.Column("school_id", sa.String(32)),
        sa.Column("detail", sa.Text),
    )
    op.create_index("ix_audit_teacher", "audit_log", ["teacher_id"])
    op.create_table(
        "imports",
        sa.Column("import_id", sa.String(32), primary_key=True),
        sa.Column("key_id", sa.String(32), nullable=False),
        sa.Column("table_name", sa.String(32), nullable=False),
        sa.Column("filename", sa.String(256)),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("n_rows", sa.Integer, nullable=False),
        sa.Column("report", sa.Text, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
    )
    dialect = op.get_bind().dialect.name
    statements = {"sqlite": SQLITE_AUDIT_TRIGGERS, "postgresql": POSTGRES_AUDIT_TRIGGER}
    for statement in statements.get(dialect, []):
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_change ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
    for table in ("imports", "audit_log", "api_keys", "events", "grades", "responses"):
        op.drop_table(table)
    op.drop_table("teachers")
    op.drop_table("schools")
