"""Everything stored about one teacher that the models need, read and written in one place.

"A teacher's completed items" has one definition here (:func:`completed_items` over
:func:`completion_events`), used by the API, the use cases and the CLI alike.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from service.db.models import Event, Grade, Response, School, Teacher

__all__ = [
    "TeacherRecord",
    "completed_items",
    "completion_events",
    "load_record",
    "store_answers",
]


def completion_events(events: pd.DataFrame, teacher_id: str | None = None) -> pd.DataFrame:
    """The ``complete`` events of an events table (of one teacher), oldest first.

    The sort is stable, so events stored in order keep it among equal timestamps.
    """
    if events.empty:
        return events
    done = events["event"] == "complete"
    if teacher_id is not None:
        done &= events["teacher_id"].astype(str) == teacher_id
    return events[done].sort_values("timestamp", kind="stable")


def completed_items(item_ids: Iterable[object]) -> list[str]:
    """Catalog ids a teacher completed, in the order given, each once (``None`` skipped).

    Feed it the ``item_id`` column of :func:`completion_events` or the rows of a query of
    ``complete`` events; a completed item is never recommended again.
    """
    return list(dict.fromkeys(str(item) for item in item_ids if item is not None))


@dataclass
class TeacherRecord:
    """A teacher, their school and their evidence (answers, grades, learning events)."""

    teacher: Teacher
    school: School
    responses: dict[str, float] = field(default_factory=dict)
    grades: list[dict[str, Any]] = field(default_factory=list)
    events: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def completed(self) -> list[str]:
        """Catalog ids the teacher completed, in completion order, without repeats."""
        if self.events.empty:
            return []
        return completed_items(completion_events(self.events)["item_id"])

    @property
    def chosen_points(self) -> list[str]:
        """The school's chosen points (一校一策)."""
        return [code for code in self.school.chosen_points.split(";") if code]


def load_record(session: Session, teacher: Teacher, school: School) -> TeacherRecord:
    """Read the teacher's answers, grades and catalog events (assessments are grades)."""
    teacher_id = teacher.teacher_id
    responses = {
        row.item_id: float(row.response)
        for row in session.scalars(select(Response).where(Response.teacher_id == teacher_id))
    }
    grades = [
        {"teacher_id": teacher_id, "point": g.point, "grade": g.grade, "assessed_at": g.assessed_at}
        for g in session.scalars(
            select(Grade).where(Grade.teacher_id == teacher_id).order_by(Grade.assessed_at)
        )
    ]
    rows = session.execute(
        select(Event.event_id, Event.item_id, Event.event, Event.value, Event.timestamp)
        .where(Event.teacher_id == teacher_id, Event.event != "assessment")
        .order_by(Event.timestamp, Event.id)
    ).all()
    events = pd.DataFrame(rows, columns=["event_id", "item_id", "event", "value", "timestamp"])
    events.insert(1, "teacher_id", teacher_id)
    return TeacherRecord(
        teacher=teacher, school=school, responses=responses, grades=grades, events=events
    )


def store_answers(session: Session, teacher_id: str, answers: Mapping[str, float]) -> None:
    """Upsert questionnaire answers ``{item_id: response}``: a new answer replaces the old one."""
    if not answers:
        return
    now = datetime.now(UTC)
    region = session.scalar(select(Teacher.region).where(Teacher.teacher_id == teacher_id))
    rows = [
        {
            "teacher_id": teacher_id,
            "region": region,
            "item_id": item,
            "response": value,
            "answered_at": now,
        }
        for item, value in answers.items()
    ]
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(Response).values(rows)
    statement = statement.on_conflict_do_update(
        index_elements=["teacher_id", "item_id", "region"],
        set_={
            "response": statement.excluded.response,
            "answered_at": statement.excluded.answered_at,
        },
    )
    session.execute(statement)
