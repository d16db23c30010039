"""The recommendation request's read, cheaper: ``nengli_list_rows`` and a completions index.

Measured on the 3,000-teacher bench province (CPU of the PostgreSQL backend per prepared call,
``/proc/<pid>/stat``, 2026-12-06): 0014's ``nengli_list_read`` cost 228–258 µs a call against
18 µs for ``SELECT 1``; its list read was the largest part — the four
``array_agg(… ORDER BY rank)`` sort the list four times (PostgreSQL 15 sorts each ordered
aggregate on its own) and copy every value into arrays: 167 µs as arrays against 87 µs for the
same rows returned as rows. This revision adds:

* ``nengli_list_rows`` — the same arguments, prelude, role and reads as 0014's function, and the
  same empty answer for a teacher the key may not see, returned as rows: the first row carries
  the teacher's ``school_id``, ``region`` and ``completed`` items (its list columns NULL), then
  one row per item of the served list in rank order (``rank``, ``item_id``, ``score``,
  ``reasons_zh``, ``reasons_en``; the scope columns NULL). The region's list pointer is checked
  by ``EXISTS`` instead of a join per row. 0014's function is kept: workers of the previous
  release call it until they are replaced.
* ``ix_events_completed`` — ``events (teacher_id, item_id, region) WHERE event = 'complete'``:
  the teacher's completed items are read from the index alone (an index-only scan once the
  table is vacuumed; ``region`` is in it because the read names the partition's region) instead
  of one heap fetch per event of the teacher, which at a million teachers lie scattered over the
  table in the order the events arrived. SQLite gets the same partial index.

Revision ID: 0015_list_rows
Revises: 0014_list_read
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015_list_rows"
down_revision = "0014_list_read"
branch_labels = None
depends_on = None

SIGNATURE = "nengli_list_rows(text, text, boolean, text, text, text)"

FUNCTION = """
CREATE OR REPLACE FUNCTION nengli_list_rows(
    p_role text, p_scope text, p_secure boolean, p_teacher text, p_version text, p_kind text
) RETURNS TABLE (
    school_id text, region text, completed text[],
    rank integer, item_id text, score double precision, reasons_zh text, reasons_en text
) LANGUAGE plpgsql AS $$
DECLARE
    v_school text;
    v_region text;
    v_teacher_region text;
BEGIN
    IF p_secure THEN
        PERFORM set_config('nengli.region', COALESCE(CASE p_role
            WHEN 'admin' THEN '*'
            WHEN 'platform' THEN p_scope
            WHEN 'school' THEN (SELECT s.region FROM schools s WHERE s.school_id = p_scope)
            WHEN 'teacher' THEN (SELECT t.region FROM teachers t WHERE t.teacher_id = p_scope)
        END, ''), true);
        PERFORM set_config('role', 'nengli_api', true);
    END IF;
    SELECT t.school_id, s.region, t.region INTO v_school, v_region, v_teacher_region
    FROM teachers t JOIN schools s ON s.school_id = t.school_id
    WHERE t.teacher_id = p_teacher;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    school_id := v_school;
    region := v_region;
    completed := ARRAY(
        SELECT e.item_id FROM events e
        WHERE e.teacher_id = p_teacher AND e.region = v_teacher_region AND e.event = 'complete'
    );
    RETURN NEXT;
    IF p_version IS NOT NULL THEN
        RETURN QUERY
        SELECT NULL::text, NULL::text, NULL::text[],
               l.rank, l.item_id::text, l.score, l.reasons_zh, l.reasons_en
        FROM recommendation_lists l
        WHERE l.region = v_teacher_region AND l.model_version = p_version
          AND l.teacher_id = p_teacher AND l.kind = p_kind
          AND EXISTS (
              SELECT 1 FROM list_pointers p
              WHERE p.region = v_teacher_region AND p.model_version = p_version
          )
        ORDER BY l.rank;
    END IF;
END
$$
"""


def upgrade() -> None:
    op.create_index(
        "ix_events_completed",
        "events",
        ["teacher_id", "item_id", "region"],
        postgresql_where=sa.text("event = 'complete'"),
        sqlite_where=sa.text("event = 'complete'"),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(FUNCTION)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP FUNCTION IF EXISTS {SIGNATURE}")
    op.drop_index("ix_events_completed", table_name="events")
