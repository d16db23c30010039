"""PIPL erasure: a tombstone per erased teacher, the counts aggregates keep, reviews that an
erasure may remove.

* ``teacher_erasures`` is the tombstone: who (key id and role) erased which teacher id, when,
  in which region, and how many rows each table lost; no attribute of the teacher is kept;
* ``erased_progress`` (per school and policy) and ``erased_grades`` (per school, point and
  grade) hold what the erased teachers contributed to region and school progress, so the
  counts a province reports do not drop when a teacher exercises the right to erasure;
* ``erasure_in_progress`` is filled and emptied inside the erasure's own transaction: while it
  names a teacher, the reviews of that teacher's evidence and the reviews they wrote may be
  deleted; at any other time ``evidence_reviews`` stays append-only.

Revision 0006 follows 0004 (0005 is reserved for a parallel change; when it lands, this file's
``down_revision`` becomes "0005").

Revision ID: 0006
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0004"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)

_ERASING = """(
    OLD.reviewer_id IN (SELECT teacher_id FROM erasure_in_progress)
    OR OLD.evidence_id IN (
        SELECT i.evidence_id FROM evidence_items i
        JOIN evidence_submissions s ON s.submission_id = i.submission_id
        JOIN erasure_in_progress e ON e.teacher_id = s.teacher_id))"""
SQLITE_REVIEW_DELETE = f"""CREATE TRIGGER evidence_reviews_no_delete BEFORE DELETE ON evidence_reviews
    WHEN NOT {_ERASING}
    BEGIN SELECT RAISE(ABORT, 'evidence_reviews is append-only'); END"""
SQLITE_REVIEW_DELETE_OLD = """CREATE TRIGGER evidence_reviews_no_delete BEFORE DELETE ON evidence_reviews
    BEGIN SELECT RAISE(ABORT, 'evidence_reviews is append-only'); END"""
POSTGRES_REVIEW_FUNCTION = f"""CREATE OR REPLACE FUNCTION evidence_reviews_append_only()
    RETURNS trigger AS $$
    BEGIN
        IF TG_OP = 'DELETE' AND {_ERASING} THEN
            RETURN OLD;
        END IF;
        RAISE EXCEPTION 'evidence_reviews is append-only';
    END; $$ LANGUAGE plpgsql"""
POSTGRES_REVIEW_FUNCTION_OLD = """CREATE OR REPLACE FUNCTION evidence_reviews_append_only()
    RETURNS trigger AS $$
    BEGIN RAISE EXCEPTION 'evidence_reviews is append-only'; END; $$ LANGUAGE plpgsql"""


def upgrade() -> None:
    op.create_table(
        "teacher_erasures",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("teacher_id", sa.String(32), nullable=False),
        sa.Column("region", sa.String(64), nullable=False),
        sa.Column("erased_at", TZ, nullable=False),
        sa.Column("key_id", sa.String(32), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("rows_deleted", sa.Text, nullable=False),
    )
    op.create_index("ix_teacher_erasures_teacher", "teacher_erasures", ["teacher_id"])
    op.create_table(
        "erased_progress",
        sa.Column("school_id", sa.String(32), primary_key=True),
        sa.Column("policy", sa.String(32), primary_key=True),
        sa.Column("teachers", sa.Integer, nullable=False),
        sa.Column("teachers_started", sa.Integer, nullable=False),
        sa.Column("teachers_compliant", sa.Integer, nullable=False),
        sa.Column("hours_sum", sa.Float, nullable=False),
        sa.Column("practice_hours_sum", sa.Float, nullable=False),
    )
    op.create_table(
        "erased_grades",
        sa.Column("school_id", sa.String(32), primary_key=True),
        sa.Column("point", sa.String(8), primary_key=True),
        sa.Column("grade", sa.String(8), primary_key=True),
        sa.Column("n", sa.Integer, nullable=False),
    )
    op.create_table("erasure_in_progress", sa.Column("teacher_id", sa.String(32), primary_key=True))
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS evidence_reviews_no_delete")
        op.execute(SQLITE_REVIEW_DELETE)
    elif dialect == "postgresql":
        op.execute(POSTGRES_REVIEW_FUNCTION)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS evidence_reviews_no_delete")
        op.execute(SQLITE_REVIEW_DELETE_OLD)
    elif dialect == "postgresql":
        op.execute(POSTGRES_REVIEW_FUNCTION_OLD)
    for table in ("erasure_in_progress", "erased_grades", "erased_progress", "teacher_erasures"):
        op.drop_table(table)
