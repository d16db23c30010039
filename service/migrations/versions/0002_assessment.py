"""School-based assessment: evidence submissions and items, peer assignments, append-only reviews.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)

# Reviews are the audit trail of the school's final rating: never rewritten, only appended to.
SQLITE_REVIEW_TRIGGERS = [
    """CREATE TRIGGER evidence_reviews_no_update BEFORE UPDATE ON evidence_reviews
       BEGIN SELECT RAISE(ABORT, 'evidence_reviews is append-only'); END""",
    """CREATE TRIGGER evidence_reviews_no_delete BEFORE DELETE ON evidence_reviews
       BEGIN SELECT RAISE(ABORT, 'evidence_reviews is append-only'); END""",
]
POSTGRES_REVIEW_TRIGGER = [
    """CREATE OR REPLACE FUNCTION evidence_reviews_append_only() RETURNS trigger AS $$
       BEGIN RAISE EXCEPTION 'evidence_reviews is append-only'; END; $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER evidence_reviews_no_change BEFORE UPDATE OR DELETE ON evidence_reviews
       FOR EACH ROW EXECUTE FUNCTION evidence_reviews_append_only()""",
]


def upgrade() -> None:
    op.create_table(
        "evidence_submissions",
        sa.Column("submission_id", sa.String(32), primary_key=True),
        sa.Column(
            "teacher_id",
            sa.String(32),
            sa.ForeignKey("teachers.teacher_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("school_id", sa.String(32), nullable=False),
        sa.Column("point", sa.String(32), nullable=False),
        sa.Column("task_id", sa.String(32)),
        sa.Column("submitted_at", TZ, nullable=False),
        sa.Column("submitted_by", sa.String(32), nullable=False),
        sa.Column("final_result", sa.String(8)),
        sa.Column("finalized_at", TZ),
    )
    op.create_index("ix_evidence_submissions_teacher", "evidence_submissions", ["teacher_id"])
    op.create_index("ix_evidence_submissions_school_id", "evidence_submissions", ["school_id"])
    op.create_table(
        "evidence_items",
        sa.Column("evidence_id", sa.String(32), primary_key=True),
        sa.Column(
            "submission_id",
            sa.String(32),
            sa.ForeignKey("evidence_submissions.submission_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("artifact", sa.String(128), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("media", sa.String(16), nullable=False),
        sa.Column("link", sa.String(2048)),
        sa.Column("file_ref", sa.String(512)),
        sa.Column("duration_minutes", sa.Float),
        sa.Column("lesson", sa.String(200)),
        sa.Column("class_name", sa.String(100)),
    )
    op.create_index("ix_evidence_items_submission", "evidence_items", ["submission_id"])
    op.create_table(
        "peer_assignments",
        sa.Column(
            "submission_id",
            sa.String(32),
            sa.ForeignKey("evidence_submissions.submission_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "reviewer_id",
            sa.String(32),
            sa.ForeignKey("teachers.teacher_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("assigned_at", TZ, nullable=False),
    )
    op.create_index("ix_peer_assignments_reviewer", "peer_assignments", ["reviewer_id"])
    op.create_table(
        "evidence_reviews",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "evidence_id",
            sa.String(32),
            sa.ForeignKey("evidence_items.evidence_id", ondelete="RESTRICT"),
            nullable=False,
        ),
        sa.Column("reviewer_id", sa.String(64), nullable=False),
        sa.Column("role", sa.String(8), nullable=False),
        sa.Column("rating", sa.String(8), nullable=False),
        sa.Column("comment", sa.Text, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("key_id", sa.String(32), nullable=False),
    )
    op.create_index("ix_evidence_reviews_evidence", "evidence_reviews", ["evidence_id"])
    dialect = op.get_bind().dialect.name
    statements = {"sqlite": SQLITE_REVIEW_TRIGGERS, "postgresql": POSTGRES_REVIEW_TRIGGER}
    for statement in statements.get(dialect, []):
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS evidence_reviews_no_change ON evidence_reviews")
        op.execute("DROP FUNCTION IF EXISTS evidence_reviews_append_only()")
    for table in ("evidence_reviews", "peer_assignments", "evidence_items", "evidence_submissions"):
        op.drop_table(table)
