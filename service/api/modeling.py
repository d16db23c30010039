"""The service's only calls into the model packages (diagnosis, recommender, paths).

Keeping them in one module means a change of a model API touches one file, and every route
gets the same conversions (DataFrames to JSON rows, cold start for teachers newer than the
model, completed items excluded).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pandas as pd

from competency_model.catalog import Kind
from competency_model.errors import ConflictError, NotFoundError
from competency_model.plan import Plan
from competency_model.policy import Policy
from recommender.bundle import ModelBundle
from recommender.paths import build_learning_path
from recommender.ranking import Recommendation, TeacherProfile
from service.api.province_store import LOCAL_TIMEZONE
from service.api.records import TeacherRecord
from service.api.state import ServiceState
from service.db.models import School, Teacher

__all__ = [
    "diagnose",
    "diagnosis_rows",
    "learning_path",
    "mastery_of",
    "is_known",
    "next_item",
    "recommend",
]

DIAGNOSIS_COLUMNS = [
    "point",
    "mastery_probability",
    "sd",
    "evidence_count",
    "insufficient_evidence",
]


def _local(moment: datetime) -> pd.Timestamp:
    """Naive Beijing time, the convention of the province tables the models were fitted on."""
    return pd.Timestamp(moment).tz_convert(LOCAL_TIMEZONE).tz_localize(None)


def diagnose(models: ModelBundle, record: TeacherRecord) -> pd.DataFrame:
    """Per-point diagnosis of one teacher from their answers, grades and completed items."""
    grades = [
        {"point": g["point"], "grade": g["grade"], "assessed_at": _local(g["assessed_at"])}
        for g in record.grades
    ]
    done = record.events[record.events["event"] == "complete"] if len(record.events) else None
    completed = (
        []
        if done is None
        else [
            {"item_id": str(item), "timestamp": _local(when)}
            for item, when in zip(done["item_id"], done["timestamp"], strict=True)
        ]
    )
    frame = models.diagnosis.diagnose_teacher(
        record.responses,
        grades,
        completed,
        teacher_id=record.teacher.teacher_id,
        school_environment=record.school.environment,
        research_group=record.teacher.research_group,
        as_of=_local(datetime.now(UTC)),
    )
    return frame.reset_index(drop=True)[DIAGNOSIS_COLUMNS]


def next_item(
    models: ModelBundle, state: ServiceState, record: TeacherRecord
) -> dict[str, Any] | None:
    """The adaptive questionnaire's next item for the stored answers (None: stop asking)."""
    item_id = models.diagnosis.next_item(record.responses)
    if item_id is None:
        return None
    item = state.item_bank.get(item_id)
    return {
        "item_id": item.item_id,
        "kind": item.kind,
        "stem_zh": item.stem_zh,
        "options_zh": list(item.options_zh),
        "scale_max": item.scale_max,
        "points": list(item.points),
    }


def mastery_of(diagnosis: pd.DataFrame) -> dict[str, float]:
    """``{point: mastery_probability}`` from a diagnosis frame."""
    return dict(
        zip(diagnosis["point"], diagnosis["mastery_probability"].astype(float), strict=True)
    )


def diagnosis_rows(diagnosis: pd.DataFrame) -> list[dict[str, Any]]:
    """JSON rows of a diagnosis frame (numpy scalars converted)."""
    rows = []
    for row in diagnosis.itertuples(index=False):
        rows.append(
            {
                "point": str(row.point),
                "mastery_probability": float(row.mastery_probability),
                "sd": float(row.sd),
                "evidence_count": int(row.evidence_count),
                "insufficient_evidence": bool(row.insufficient_evidence),
            }
        )
    return rows


def is_known(models: ModelBundle, teacher_id: str) -> bool:
    """Whether the recommender was trained with this teacher (else: cold start)."""
    try:
        models.recommender.row_of(teacher_id)
    except NotFoundError:
        return False
    return True


def recommend(
    models: ModelBundle,
    teacher: Teacher,
    school: School,
    completed: list[str],
    kind: Kind,
    k: int,
    personalized: bool,
    mastery: dict[str, float] | None,
) -> tuple[list[Recommendation], bool]:
    """Top-k items and whether the teacher was cold (unknown to the model).

    Items the teacher completed after training are excluded at once, even before the next
    ``nengli train``. A teacher newer than the model gets the cold-start ranker on their
    profile and diagnosis; with ``personalized=False`` every teacher gets the school's
    non-personalised list (policy, environment, popularity), whatever the model knows of them.
    """
    recommender = models.recommender
    if is_known(models, teacher.teacher_id):
        items = recommender.recommend(
            teacher.teacher_id, k=k, kind=kind, personalized=personalized, exclude=completed
        )
        return items, False
    profile = TeacherProfile(
        school_id=school.school_id,
        stage=teacher.stage,
        subject=teacher.subject,
        research_group=teacher.research_group or "",
    )
    try:
        if personalized:
            items = recommender.recommend_for_profile(
                profile, mastery=mastery, k=k, kind=kind, exclude=completed
            )
        else:  # the teacher's profile is not read, as for known teachers
            items = recommender.recommend_popular(
                school.school_id, k=k, kind=kind, exclude=completed
            )
    except NotFoundError as error:
        raise ConflictError(
            f"school {school.school_id!r} was added after the model was trained; run "
            "`nengli train` and POST /v1/admin/reload to recommend for its teachers",
            details={"school_id": school.school_id},
        ) from error
    return items, True


def learning_path(
    state: ServiceState, record: TeacherRecord, mastery: dict[str, float], policy: Policy
) -> Plan:
    """A policy-compliant plan for the teacher (raises InfeasibleError with violations)."""
    return build_learning_path(
        record.teacher.teacher_id,
        mastery,
        record.school.environment,
        policy,
        state.catalog,
        state.framework,
        chosen_points=record.chosen_points,
        completed=record.completed,
        stage=record.teacher.stage,
        subject=record.teacher.subject,
        graph=state.graph,
    )
