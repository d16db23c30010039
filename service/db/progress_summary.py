"""Per-school progress aggregates, kept current by triggers and recomputed only where stale.

A region's dashboard must not read the region's events: at a million teachers that is tens of
millions of rows. Instead each school keeps its sums (teachers, started, compliant, 学时) per
*basis* — a hash of the policy's hour rules and the catalog's hours and kinds, the only inputs
of the arithmetic besides the rows — and its latest-grade counts per point. Database triggers
(migration 0007) mark a school in ``progress_dirty`` whenever its teachers, events or grades
change; :func:`refresh_region` recomputes, in set-based SQL, exactly the schools of a region
that are dirty or have no row for the basis asked for — each teacher's 学时 and status
(``teacher_progress``), 学时 per month and 教研组 (``school_monthly``) and the school's sums —
then every dashboard figure is a sum over at most a region's schools or an indexed read of
its teachers (the region's grade counts are kept summed in
``region_grades``, recomputed whenever one of its schools' grades was).

The arithmetic is the one of :mod:`recommender.school_planning.progress` (tested for parity
on SQLite and PostgreSQL): 学时 = catalog hours of the distinct items completed, practice and
online hours by the policy's kind lists, compliant when every hour rule holds (1e-9 tolerance).

Every read of ``events``, ``grades`` and ``teachers`` names the region (``e.region = :region``,
``t.region = g.region``): on PostgreSQL those tables are partitioned by region (migration 0008)
and a join by ``teacher_id`` alone reads every region's partitions. The composite foreign key
``(region, teacher_id) → teachers`` makes a row's region its teacher's, and a teacher's region
its school's, so the added conditions select the same rows. Since migration 0011 the same holds
for the aggregates themselves: every one carries its school's region (foreign key
``(region, school_id) → schools``), ``teacher_progress`` is partitioned by it, and every
statement here writes the region and selects by it (``region = :region``) — the row-level
policies by region apply to them all.
"""

from __future__ import annotations

import hashlib
import json

from sqlalchemy import text
from sqlalchemy.orm import Session

from competency_model.catalog import Catalog
from competency_model.policy import Policy
from service.db.aggregate_statistics import analyze_aggregates

__all__ = ["basis_of", "refresh_region"]

_TOLERANCE = 1e-9


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _catalog_values(catalog: Catalog, policy: Policy) -> str:
    """The catalog's hours and kinds as an SQL ``VALUES`` list (the catalog lives in the service)."""
    rows = [
        f"({_literal(item.item_id)}, {float(item.hours)!r}, "
        f"{int(item.kind in policy.practice_kinds)}, {int(item.kind in policy.online_kinds)})"
        for item in catalog
    ]
    return ", ".join(rows) if rows else "(NULL, 0.0, 0, 0)"


def basis_of(catalog: Catalog, policy: Policy) -> str:
    """Hash of everything besides the rows that the 学时 arithmetic reads (16 hex digits)."""
    payload = {
        "rules": [
            policy.total_hours,
            policy.min_practice_hours,
            policy.min_practice_share,
            policy.min_online_hours,
            sorted(policy.practice_kinds),
            sorted(policy.online_kinds),
        ],
        "items": sorted((item.item_id, float(item.hours), item.kind) for item in catalog),
    }
    encoded = json.dumps(payload, ensure_ascii=False, sort_keys=True).encode("utf-8")
    return hashlib.sha256(encoded).hexdigest()[:16]


