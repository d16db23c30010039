"""Assemble e-portfolios (电子档案) from the database for one teacher or a whole school.

The cycle a status refers to starts on 1 September of the school's rollout year (the policy's
``rollout`` step for the school's ``rollout_batch``, i.e. its 整校推进 batch); without a rollout
the cycle is taken to start with the teacher's first recorded activity.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from competency_model.assessment import (
    DiagnosisEntry,
    EvidenceRecord,
    GradeEntry,
    LearningEvent,
    Portfolio,
    Review,
    TeacherProfile,
    build_portfolio,
)
from competency_model.errors import ModelError
from competency_model.policy import Policy
from service.db.models import Event, Grade, School, Teacher
from service.db.stores.assessment import load_evidence, load_reviews
from service.db.stores.records import load_record
from service.state import ServiceState
from service.usecases import teacher_models
from service.usecases.teacher_models import policy_for

__all__ = ["cycle_start_for", "school_portfolios", "teacher_portfolio"]

_LEARNING_KINDS = ("enrol", "progress", "complete", "rate")


def cycle_start_for(school: School, policy: Policy, first_activity: datetime | None) -> date:
    """Start of the school's cycle under ``policy`` (see the module docstring)."""
    batch = school.rollout_batch
    if batch is not None and 1 <= batch <= len(policy.rollout):
        return date(policy.rollout[batch - 1].year, 9, 1)
    if first_activity is not None:
        return first_activity.date()
    return datetime.now(UTC).date()


def _profile(teacher: Teacher) -> TeacherProfile:
    return TeacherProfile(
        teacher_id=teacher.teacher_id,
        school_id=teacher.school_id,
        stage=teacher.stage,
        subject=teacher.subject,
        research_group=teacher.research_group,
    )


def _assemble(
    state: ServiceState,
    teacher: Teacher,
    school: School,
    policy: Policy,
    events: Sequence[LearningEvent],
    evidence: Sequence[EvidenceRecord],
    reviews: Sequence[Review],
    diagnoses: Sequence[DiagnosisEntry],
    grades: Sequence[GradeEntry],
) -> Portfolio:
    stamps = [e.timestamp for e in events] + [r.submitted_at for r in evidence]
    now = datetime.now(UTC)
    return build_portfolio(
        _profile(teacher),
        policy=policy,
        framework=state.framework,
        catalog={item.item_id: item for item in state.catalog.items},
        cycle_start=cycle_start_for(school, policy, min(stamps) if stamps else None),
        as_of=now,
        chosen_points=[c for c in school.chosen_points.split(";") if c],
        diagnoses=diagnoses,
        grades=grades,
        events=events,
        evidence=evidence,
        reviews=reviews,
    )


def _learning_events(rows: Sequence[Any]) -> list[LearningEvent]:
    return [
        LearningEvent(
            teacher_id=r.teacher_id,
            item_id=r.item_id,
            event=r.event,
            value=r.value,
            timestamp=r.timestamp,
        )
        for r in rows
        if r.event in _LEARNING_KINDS and r.item_id is not None
    ]


def _grades(session: Session, condition: ColumnElement[bool]) -> dict[str, list[GradeEntry]]:
    out: dict[str, list[GradeEntry]] = defaultdict(list)
    rows = session.scalars(select(Grade).where(condition).order_by(Grade.assessed_at, Grade.id))
    for g in rows:
        out[g.teacher_id].append(
            GradeEntry(point=g.point, grade=g.grade, assessed_at=g.assessed_at)
        )
    return out


def teacher_portfolio(
    session: Session, state: ServiceState, teacher: Teacher, school: School, policy: str | None
) -> Portfolio:
    """One teacher's portfolio, with the current diagnosis when a model is loaded."""
    chosen = policy_for(school.region, policy)
    rows = session.execute(
        select(Event.teacher_id, Event.item_id, Event.event, Event.value, Event.timestamp)
        .where(Event.teacher_id == teacher.teacher_id)
        .order_by(Event.timestamp, Event.id)
    ).all()
    _, evidence = load_evidence(session, teacher_ids=[teacher.teacher_id])
    reviews = load_reviews(session, [r.evidence_id for r in evidence])
    diagnoses: list[DiagnosisEntry] = []
    models = state.registry.current
    if models is not None:
        try:
            frame = teacher_models.diagnose(models, load_record(session, teacher, school))
        except ModelError:
            frame = None
        if frame is not None:
            now = datetime.now(UTC)
            diagnoses = [
                DiagnosisEntry(point=str(p), mastery_probability=float(m), diagnosed_at=now)
                for p, m in zip(frame["point"], frame["mastery_probability"], strict=True)
            ]
    grades = _grades(session, Grade.teacher_id == teacher.teacher_id)[teacher.teacher_id]
    return _assemble(
        state, teacher, school, chosen, _learning_events(rows), evidence, reviews, diagnoses, grades
    )


def school_portfolios(
    session: Session, state: ServiceState, school: School, policy: str | None
) -> list[Portfolio]:
    """Every teacher's portfolio of ``school`` (without diagnoses, which need the model per teacher)."""
    chosen = policy_for(school.region, policy)
    teachers = session.scalars(
        select(Teacher).where(Teacher.school_id == school.school_id).order_by(Teacher.teacher_id)
    ).all()
    rows = session.execute(
        select(Event.teacher_id, Event.item_id, Event.event, Event.value, Event.timestamp)
        .join(Teacher, Teacher.teacher_id == Event.teacher_id)
        .where(Teacher.school_id == school.school_id)
        .order_by(Event.timestamp, Event.id)
    ).all()
    events = _learning_events(rows)
    _, evidence = load_evidence(session, school_id=school.school_id)
    reviews = load_reviews(session, [r.evidence_id for r in evidence])
    by_teacher: dict[str, list[LearningEvent]] = defaultdict(list)
    for e in events:
        by_teacher[e.teacher_id].append(e)
    evidence_of: dict[str, list[EvidenceRecord]] = defaultdict(list)
    owner = {}
    for record in evidence:
        evidence_of[record.teacher_id].append(record)
        owner[record.evidence_id] = record.teacher_id
    grades = _grades(
        session,
        Grade.teacher_id.in_(
            select(Teacher.teacher_id).where(Teacher.school_id == school.school_id)
        ),
    )
    reviews_of: dict[str, list[Review]] = defaultdict(list)
    for review in reviews:
        reviews_of[owner[review.evidence_id]].append(review)
    return [
        _assemble(
            state,
            t,
            school,
            chosen,
            by_teacher[t.teacher_id],
            evidence_of[t.teacher_id],
            reviews_of[t.teacher_id],
            [],
            grades[t.teacher_id],
        )
        for t in teachers
    ]
