"""School and region planning over the stored cohort: mastery tables, progress, pairing.

The routes of ``/v1/schools/{id}/…`` and ``/v1/regions/{region}/…`` check the tenant and write
the audit entry; what they compute comes from here, on the province-shaped tables of
:func:`~service.db.stores.cohort.load_cohort`.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy.orm import Session

from competency_model.errors import InfeasibleError
from competency_model.policy import Policy
from recommender.bundle import ModelBundle
from recommender.school_planning import attach_teachers, mastery_matrix
from recommender.school_planning.pairing import mentor_teachers, pair_schools
from recommender.school_planning.progress import (
    assessment_summary,
    compliance,
    hours_completed,
    rollout_status,
)
from service.db.stores.cohort import Cohort, load_cohort, local_now
from service.state import ServiceState
from service.usecases.erased_aggregates import add_erased_to_region_progress, with_started_schools

__all__ = ["json_rows", "region_pairing", "region_progress", "teacher_mastery"]


def json_rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A table as JSON rows (missing values as ``null``)."""
    clean = frame.astype(object).where(frame.notna(), None)
    return [{str(k): v for k, v in row.items()} for row in clean.to_dict("records")]


def teacher_mastery(state: ServiceState, models: ModelBundle, cohort: Cohort) -> pd.DataFrame:
    """Diagnosed mastery of every teacher of the cohort (teachers × points, with their columns)."""
    if cohort.teachers.empty:
        raise InfeasibleError(
            "no teachers are registered here yet; PUT teachers or import them first"
        )
    diagnosis = models.diagnosis.diagnose(cohort, as_of=local_now())
    return attach_teachers(mastery_matrix(diagnosis, state.framework.codes), cohort.teachers)


def region_progress(
    session: Session, state: ServiceState, region: str, policy: Policy
) -> dict[str, Any]:
    """Hours against the policy, assessment results per point and rollout by batch of a region."""
    cohort = load_cohort(session, region=region)
    hours = compliance(
        hours_completed(cohort.events, state.catalog, policy, cohort.teachers), policy
    )
    started = cohort.events.loc[cohort.events["event"] == "enrol", "teacher_id"].nunique()
    assessments = assessment_summary(cohort.grades, state.framework.codes)
    # Teachers erased under PIPL keep counting (service/usecases/erased_aggregates.py).
    totals, assessments, erased_started = add_erased_to_region_progress(
        session, region, policy.name, hours, int(started), assessments
    )
    events, teachers = with_started_schools(cohort.events, cohort.teachers, erased_started)
    rollout = rollout_status(cohort.schools, policy, events, teachers)
    return {
        "region": region,
        "policy": policy.name,
        "n_schools": int(len(cohort.schools)),
        **totals,
        "assessments": json_rows(assessments.reset_index()),
        "rollout": json_rows(rollout),
    }


def region_pairing(
    session: Session, state: ServiceState, region: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Pairs and mentors for every school of ``region`` (pairing needs the whole region)."""
    models = state.registry.require()
    cohort = load_cohort(session, region=region)
    mastery = teacher_mastery(state, models, cohort)
    pairs = pair_schools(mastery, cohort.schools, state.framework)
    return pairs, mentor_teachers(pairs, mastery)
