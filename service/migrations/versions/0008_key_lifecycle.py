"""API key lifecycle: expiry, rotation with a grace period, last-used time, who created a key.

New nullable columns on ``api_keys`` (existing keys keep working unchanged: no expiry, never
rotated, not yet seen):

* ``expires_at`` — requests after it answer 401 (the key is kept for the record);
* ``rotated_at``, ``previous_secret_hash``, ``previous_valid_until`` — after ``nengli keys rotate``
  the previous secret is still accepted until ``previous_valid_until`` (the grace period);
* ``last_used_at`` — written at most once a minute per key and worker, never backwards;
* ``created_by`` — the admin key that created it over HTTP (NULL from the CLI).

Revision ID: 0008_key_lifecycle
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

# A descriptive id rather than "0008": another branch adds its own 0008, and two equal ids
# would make Alembic refuse both; re-chain ``down_revision`` when merging.
revision = "0008_key_lifecycle"
down_revision = "0007"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)

_COLUMNS = (
    ("expires_at", TZ),
    ("last_used_at", TZ),
    ("rotated_at", TZ),
    ("previous_secret_hash", sa.String(64)),
    ("previous_valid_until", TZ),
    ("created_by", sa.String(32)),
)


def upgrade() -> None:
    # batch mode: SQLite cannot drop columns in place (downgrade), and batch is a no-op
    # wrapper on PostgreSQL.
    with op.batch_alter_table("api_keys") as batch:
        for name, type_ in _COLUMNS:
            batch.add_column(sa.Column(name, type_, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        for name, _type in reversed(_COLUMNS):
            batch.drop_column(name)