def _lock(session: Session, region: str) -> None:
    """Serialise refreshes of one region (PostgreSQL; SQLite has one writer anyway)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT pg_advisory_xact_lock(hashtext('nengli_progress:' || :region))"),
            {"region": region},
        )


_CLEAR_DIRTY = [
    f"DELETE FROM {table} WHERE region = :region AND school_id IN "
    "(SELECT d.school_id FROM progress_dirty d WHERE d.region = :region)"
    for table in (
        "teacher_progress",
        "school_monthly",
        "school_progress",
        "school_grades",
        "school_grades_fresh",
        "progress_dirty",
    )
]

_TARGETS = """targets AS (
    SELECT s.school_id, s.region FROM schools s
    WHERE s.region = :region AND NOT EXISTS (
        SELECT 1 FROM school_progress p
        WHERE p.school_id = s.school_id AND p.basis = :basis AND p.region = :region)
)"""

#: Leftovers of an interrupted refresh of the target schools (the per-teacher rows first).
_CLEAR_TARGETS = [
    f"WITH {_TARGETS} DELETE FROM {table} WHERE basis = :basis AND region = :region "
    "AND school_id IN (SELECT school_id FROM targets)"
    for table in ("teacher_progress", "school_monthly")
]

_TEACHERS = f"""
WITH catalog_hours(item_id, hours, practice, online) AS (VALUES {{catalog}}),
{_TARGETS},
scoped AS (
    SELECT t.teacher_id, t.school_id, g.region FROM teachers t
    JOIN targets g ON g.school_id = t.school_id WHERE t.region = :region
),
done AS (
    SELECT DISTINCT e.teacher_id, e.item_id FROM events e
    JOIN scoped c ON c.teacher_id = e.teacher_id
    WHERE e.region = :region AND e.event = 'complete'
),
earned AS (
    SELECT d.teacher_id, sum(h.hours) AS hours, sum(h.hours * h.practice) AS practice_hours,
           sum(h.hours * h.online) AS online_hours
    FROM done d JOIN catalog_hours h ON h.item_id = d.item_id GROUP BY d.teacher_id
),
started AS (
    SELECT DISTINCT e.teacher_id FROM events e
    JOIN scoped c ON c.teacher_id = e.teacher_id
    WHERE e.region = :region AND e.event = 'enrol'
),
per_teacher AS (
    SELECT c.teacher_id, c.school_id, c.region,
           coalesce(x.hours, 0.0) AS hours,
           coalesce(x.practice_hours, 0.0) AS practice_hours,
           coalesce(x.online_hours, 0.0) AS online_hours,
           CASE WHEN st.teacher_id IS NULL THEN 0 ELSE 1 END AS started
    FROM scoped c
    LEFT JOIN earned x ON x.teacher_id = c.teacher_id
    LEFT JOIN started st ON st.teacher_id = c.teacher_id
)
INSERT INTO teacher_progress (basis, teacher_id, school_id, region, hours, practice_hours,
                              online_hours, started, compliant, hours_missing, behind_order)
SELECT :basis, p.teacher_id, p.school_id, p.region, p.hours, p.practice_hours, p.online_hours,
       p.started,
       CASE WHEN p.hours + {{tol}} >= :total
             AND p.practice_hours + {{tol}} >= :min_practice
             AND (CASE WHEN p.hours > 0 THEN p.practice_hours / p.hours ELSE 0.0 END)
                 + {{tol}} >= :min_share
             AND p.online_hours + {{tol}} >= :min_online THEN 1 ELSE 0 END,
       CASE WHEN :total - p.hours > 0 THEN :total - p.hours ELSE 0.0 END,
       CASE WHEN :total - p.hours > 0 THEN p.hours - :total ELSE 0.0 END
FROM per_teacher p
"""

#: 学时 per month of first completion, per school and 教研组 (``{{month}}``: the dialect's
#: Beijing-time ``YYYY-MM`` of ``first_at``).
_MONTHLY = f"""
WITH catalog_hours(item_id, hours, practice, online) AS (VALUES {{catalog}}),
{_TARGETS},
scoped AS (
    SELECT t.teacher_id, t.school_id, coalesce(t.research_group, '') AS research_group
    FROM teachers t JOIN targets g ON g.school_id = t.school_id WHERE t.region = :region
),
first_done AS (
    SELECT e.teacher_id, e.item_id, min(e.timestamp) AS first_at FROM events e
    JOIN scoped c ON c.teacher_id = e.teacher_id
    WHERE e.region = :region AND e.event = 'complete'
    GROUP BY e.teacher_id, e.item_id
),
dated AS (
    SELECT c.school_id, c.research_group, {{month}} AS month, d.teacher_id,
           h.hours, h.hours * h.practice AS practice_hours
    FROM first_done d JOIN catalog_hours h ON h.item_id = d.item_id
    JOIN scoped c ON c.teacher_id = d.teacher_id
)
INSERT INTO school_monthly (school_id, region, basis, research_group, month, hours,
                            practice_hours, active_teachers, completions)
SELECT school_id, CAST(:region AS VARCHAR(64)), :basis, research_group, month, sum(hours),
       sum(practice_hours),
       count(DISTINCT teacher_id), count(*)
FROM dated GROUP BY school_id, research_group, month
"""

_MONTH_OF = {
    "postgresql": "to_char(d.first_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM')",
    "sqlite": "strftime('%Y-%m', datetime(d.first_at, '+8 hours'))",
}

_PROGRESS = f"""
WITH {_TARGETS}
INSERT INTO school_progress (school_id, region, basis, n_teachers, n_started, n_compliant,
                             sum_hours, sum_practice_hours, sum_online_hours)
SELECT g.school_id, g.region, :basis, count(p.teacher_id), coalesce(sum(p.started), 0),
       coalesce(sum(p.compliant), 0), coalesce(sum(p.hours), 0.0),
       coalesce(sum(p.practice_hours), 0.0), coalesce(sum(p.online_hours), 0.0)
FROM targets g LEFT JOIN teacher_progress p
    ON p.school_id = g.school_id AND p.basis = :basis AND p.region = :region
