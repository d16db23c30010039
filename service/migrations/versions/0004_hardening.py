"""Hardening: unique grades, retention runs, an audit log that retention may trim.

* ``grades`` gets the natural unique key ``(teacher_id, point, assessed_at)`` (duplicates that
  concurrent imports stored before are removed, the oldest row kept), so identical imports
  running at once store each grade once;
* ``retention_runs`` records every ``nengli retention apply`` (table, horizon, rows deleted);
* the audit log stays append-only, except that rows older than the latest audit retention
  horizon may be deleted — by ``nengli retention apply`` only, which records the horizon first;
* ``ix_audit_at`` serves the region administrator's audit query and retention.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)

SQLITE_RETENTION_TRIGGER = """CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
    WHEN OLD.at >= COALESCE(
        (SELECT max(horizon) FROM retention_runs WHERE table_name = 'audit_log'), '0000-01-01')
    BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"""
SQLITE_APPEND_ONLY_TRIGGER = """CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"""
POSTGRES_RETENTION_FUNCTION = """CREATE OR REPLACE FUNCTION audit_log_append_only()
    RETURNS trigger AS $$
    BEGIN
        IF TG_OP = 'DELETE' AND OLD.at < (
            SELECT max(horizon) FROM retention_runs WHERE table_name = 'audit_log'
        ) THEN
            RETURN OLD;
        END IF;
        RAISE EXCEPTION 'audit_log is append-only';
    END; $$ LANGUAGE plpgsql"""
POSTGRES_APPEND_ONLY_FUNCTION = """CREATE OR REPLACE FUNCTION audit_log_append_only()
    RETURNS trigger AS $$
    BEGIN RAISE EXCEPTION 'audit_log is append-only'; END; $$ LANGUAGE plpgsql"""


def upgrade() -> None:
    op.execute(
        "DELETE FROM grades WHERE id NOT IN "
        "(SELECT min(id) FROM grades GROUP BY teacher_id, point, assessed_at)"
    )
    op.create_index(
        "uq_grades_teacher_point_at", "grades", ["teacher_id", "point", "assessed_at"], unique=True
    )
    op.create_table(
        "retention_runs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("table_name", sa.String(32), nullable=False),
        sa.Column("horizon", TZ, nullable=False),
        sa.Column("deleted", sa.Integer, nullable=False),
        sa.Column("applied_at", TZ, nullable=False),
    )
    op.create_index("ix_audit_at", "audit_log", ["at"])
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
        op.execute(SQLITE_RETENTION_TRIGGER)
    elif op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRES_RETENTION_FUNCTION)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
        op.execute(SQLITE_APPEND_ONLY_TRIGGER)
    elif op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRES_APPEND_ONLY_FUNCTION)
    op.drop_index("ix_audit_at", table_name="audit_log")
    op.drop_table("retention_runs")
    op.drop_index("uq_grades_teacher_point_at", table_name="grades")
