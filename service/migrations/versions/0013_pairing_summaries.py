"""结对帮扶 at province scale: per-school mastery summaries and the region's pairing result.

A region's pairing read every teacher's stored mastery and built a weak × partner × point array
(1,000,000 teachers: 74 s a request, 3.8 GB). Pairing needs of a school only its teachers'
mean mastery per point and its three best teachers per point (the mentors), so

* ``school_pairing_summary`` — one row per school and model version: ``n_teachers``, the mean
  mastery per point and the three best teachers per point (JSON lists in framework order), and
  a ``stamp`` that changes whenever the row is rewritten; written with the school's
  ``teacher_mastery`` rows, from the same diagnosis;
* ``region_pairing`` — the region's last pairing result (pairs and mentors as the API sends
  them) under ``input_key``, a hash of the model version and of every school's pairing columns
  (environment, city, urban/rural) and summary stamp: a read that computes the same key serves
  the stored result, any other key recomputes it (no trigger is trusted with its freshness).

Both carry a ``region`` behind 0011's fail-closed policy (PostgreSQL); the summary's composite
foreign key ``(region, school_id) → schools`` cascades like the other aggregates'. SQLite gets
the same tables without policies. Every school starts without a summary, so the first pairing
read after the upgrade writes them.

Revision ID: 0013_pairing_summaries
Revises: 0012_list_reasons
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_pairing_summaries"
down_revision = "0012_list_reasons"
branch_labels = None
depends_on = None

TABLES = ("school_pairing_summary", "region_pairing")

_SETTING = "(SELECT current_setting('nengli.region', true))"
_IN_REGION = f"({_SETTING} = '*' OR region = {_SETTING})"


def upgrade() -> None:
    op.create_table(
        "school_pairing_summary",
        sa.Column("school_id", sa.String(32), nullable=False),
        sa.Column("model_version", sa.String(64), nullable=False),
        sa.Column("region", sa.String(64), nullable=False),
        sa.Column("n_teachers", sa.Integer, nullable=False),
        sa.Column("means", sa.Text, nullable=False),
        sa.Column("mentors", sa.Text, nullable=False),
        sa.Column("stamp", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("school_id", "model_version"),
        sa.ForeignKeyConstraint(
            ["region", "school_id"],
            ["schools.region", "schools.school_id"],
            name="fk_school_pairing_summary_school",
            ondelete="CASCADE",
            onupdate="CASCADE",
        ),
    )
    op.create_index(
        "ix_school_pairing_summary_region",
        "school_pairing_summary",
        ["region", "model_version"],
    )
    op.create_table(
        "region_pairing",
        sa.Column("region", sa.String(64), primary_key=True),
        sa.Column("model_version", sa.String(64), nullable=False),
        sa.Column("input_key", sa.String(64), nullable=False),
        sa.Column("pairs", sa.Text, nullable=False),
        sa.Column("mentors", sa.Text, nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
    )
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TABLES:
        op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO nengli_api")
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY {table}_by_region ON {table} USING {_IN_REGION} WITH CHECK {_IN_REGION}"
        )


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)  # its policy goes with it
