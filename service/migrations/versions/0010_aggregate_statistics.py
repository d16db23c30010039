"""Fresh planner statistics for the dashboard aggregates, also when the API refreshes them.

The API's transactions run as ``nengli_api`` (0008), which does not own the aggregate tables.
PostgreSQL answers ``ANALYZE`` on a table the role does not own with a warning and skips it, so
after a refresh made by a request the planner kept believing ``school_progress`` and
``teacher_progress`` empty: at 1,000,000 teachers the stale checks of a region refresh became
nested-loop anti-joins (11.7 s for region progress, 16.7 s for the district 未达标名单).

``nengli_analyze(text[])`` runs ``ANALYZE`` as the schema owner (``SECURITY DEFINER``) on the
tables it is given, and only on the aggregate tables listed here: anything else is an error, so
the function cannot be used to touch other tables' statistics. SQLite has no roles and no such
function; nothing changes there.

Revision ID: 0010_aggregate_statistics
Revises: 0009_dashboard_aggregates
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op

revision = "0010_aggregate_statistics"
down_revision = "0009_dashboard_aggregates"
branch_labels = None
depends_on = None

#: The tables a refresh rewrites in bulk (0007, 0009) — the only ones the function analyzes.
AGGREGATE_TABLES = (
    "school_progress",
    "school_grades",
    "school_grades_fresh",
    "region_grades",
    "progress_dirty",
    "teacher_progress",
    "school_monthly",
    "teacher_mastery",
    "mastery_dirty",
)

_ALLOWED = ", ".join(f"'{table}'" for table in AGGREGATE_TABLES)

_FUNCTION = f"""CREATE OR REPLACE FUNCTION nengli_analyze(p_tables text[])
RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
    name text;
BEGIN
    FOREACH name IN ARRAY p_tables LOOP
        IF NOT name = ANY (ARRAY[{_ALLOWED}]) THEN
            RAISE EXCEPTION 'nengli_analyze: % is not an aggregate table', name
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        EXECUTE format('ANALYZE %I', name);
    END LOOP;
END $$"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(_FUNCTION)
    op.execute("REVOKE ALL ON FUNCTION nengli_analyze(text[]) FROM PUBLIC")
    op.execute("GRANT EXECUTE ON FUNCTION nengli_analyze(text[]) TO nengli_api")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP FUNCTION IF EXISTS nengli_analyze(text[])")
