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
from service.db.region_progress import region_progress as sql_region_progress
from service.db.stores.cohort import Cohort, load_cohort, local_now
from service.db.stores.erased_aggregates import erased_by_school, erased_grade_counts
from service.state import ServiceState
from service.usecases.erased_aggregates import with_erased_grades

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
    """Hours against the policy, assessment results per point and rollout by batch of a region,
    summed from the per-school aggregates in the database (never the region's rows), with the
    counters of teachers erased under PIPL added back (service/usecases/erased_aggregates.py)."""
    erased = erased_by_school(session, region, policy.name)
    started_schools = {part.school_id for part in erased if part.started}
    figures = sql_region_progress(
        session,
        region,
        state.catalog,
        policy,
        state.framework.codes,
        also_started=started_schools,
    )
    n_teachers = figures.n_teachers + sum(part.teachers for part in erased)
    hours_sum = figures.mean_hours * figures.n_teachers + sum(part.hours_sum for part in erased)
    practice_sum = figures.mean_practice_hours * figures.n_teachers + sum(
        part.practice_hours_sum for part in erased
    )
    compliant = figures.teachers_compliant + sum(part.compliant for part in erased)
    assessments = with_erased_grades(figures.assessments, erased_grade_counts(session, region))
    return {
        "region": region,
        "policy": policy.name,
        "n_schools": figures.n_schools,
        "n_teachers": n_teachers,
        "teachers_started": figures.teachers_started + sum(part.started for part in erased),
        "teachers_compliant": compliant,
        "compliant_share": compliant / n_teachers if n_teachers else 0.0,
        "mean_hours": hours_sum / n_teachers if n_teachers else 0.0,
        "mean_practice_hours": practice_sum / n_teachers if n_teachers else 0.0,
        "assessments": json_rows(assessments.reset_index()),
        "rollout": json_rows(figures.rollout),
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
