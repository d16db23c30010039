"""Reads of the per-teacher and per-month aggregates: the 未达标名单, a school's teachers, trends.

``teacher_progress`` and ``school_monthly`` are written by :func:`service.db.progress_summary.
refresh_region` (the caller refreshes first and passes the basis it returned), so every read
here is an indexed query over at most an area's teachers: a region-wide 未达标名单 is read one
keyset page at a time (most hours missing first, then teacher id), never loaded whole.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import and_, case, func, literal_column, or_, select
from sqlalchemy.orm import Session

from service.db.models import Grade, School, Teacher
from service.db.scale_models import SchoolMonthly, SchoolProgress, TeacherProgress
from service.db.stores.dashboard_queries import Area

__all__ = [
    "TEACHER_COLUMNS",
    "BehindCursor",
    "behind_page",
    "count_behind",
    "grade_counts",
    "group_sizes",
    "iter_behind",
    "monthly_rows",
    "school_teachers",
]

#: Columns of a teacher row, as :func:`recommender.school_planning.school_progress` names them.
TEACHER_COLUMNS = [
    "teacher_id",
    "school_id",
    "rollout_batch",
    "research_group",
    "stage",
    "subject",
    "hours",
    "practice_hours",
    "online_hours",
    "compliant",
    "hours_missing",
]


@dataclass(frozen=True)
class BehindCursor:
    """Where the next page of a 未达标名单 starts: after this (hours missing, teacher id)."""

    hours_missing: float
    teacher_id: str

    def encode(self) -> str:
        """``<hours missing>~<teacher id>``, what the client sends back as ``after``."""
        return f"{self.hours_missing!r}~{self.teacher_id}"

    @classmethod
    def decode(cls, value: str) -> BehindCursor:
        """Parse :meth:`encode`'s text; ``ValueError`` names the bad cursor."""
        missing, sep, teacher = value.partition("~")
        if not sep or not teacher:
            raise ValueError(f"cursor {value!r} is not <hours missing>~<teacher id>")
        return cls(float(missing), teacher)


def _teacher_query(basis: str, area: Area) -> Any:
    return (
        select(
            TeacherProgress.teacher_id,
            TeacherProgress.school_id,
            School.rollout_batch,
            func.coalesce(Teacher.research_group, ""),
            Teacher.stage,
            Teacher.subject,
            TeacherProgress.hours,
            TeacherProgress.practice_hours,
            TeacherProgress.online_hours,
            TeacherProgress.compliant,
            TeacherProgress.hours_missing,
        )
        .join(Teacher, Teacher.teacher_id == TeacherProgress.teacher_id)
        .join(School, School.school_id == TeacherProgress.school_id)
        .where(TeacherProgress.basis == basis, *_area_filter(area))
    )


def _area_filter(area: Area) -> list[Any]:
    """Conditions on ``teacher_progress`` first (its indexes and, on PostgreSQL, its partition
    key: an area with a region reads that region's partition only), then on the schools."""
    where: list[Any] = []
    if area.school_id is not None:
        where.append(TeacherProgress.school_id == area.school_id)
    if area.region is not None:
        where.append(TeacherProgress.region == area.region)
    if area.city is not None or area.district is not None:
        where.extend(Area(city=area.city, district=area.district).conditions())
    return where


def _frame(rows: Sequence[Any]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=TEACHER_COLUMNS)
    frame["compliant"] = frame["compliant"].astype(bool)
    return frame


def school_teachers(session: Session, basis: str, region: str, school_id: str) -> pd.DataFrame:
    """Every teacher of a school with 学时 and status (:data:`TEACHER_COLUMNS`), by teacher id.

    ``region`` is the school's: ``teacher_progress`` is partitioned by it (PostgreSQL), and a
    read by school alone would probe every region's partition.
    """
    area = Area(region=region, school_id=school_id)
    query = _teacher_query(basis, area).order_by(TeacherProgress.teacher_id)
    return _frame(session.execute(query).all())


def _behind_query(basis: str, area: Area, after: BehindCursor | None) -> Any:
    query = _teacher_query(basis, area).where(TeacherProgress.compliant == 0)
    if after is not None:
        order = -after.hours_missing
        query = query.where(
            or_(
                TeacherProgress.behind_order > order,
                and_(
                    TeacherProgress.behind_order == order,
                    TeacherProgress.teacher_id > after.teacher_id,
                ),
            )
        )
    # behind_order = −hours missing: most missing first, in the index's ascending order.
    return query.order_by(TeacherProgress.behind_order, TeacherProgress.teacher_id)


