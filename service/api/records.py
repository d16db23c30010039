"""Everything stored about one teacher that the models need, read in one place."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.db.models import Event, Grade, Response, School, Teacher

__all__ = ["TeacherRecord", "load_record"]


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
        done = self.events[self.events["event"] == "complete"].sort_values("timestamp")
        return list(dict.fromkeys(done["item_id"].astype(str)))

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
