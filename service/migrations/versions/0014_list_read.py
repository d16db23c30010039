"""The recommendation request's read as one PostgreSQL function: ``nengli_list_read``.

The request of a known teacher served from the precomputed lists reads, in one transaction,
the row-level security settings of its key, the teacher's school and region (tenancy), the
teacher's completed items and the teacher's served list with its stored reasons (issue 15 §3).
Sent as one multi-statement simple query, PostgreSQL parsed and planned those statements on
every request, over partitioned tables; in a PL/pgSQL function the plans are made once per
connection and kept, and the client sends one prepared ``SELECT`` (one round trip, one row).

The function does what the statements did, in the same order and as the same role:

1. when ``p_secure``: ``nengli.region`` from the key (``'*'`` for admin keys, the scope for a
   platform key, the region of a school or teacher key's school or teacher, looked up before
   the role changes; empty for any other role) and ``role`` set to ``nengli_api``, both for
   the transaction only (``set_config(…, true)``, as :func:`service.db.row_security.
   driver_prelude`);
2. the teacher's school id, the school's region and the teacher's region (no row: the teacher
   does not exist or row-level security hides it, and the function returns no row);
3. the item ids of the teacher's ``complete`` events, in the teacher's partition of events;
4. when ``p_version`` is not NULL, the teacher's list of kind ``p_kind`` and model version
   ``p_version`` in the teacher's region, only if the region's list pointer names that version,
   best first: item ids, scores and the two reason columns (NULL where the batch stored none).

It returns one row of those: ``school_id``, ``region``, ``completed`` (text[]) and
``item_ids``, ``scores``, ``reasons_zh``, ``reasons_en`` (arrays, empty when no list was asked
or none is served). SECURITY INVOKER: it reads with the caller's privileges, and row-level
security applies to its reads exactly as to the statements it replaces. SQLite has no such
function; there the service runs the statements one after the other, as before.

Revision ID: 0014_list_read
Revises: 0012_list_reasons
Create Date: 2026-12-04
"""

from __future__ import annotations

from alembic import op

revision = "0014_list_read"
down_revision = "0013_pairing_summaries"
branch_labels = None
depends_on = None

SIGNATURE = "nengli_list_read(text, text, boolean, text, text, text)"

FUNCTION = """
CREATE OR REPLACE FUNCTION nengli_list_read(
    p_role text, p_scope text, p_secure boolean, p_teacher text, p_version text, p_kind text
) RETURNS TABLE (
    school_id text, region text, completed text[],
    item_ids text[], scores double precision[], reasons_zh text[], reasons_en text[]
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
    item_ids := '{}';
    scores := '{}';
    reasons_zh := '{}';
    reasons_en := '{}';
    IF p_version IS NOT NULL THEN
        SELECT COALESCE(array_agg(l.item_id ORDER BY l.rank), '{}'),
               COALESCE(array_agg(l.score ORDER BY l.rank), '{}'),
               COALESCE(array_agg(l.reasons_zh ORDER BY l.rank), '{}'),
               COALESCE(array_agg(l.reasons_en ORDER BY l.rank), '{}')
        INTO item_ids, scores, reasons_zh, reasons_en
        FROM recommendation_lists l
        JOIN list_pointers p ON p.region = l.region AND p.model_version = l.model_version
        WHERE l.region = v_teacher_region AND l.model_version = p_version
          AND l.teacher_id = p_teacher AND l.kind = p_kind;
    END IF;
    RETURN NEXT;
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(FUNCTION)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"DROP FUNCTION IF EXISTS {SIGNATURE}")
