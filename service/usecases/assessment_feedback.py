"""What a final school rating changes: the stored grade, the diagnosis and the recommendations.

When the school team has rated every item of a submission, the point result (framework rating
rule) is final. It is then

1. stored as an assessment grade in ``grades`` — the same table ``POST /v1/events`` writes
   assessment results to — so every later diagnosis uses it;
2. recorded with the practice task the evidence came from as a ``complete`` event (so every
   worker drops the task from the teacher's lists at once and the next ``nengli train`` learns
   from it) and folded into this worker's recommender for a teacher the model knows
   (``HybridRecommender.fold_in``), so its signals move on without waiting for a retraining;
3. answered with the teacher's updated mastery of the point and, for 不合格, remedial courses
   and a new practice task on that point, ranked with the updated diagnosis.

Without a loaded model the grade is still stored and the answer says the model part is missing.
"""

from __future__ import annotations

import math
import threading
from datetime import UTC, datetime
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from competency_model.assessment import PointReview, summarize_point
from competency_model.errors import NengliError
from recommender.ranking import HybridRecommender
from service.db.assessment_models import EvidenceSubmission
from service.db.models import Event, Grade, School, Teacher
from service.db.stores.assessment import load_evidence, load_reviews
from service.db.stores.contracts import EventRecord
from service.db.stores.events import event_row
from service.db.stores.province import LOCAL_TIMEZONE
from service.db.stores.records import completed_items, completion_events, load_record
from service.state import ServiceState
from service.usecases import teacher_models
from service.usecases.recommendations import Serving, knows, profile_of

__all__ = ["REMEDIAL_COURSES", "finalize_if_rated", "point_review"]

REMEDIAL_COURSES = 3
# fold_in rewrites one teacher's rows of the shared model; one writer at a time.
_FOLD_LOCK = threading.Lock()


def point_review(
    session: Session, state: ServiceState, submission: EvidenceSubmission
) -> PointReview:
    """The review state of one submission from the stored items and reviews."""
    _, records = load_evidence(session, teacher_ids=[submission.teacher_id])
    mine = [r for r in records if r.submission_id == submission.submission_id]
    point = state.framework.point(submission.point)
    required = [a.name_zh for a in point.artifacts if a.required]
    present = {r.artifact for r in mine}
    return summarize_point(
        submission.teacher_id,
        submission.point,
        [r.evidence_id for r in mine],
        load_reviews(session, [r.evidence_id for r in mine]),
        point.rating_rule,
        missing_required=sum(name not in present for name in required),
    )


def finalize_if_rated(
    session: Session,
    state: ServiceState,
    submission: EvidenceSubmission,
    teacher: Teacher,
    school: School,
) -> tuple[PointReview, dict[str, Any] | None]:
    """Store a new final result as a grade and compute the feedback; None if not final/new."""
    review = point_review(session, state, submission)
    result = review.school_result
    if result is None or result == submission.final_result:
        return review, None
    now = datetime.now(UTC)
    submission.final_result = result
    submission.finalized_at = now
    session.add(
        Grade(
            teacher_id=teacher.teacher_id,
            region=teacher.region,
            point=submission.point,
            grade=result,
            assessed_at=now,
        )
    )
    _record_task_done(session, submission, teacher.region, now)
    session.commit()
    return review, _model_feedback(session, state, submission, teacher, school, result)


#: Tenant of the events the service records itself (no platform can send under it).
ASSESSMENT_TENANT = "assessment:*"


def _task_event_id(submission: EvidenceSubmission) -> str:
    """Id of the ``complete`` event that records the submission's rated practice task."""
    return f"evidence-{submission.submission_id}"


def _record_task_done(
    session: Session, submission: EvidenceSubmission, region: str, now: datetime
) -> None:
    """Store the rated practice task as a ``complete`` event, once per submission.

    Every worker reads completed items from ``events``, so the task leaves the teacher's
    recommendations in all of them at once (the in-memory fold-in reaches only the worker that
    ran it), and the next ``nengli train`` learns from it.
    """
    if submission.task_id is None:
        return
    event = EventRecord(
        event_id=_task_event_id(submission),
        teacher_id=submission.teacher_id,
        event="complete",
        item_id=submission.task_id,
        value=None,
        point=None,
        grade=None,
        timestamp=now,
    )
    exists = session.scalar(
        select(Event.id).where(Event.tenant == ASSESSMENT_TENANT, Event.event_id == event.event_id)
    )
    if exists is not None:  # re-rated: the task was recorded the first time
        return
    session.add(event_row(ASSESSMENT_TENANT, event, now, region))


def _model_feedback(
    session: Session,
    state: ServiceState,
    submission: EvidenceSubmission,
    teacher: Teacher,
    school: School,
    result: str,
) -> dict[str, Any]:
    feedback: dict[str, Any] = {
        "point": submission.point,
        "grade": result,
        "grade_stored": True,
        "folded_in": False,
        "mastery_probability": None,
        "remedial_courses": [],
        "new_practice_task": None,
        "note": None,
    }
    models = state.registry.current
    if models is None:
        feedback["note"] = "no model is loaded; the grade is stored and used once one is"
        return feedback
    record = load_record(session, teacher, school)
    mastery = teacher_models.mastery_of(teacher_models.diagnose(models, record))
    feedback["mastery_probability"] = mastery.get(submission.point)
    own_event = _task_event_id(submission)
    events = record.events
    before = events[events["event_id"] != own_event] if not events.empty else events
    completed_before = completed_items(completion_events(before)["item_id"])
    feedback["folded_in"] = _fold_in_task(models.recommender, submission, completed_before)
    if result != "不合格":
        return feedback
    profile = profile_of(teacher, school)
    done = list(record.completed) + ([submission.task_id] if submission.task_id else [])
    try:
        courses = models.recommender.recommend_for_profile(
            profile,
            mastery=mastery,
            k=REMEDIAL_COURSES,
            kind="course",
            exclude=done,
            only_points=[submission.point],
        )
        tasks = models.recommender.recommend_for_profile(
            profile,
            mastery=mastery,
            k=1,
            kind="task",
            exclude=done,
            only_points=[submission.point],
        )
    except NengliError as error:  # e.g. a school added after training
        feedback["note"] = error.message
        return feedback
    feedback["remedial_courses"] = [c.model_dump() for c in courses]
    feedback["new_practice_task"] = tasks[0].model_dump() if tasks else None
    return feedback


def _fold_in_task(
    recommender: HybridRecommender, submission: EvidenceSubmission, completed: list[str]
) -> bool:
    """Fold the rated practice task into a known teacher's recommender state."""
    if submission.task_id is None or submission.task_id in completed:
        return False
    if knows(recommender, submission.teacher_id, personalized=True).mode is not Serving.KNOWN:
        return False  # new teachers are ranked from their diagnosis, which has the grade
    events = pd.DataFrame(
        {
            "item_id": [submission.task_id],
            "event": ["complete"],
            "value": [math.nan],
            # Naive Beijing time, the convention of the tables the model was trained on.
            "timestamp": [
                pd.Timestamp(datetime.now(UTC)).tz_convert(LOCAL_TIMEZONE).tz_localize(None)
            ],
        }
    )
    with _FOLD_LOCK:
        recommender.fold_in(submission.teacher_id, events)
    return True
