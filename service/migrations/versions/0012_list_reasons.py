"""Precomputed lists carry their reasons: ``reasons_zh`` and ``reasons_en`` per list row.

The batch renders each listed item's reasons from the model that ranked it (same version as
the row), so the service shows a stored list without rebuilding the reasons per request
(issue 15 §3). Both columns hold a JSON array of strings, as the API sends it, and are NULL for
rows loaded from a batch file without reasons (older batches): those are explained from the
model at request time, as before. On PostgreSQL the columns are added to the partitioned
parent and so to every region's partition.

Revision ID: 0012_list_reasons
Revises: 0011_aggregate_regions
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_list_reasons"
down_revision = "0011_aggregate_regions"
branch_labels = None
depends_on = None

_COLUMNS = ("reasons_zh", "reasons_en")


def upgrade() -> None:
    for name in _COLUMNS:
        op.add_column("recommendation_lists", sa.Column(name, sa.Text(), nullable=True))


def downgrade() -> None:
    for name in reversed(_COLUMNS):
        op.drop_column("recommendation_lists", name)