def behind_page(
    session: Session, basis: str, area: Area, *, after: BehindCursor | None, limit: int
) -> tuple[pd.DataFrame, BehindCursor | None]:
    """One page of the area's 未达标名单 (most hours missing first) and the next page's cursor
    (``None`` on the last page)."""
    rows = session.execute(_behind_query(basis, area, after).limit(limit + 1)).all()
    page = _frame(rows[:limit])
    if len(rows) <= limit or page.empty:
        return page, None
    last = page.iloc[-1]
    return page, BehindCursor(float(last["hours_missing"]), str(last["teacher_id"]))


def iter_behind(
    session: Session, basis: str, area: Area, *, chunk: int = 2000
) -> Iterator[pd.DataFrame]:
    """The whole 未达标名单 in pages of ``chunk`` rows (for a streamed export)."""
    after: BehindCursor | None = None
    while True:
        page, after = behind_page(session, basis, area, after=after, limit=chunk)
        if not page.empty:
            yield page
        if after is None:
            return


def count_behind(session: Session, basis: str, area: Area) -> int:
    """Teachers of the area not meeting the policy: a sum over the area's schools' aggregates
    (written in the same refresh as the per-teacher rows), not a count of a region's rows."""
    query = (
        select(func.coalesce(func.sum(SchoolProgress.n_teachers - SchoolProgress.n_compliant), 0))
        .join(School, School.school_id == SchoolProgress.school_id)
        .where(SchoolProgress.basis == basis, *area.conditions())
    )
    return int(session.execute(query).scalar_one())


def grade_counts(session: Session, region: str, teacher_ids: list[str]) -> pd.DataFrame:
    """Per teacher of ``region``: points assessed, passed (优秀/合格) and failed, on each point's
    latest grade (the region names ``grades``' partition on PostgreSQL)."""
    columns = ["teacher_id", "points_assessed", "points_passed", "points_failed"]
    if not teacher_ids:
        return pd.DataFrame(columns=columns)
    latest = (
        select(
            Grade.teacher_id,
            Grade.grade,
            func.row_number()
            .over(partition_by=(Grade.teacher_id, Grade.point), order_by=Grade.assessed_at.desc())
            .label("rn"),
        )
        .where(Grade.region == region, Grade.teacher_id.in_(teacher_ids))
        .subquery()
    )
    passed = func.sum(case((latest.c.grade.in_(["优秀", "合格"]), 1), else_=0))
    failed = func.sum(case((latest.c.grade == "不合格", 1), else_=0))
    rows = session.execute(
        select(latest.c.teacher_id, func.count(), passed, failed)
        .where(latest.c.rn == 1)
        .group_by(latest.c.teacher_id)
    ).all()
    return pd.DataFrame(rows, columns=columns)


def monthly_rows(session: Session, basis: str, area: Area, by: str) -> pd.DataFrame:
    """学时 per (group, month) of the area: ``group``, ``month``, ``hours``, ``practice_hours``,
    ``active_teachers``, ``completions`` (``by``: ``total``, ``research_group`` or ``school_id``).

    A teacher belongs to one school and one 教研组, so summing the per-school counts of active
    teachers counts each teacher once per month.
    """
    keys: list[Any] = [SchoolMonthly.month]
    if by == "research_group":
        keys.insert(0, SchoolMonthly.research_group)
    elif by == "school_id":
        keys.insert(0, SchoolMonthly.school_id)
    query = (
        select(
            *keys,
            func.sum(SchoolMonthly.hours),
            func.sum(SchoolMonthly.practice_hours),
            func.sum(SchoolMonthly.active_teachers),
            func.sum(SchoolMonthly.completions),
        )
        .join(School, School.school_id == SchoolMonthly.school_id)
        .where(SchoolMonthly.basis == basis, *area.conditions())
        .group_by(*keys)
    )
    columns = ["month", "hours", "practice_hours", "active_teachers", "completions"]
    if by != "total":
        columns.insert(0, "group")
    frame = pd.DataFrame(session.execute(query).all(), columns=columns)
    if by == "total":
        frame.insert(0, "group", "total")
    return frame


def group_sizes(session: Session, basis: str, area: Area, by: str) -> dict[str, int]:
    """Teachers per trend group (the denominators of the running mean hours)."""
    if by == "research_group":
        group = func.coalesce(Teacher.research_group, literal_column("''"))
        rows = session.execute(
            select(group, func.count())
            .join(School, School.school_id == Teacher.school_id)
            .where(*area.conditions())
            .group_by(group)
        ).all()
        return {str(name): int(n) for name, n in rows}
    query = (
        select(SchoolProgress.school_id, SchoolProgress.n_teachers)
        .join(School, School.school_id == SchoolProgress.school_id)
        .where(SchoolProgress.basis == basis, *area.conditions())
    )
    sizes = {str(school): int(n) for school, n in session.execute(query).all()}
    return sizes if by == "school_id" else {"total": sum(sizes.values())}
