"""The teacher's e-portfolio (电子档案): the whole assessment history in one document.

A portfolio is assembled from plain records — diagnoses, chosen points, learning events with
their catalog entries, evidence metadata and reviews — so the service, the CLI or a provincial
import can all build one without a database. It holds, per teacher:

* the diagnoses (mastery per point, oldest first) and the chosen points (选点);
* the courses and practice tasks completed, with their 学时, and the cycle status;
* each assessment round (one evidence submission for a point) with its items and the
  self / peer / school review summary;
* the final result per point (the latest school-rated round).

Exports (JSON, printable HTML, XLSX, and one school file for the 县区 spot check) live in
:mod:`competency_model.assessment.export`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from competency_model.assessment.evidence import EvidenceRecord
from competency_model.assessment.process import (
    CreditedItem,
    CycleStatus,
    LearningEvent,
    cycle_status,
    learning_hours,
)
from competency_model.assessment.review import PointReview, Review, summarize_point
from competency_model.framework import Framework
from competency_model.policy import Policy

__all__ = [
    "AssessmentRound",
    "DiagnosisEntry",
    "GradeEntry",
    "LearningEntry",
    "Portfolio",
    "TeacherProfile",
    "build_portfolio",
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TeacherProfile(_Model):
    """The teacher's school context (pseudonymous: no names are ever stored)."""

    teacher_id: str
    school_id: str
    stage: str | None = None
    subject: str | None = None
    research_group: str | None = None


class DiagnosisEntry(_Model):
    """One diagnosed mastery probability of one point."""

    point: str
    mastery_probability: float = Field(ge=0.0, le=1.0)
    diagnosed_at: datetime | None = None


class GradeEntry(_Model):
    """A point result as recorded (imported from a platform or written by this assessment)."""

    point: str
    grade: str
    assessed_at: datetime


class LearningEntry(_Model):
    """A completed course or practice task with the 学时 it earned."""

    item_id: str
    title: str | None = None
    kind: str | None = None
    hours: float = 0.0
    points: list[str] = Field(default_factory=list)
    completed_at: datetime


class AssessmentRound(_Model):
    """One evidence submission for a point and its review state."""

    submission_id: str
    point: str
    submitted_at: datetime
    evidence: list[EvidenceRecord]
    review: PointReview


class Portfolio(_Model):
    """A teacher's 电子档案."""

    teacher: TeacherProfile
    policy: str
    generated_at: datetime
    chosen_points: list[str] = Field(default_factory=list)
    diagnoses: list[DiagnosisEntry] = Field(default_factory=list)
    learning: list[LearningEntry] = Field(default_factory=list)
    status: CycleStatus
    rounds: list[AssessmentRound] = Field(default_factory=list)
    #: Every recorded point result, oldest first (imports included).
    grades: list[GradeEntry] = Field(default_factory=list)
    #: Point → final school result of its latest school-rated round; points without a rated
    #: round take their latest recorded grade (e.g. imported from the platform).
    results: dict[str, str] = Field(default_factory=dict)


def _learning(
    teacher_id: str, events: Sequence[LearningEvent], catalog: Mapping[str, CreditedItem]
) -> list[LearningEntry]:
    done: dict[str, datetime] = {}
    for e in sorted(events, key=lambda e: e.timestamp):
        if e.teacher_id == teacher_id and e.event == "complete" and e.item_id not in done:
            done[e.item_id] = e.timestamp
    out = []
    for item_id, at in done.items():
        entry = catalog.get(item_id)
        out.append(
            LearningEntry(
                item_id=item_id,
                title=getattr(entry, "title_zh", None),
                kind=entry.kind if entry is not None else None,
                hours=entry.hours if entry is not None else 0.0,
                points=sorted(getattr(entry, "points", {}) or {}),
                completed_at=at,
            )
        )
    return out


def _rounds(
    teacher_id: str,
    evidence: Iterable[EvidenceRecord],
    reviews: Sequence[Review],
    framework: Framework,
) -> list[AssessmentRound]:
    by_submission: dict[str, list[EvidenceRecord]] = defaultdict(list)
    for record in evidence:
        if record.teacher_id == teacher_id:
            by_submission[record.submission_id].append(record)
    rounds = []
    for submission_id, records in by_submission.items():
        point = records[0].point
        required = [a.name_zh for a in framework.point(point).artifacts if a.required]
        present = {r.artifact for r in records}
        review = summarize_point(
            teacher_id,
            point,
            [r.evidence_id for r in records],
            reviews,
            framework.point(point).rating_rule,
            missing_required=sum(name not in present for name in required),
        )
        rounds.append(
            AssessmentRound(
                submission_id=submission_id,
                point=point,
                submitted_at=min(r.submitted_at for r in records),
                evidence=records,
                review=review,
            )
        )
    return sorted(rounds, key=lambda r: (r.submitted_at, r.submission_id))


def build_portfolio(
    teacher: TeacherProfile,
    *,
    policy: Policy,
    framework: Framework,
    catalog: Mapping[str, CreditedItem],
    cycle_start: date,
    as_of: datetime,
    chosen_points: Sequence[str] = (),
    diagnoses: Iterable[DiagnosisEntry] = (),
    grades: Iterable[GradeEntry] = (),
    events: Iterable[LearningEvent | Mapping[str, object]] = (),
    evidence: Iterable[EvidenceRecord] = (),
    reviews: Iterable[Review] = (),
) -> Portfolio:
    """Assemble a teacher's portfolio from plain records.

    Parameters
    ----------
    teacher
        School context of the teacher.
    policy, framework, catalog
        Rules, points and catalog entries (item id → entry) of the deployment.
    cycle_start, as_of
        The cycle the status refers to and the moment the portfolio is drawn up.
    chosen_points
        The teacher's targets; they decide when the cycle counts as complete.
    diagnoses, grades, events, evidence, reviews
        The teacher's records (events, evidence and reviews of other teachers are ignored).
    """
    tid = teacher.teacher_id
    parsed = [
        e if isinstance(e, LearningEvent) else LearningEvent.model_validate(e) for e in events
    ]
    parsed = [e for e in parsed if e.teacher_id == tid]
    rounds = _rounds(tid, evidence, list(reviews), framework)
    history = sorted(grades, key=lambda g: (g.assessed_at, g.point))
    results: dict[str, str] = {g.point: g.grade for g in history}
    for r in rounds:  # chronological, so a later final result replaces an earlier one
        if r.review.school_result is not None:
            results[r.point] = r.review.school_result
    record = learning_hours(tid, parsed, catalog, policy)
    status = cycle_status(
        record,
        policy,
        cycle_start=cycle_start,
        as_of=as_of.date(),
        point_results=results,
        targets=chosen_points,
    )
    return Portfolio(
        teacher=teacher,
        policy=policy.name,
        generated_at=as_of,
        chosen_points=list(chosen_points),
        diagnoses=sorted(
            diagnoses, key=lambda d: (d.diagnosed_at is not None, d.diagnosed_at or as_of, d.point)
        ),
        learning=_learning(tid, parsed, catalog),
        status=status,
        rounds=rounds,
        grades=history,
        results=dict(sorted(results.items())),
    )
