"""School and region planning over the stored cohort: mastery tables, progress, pairing.

The routes of ``/v1/schools/{id}/…`` and ``/v1/regions/{region}/…`` check the tenant and write
the audit entry; what they compute comes from here, on the province-shaped tables of
:func:`~service.db.stores.cohort.load_cohort`.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy.orm import Session

from competency_model.policy import Policy
from recommender.school_planning.pairing import mentor_teachers, pair_schools
from service.db.region_progress import region_progress as sql_region_progress
from service.db.stores.cohort import local_now
from service.db.stores.erased_aggregates import erased_by_school, erased_grade_counts
from service.state import ServiceState
from service.usecases.erased_aggregates import erased_cycle_ended_short, with_erased_grades
from service.usecases.progress_views import cycle_ended_batches
from service.usecases.stored_mastery import stored_mastery

__all__ = ["json_rows", "region_pairing", "region_progress"]


def json_rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A table as JSON rows (missing values as ``null``)."""
    clean = frame.astype(object).where(frame.notna(), None)
    return [{str(k): v for k, v in row.items()} for row in clean.to_dict("records")]


def region_progress(
    session: Session, state: ServiceState, region: str, policy: Policy
) -> dict[str, Any]:
    """Hours against the policy, assessment results per point and rollout by batch of a region,
    summed from the per-school aggregates in the database (never the region's rows), with the
    counters of teachers erased under PIPL added back (service/usecases/erased_aggregates.py)."""
    erased = erased_by_school(session, region, policy.name)
    started_schools = {part.school_id for part in erased if part.started}
    ended = cycle_ended_batches(region, policy, local_now().date())
    figures = sql_region_progress(
        session,
        region,
        state.catalog,
        policy,
        state.framework.codes,
        also_started=started_schools,
        cycle_ended_batches=ended,
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
        # Chongqing §三(一): teachers whose cycle ended short fail the cycle's credit review.
        "teachers_cycle_ended_short": figures.teachers_cycle_ended_short
        + sum(erased_cycle_ended_short(part, ended) for part in erased),
        "cycle_credit_required": policy.cycle_credit_required,
        "assessments": json_rows(assessments.reset_index()),
        "rollout": json_rows(figures.rollout),
    }


def region_pairing(
    session: Session, state: ServiceState, region: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Pairs and mentors for every school of ``region`` (pairing needs the whole region), from
    the stored mastery (only schools changed since are diagnosed)."""
    models = state.registry.require()
    mastery, schools = stored_mastery(session, state, models, region=region)
    pairs = pair_schools(mastery, schools, state.framework)
    return pairs, mentor_teachers(pairs, mastery)
