"""Reads behind the school and district views: completions over time and the teachers of an area.

The 校长 / CIO and the 区县 project office ask "how many 学时 did we add each month, per 教研组?"
and "who in my district is behind, and why?". Both need the completed catalog items of a set of
teachers (each item counted once, at its first completion) and the teachers' groups; this module
reads exactly those rows for a school or for a region narrowed to a city or district, so a
district's list never loads the province's questionnaire answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.db.models import Event, Grade, School, Teacher
from service.db.stores.region_aggregates import UNKNOWN

__all__ = ["Area", "AreaTables", "first_completions", "load_area"]

_LOCAL = "Asia/Shanghai"


@dataclass(frozen=True)
class Area:
    """A school, or a region optionally narrowed to a city and a district (``UNKNOWN``: blank)."""

    region: str | None = None
    city: str | None = None
    district: str | None = None
    school_id: str | None = None

    def conditions(self) -> list[Any]:
        """SQL conditions on :class:`School` selecting the area's schools."""
        where: list[Any] = []
        if self.school_id is not None:
            where.append(School.school_id == self.school_id)
        if self.region is not None:
            where.append(School.region == self.region)
        if self.city is not None:
            where.append(func.coalesce(School.city, UNKNOWN) == self.city)
        if self.district is not None:
            where.append(func.coalesce(School.district, UNKNOWN) == self.district)
        return where


@dataclass
class AreaTables:
    """Province-shaped tables of an area: teachers (with ``school_id``), complete events, grades."""

    teachers: pd.DataFrame
    events: pd.DataFrame
    grades: pd.DataFrame


def _local(series: pd.Series) -> pd.Series:
    """Naive Beijing time, the convention of the province tables (as ``service.db.stores.cohort``)."""
    if series.empty:
        return pd.to_datetime(series)
    return pd.to_datetime(series, utc=True).dt.tz_convert(_LOCAL).dt.tz_localize(None)


def _in_area(area: Area) -> Any:
    return (
        select(Teacher.teacher_id)
        .join(School, School.school_id == Teacher.school_id)
        .where(*area.conditions())
    )


def first_completions(session: Session, area: Area) -> pd.DataFrame:
    """One row per (teacher, item) completed in ``area``: ``teacher_id``, ``school_id``,
    ``research_group``, ``item_id`` and ``completed_at`` (first completion, naive Beijing time)."""
    query = (
        select(
            Event.teacher_id,
            Teacher.school_id,
            Teacher.research_group,
            Event.item_id,
            func.min(Event.timestamp),
        )
        .join(Teacher, Teacher.teacher_id == Event.teacher_id)
        .join(School, School.school_id == Teacher.school_id)
        .where(Event.event == "complete", *area.conditions())
        .group_by(Event.teacher_id, Teacher.school_id, Teacher.research_group, Event.item_id)
    )
    columns = ["teacher_id", "school_id", "research_group", "item_id", "completed_at"]
    frame = pd.DataFrame(session.execute(query).all(), columns=columns)
    frame["research_group"] = frame["research_group"].fillna("")
    frame["completed_at"] = _local(frame["completed_at"])
    return frame


def load_area(session: Session, area: Area, *, with_grades: bool = True) -> AreaTables:
    """Teachers, their ``complete`` events and grades in ``area`` (no questionnaire answers).

    ``with_grades=False`` leaves the grades out (an empty table): a district's list needs the
    hours only, and grouping every teacher's grades is most of its cost.
    """
    teacher_columns = ["teacher_id", "school_id", "stage", "subject", "research_group"]
    teachers = pd.DataFrame(
        session.execute(
            select(*[getattr(Teacher, c) for c in teacher_columns])
            .join(School, School.school_id == Teacher.school_id)
            .where(*area.conditions())
            .order_by(Teacher.teacher_id)
        ).all(),
        columns=teacher_columns,
    )
    teachers["research_group"] = teachers["research_group"].fillna("")
    in_scope = _in_area(area)
    events = pd.DataFrame(
        session.execute(
            select(Event.teacher_id, Event.item_id, Event.event, Event.timestamp).where(
                Event.event == "complete", Event.teacher_id.in_(in_scope)
            )
        ).all(),
        columns=["teacher_id", "item_id", "event", "timestamp"],
    )
    events["timestamp"] = _local(events["timestamp"])
    grade_rows = (
        session.execute(
            select(Grade.teacher_id, Grade.point, Grade.grade, Grade.assessed_at).where(
                Grade.teacher_id.in_(in_scope)
            )
        ).all()
        if with_grades
        else []
    )
    grades = pd.DataFrame(grade_rows, columns=["teacher_id", "point", "grade", "assessed_at"])
    grades["assessed_at"] = _local(grades["assessed_at"])
    return AreaTables(teachers=teachers, events=events, grades=grades)
