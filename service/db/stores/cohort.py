"""Province-shaped tables of one school or region, read from the database for the models.

School plans, portraits and regional progress work on whole groups of teachers; the model code
expects the province tables of ``competency_model.province``, so this module builds exactly those
(timestamps as naive Beijing time, like an imported export) for the teachers in scope.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from competency_model.province import TABLE_COLUMNS
from service.db.models import Event, Grade, Response, School, Teacher
from service.db.stores.province import LOCAL_TIMEZONE

__all__ = ["Cohort", "load_cohort", "local_now"]

#: The province contract's columns; ``n_teachers`` is not stored (count the teachers instead).
SCHOOL_COLUMNS = [c for c in TABLE_COLUMNS["schools"] if c != "n_teachers"]
TEACHER_COLUMNS = list(TABLE_COLUMNS["teachers"])


def local_now() -> pd.Timestamp:
    """Now as naive Beijing time (the convention of province tables)."""
    return pd.Timestamp(datetime.now(UTC)).tz_convert(LOCAL_TIMEZONE).tz_localize(None).floor("s")


def _local(series: pd.Series) -> pd.Series:
    stamps = pd.to_datetime(series, utc=True)
    return stamps.dt.tz_convert(LOCAL_TIMEZONE).dt.tz_localize(None).astype("datetime64[us]")


@dataclass
class Cohort:
    """The province tables restricted to some schools (duck-typed like ``Province``)."""

    schools: pd.DataFrame
    teachers: pd.DataFrame
    responses: pd.DataFrame
    grades: pd.DataFrame
    events: pd.DataFrame


def _frame(session: Session, query: Any, columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(session.execute(query).all(), columns=columns)


def load_cohort(
    session: Session,
    *,
    school_id: str | None = None,
    region: str | None = None,
    school_ids: list[str] | None = None,
) -> Cohort:
    """Tables of one school (``school_id``), of some schools (``school_ids``) or of all the
    schools of ``region``."""
    if school_id is not None:
        school_filter = School.school_id == school_id
    elif school_ids is not None:
        school_filter = School.school_id.in_(school_ids)
    else:
        school_filter = School.region == region
    schools = _frame(
        session,
        select(*[getattr(School, c) for c in SCHOOL_COLUMNS]).where(school_filter),
        SCHOOL_COLUMNS,
    )
    teacher_query = (
        select(*[getattr(Teacher, c) for c in TEACHER_COLUMNS])
        .join(School, School.school_id == Teacher.school_id)
        .where(school_filter)
    )
    teachers = _frame(session, teacher_query, TEACHER_COLUMNS)
    in_scope = (
        select(Teacher.teacher_id)
        .join(School, School.school_id == Teacher.school_id)
        .where(school_filter)
    )
    responses = _frame(
        session,
        select(Response.teacher_id, Response.item_id, Response.response).where(
            Response.teacher_id.in_(in_scope)
        ),
        ["teacher_id", "item_id", "response"],
    )
    grades = _frame(
        session,
        select(Grade.teacher_id, Grade.point, Grade.grade, Grade.assessed_at).where(
            Grade.teacher_id.in_(in_scope)
        ),
        ["teacher_id", "point", "grade", "assessed_at"],
    )
    events = _frame(
        session,
        select(
            Event.event_id,
            Event.teacher_id,
            Event.item_id,
            Event.event,
            Event.value,
            Event.timestamp,
        ).where(Event.teacher_id.in_(in_scope), Event.event != "assessment"),
        ["event_id", "teacher_id", "item_id", "event", "value", "timestamp"],
    )
    grades["assessed_at"] = _local(grades["assessed_at"])
    events["timestamp"] = _local(events["timestamp"])
    events["value"] = events["value"].astype("float64")
    responses["response"] = responses["response"].astype("float64")
    teachers["research_group"] = teachers["research_group"].fillna("")
    return Cohort(
        schools=schools, teachers=teachers, responses=responses, grades=grades, events=events
    )