GROUP BY g.school_id, g.region
"""

_GRADE_TARGETS = """targets AS (
    SELECT s.school_id, s.region FROM schools s WHERE s.region = :region AND NOT EXISTS (
        SELECT 1 FROM school_grades_fresh f
        WHERE f.school_id = s.school_id AND f.region = :region)
)"""

_GRADES = f"""
WITH {_GRADE_TARGETS},
latest AS (
    SELECT t.school_id, g.point, g.grade,
           row_number() OVER (PARTITION BY g.teacher_id, g.point ORDER BY g.assessed_at DESC) AS rn
    FROM grades g JOIN teachers t ON t.teacher_id = g.teacher_id AND t.region = g.region
    JOIN targets x ON x.school_id = t.school_id WHERE g.region = :region
)
INSERT INTO school_grades (school_id, region, point, grade, n_teachers)
SELECT school_id, CAST(:region AS VARCHAR(64)), point, grade, count(*) FROM latest WHERE rn = 1
GROUP BY school_id, point, grade
"""

_GRADES_FRESH = f"""
WITH {_GRADE_TARGETS}
INSERT INTO school_grades_fresh (school_id, region) SELECT school_id, region FROM targets
"""


_ANY_DIRTY = "SELECT 1 FROM progress_dirty d WHERE d.region = :region LIMIT 1"
_ANY_PROGRESS_TARGET = (
    "SELECT 1 FROM schools s WHERE s.region = :region AND NOT EXISTS (SELECT 1 FROM "
    "school_progress p WHERE p.school_id = s.school_id AND p.basis = :basis "
    "AND p.region = :region) LIMIT 1"
)
_ANY_GRADE_TARGET = (
    "SELECT 1 FROM schools s WHERE s.region = :region AND NOT EXISTS (SELECT 1 FROM "
    "school_grades_fresh f WHERE f.school_id = s.school_id AND f.region = :region) LIMIT 1"
)
_REGION_GRADES = [
    "DELETE FROM region_grades WHERE region = :region",
    "INSERT INTO region_grades (region, point, grade, n_teachers) "
    "SELECT CAST(:region AS VARCHAR(64)), g.point, g.grade, sum(g.n_teachers) "
    "FROM school_grades g WHERE g.region = :region GROUP BY g.point, g.grade",
]


def _analyze(session: Session, region: str, *tables: str) -> None:
    """Fresh statistics after a bulk refresh, or the stale checks above plan a nested loop over
    tables the planner believes empty: seconds at 10,000 schools. Through ``nengli_analyze``
    (a request runs as ``nengli_api``, which may not ANALYZE), in the region's partition of a
    partitioned table (:func:`service.db.aggregate_statistics.analyze_aggregates`)."""
    analyze_aggregates(session, region, tables)


def refresh_region(session: Session, region: str, catalog: Catalog, policy: Policy) -> str:
    """Bring the aggregates of ``region``'s schools up to date for ``policy``; return the basis.

    Cost grows with the schools that changed since the last refresh (all of them on the first
    call after a large import), not with the region: when nothing changed it is three indexed
    existence checks. The caller commits.
    """
    basis = basis_of(catalog, policy)
    where = {"region": region, "basis": basis}
    if session.execute(text(_ANY_DIRTY), where).first() is not None:
        _lock(session, region)
        for statement in _CLEAR_DIRTY:
            session.execute(text(statement), where)
        # The planner must see how many schools lost their rows: with the statistics of
        # before the clear it expects one stale school and joins a region's teachers in
        # nested loops (minutes at 100,000 teachers instead of seconds).
        _analyze(session, region, "school_progress")
    if session.execute(text(_ANY_PROGRESS_TARGET), where).first() is not None:
        _lock(session, region)
        rules = {
            **where,
            "total": policy.total_hours,
            "min_practice": policy.min_practice_hours,
            "min_share": policy.min_practice_share,
            "min_online": policy.min_online_hours,
        }
        catalog_sql = _catalog_values(catalog, policy)
        month = _MONTH_OF.get(session.get_bind().dialect.name, _MONTH_OF["sqlite"])
        for statement in _CLEAR_TARGETS:
            session.execute(text(statement), where)
        session.execute(text(_TEACHERS.format(catalog=catalog_sql, tol=_TOLERANCE)), rules)
        session.execute(text(_MONTHLY.format(catalog=catalog_sql, month=month)), where)
        session.execute(text(_PROGRESS), where)
        _analyze(session, region, "teacher_progress", "school_monthly", "school_progress")
    if session.execute(text(_ANY_GRADE_TARGET), where).first() is not None:
        _lock(session, region)
        session.execute(text(_GRADES), where)
        session.execute(text(_GRADES_FRESH), where)
        for statement in _REGION_GRADES:
            session.execute(text(statement), where)
        _analyze(session, region, "school_grades", "school_grades_fresh", "region_grades")
    return basis
