"""School and region planning over the stored cohort: mastery tables, progress, pairing.

The routes of ``/v1/schools/{id}/…`` and ``/v1/regions/{region}/…`` check the tenant and write
the audit entry; what they compute comes from here, on the province-shaped tables of
:func:`~service.db.stores.cohort.load_cohort`.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy.orm import Session

from competency_model.catalog import ENVIRONMENTS
from competency_model.errors import InfeasibleError
from competency_model.policy import Policy
from recommender.school_planning.pairing import mentors_from_summaries, pair_school_means
from service.db.region_progress import region_progress as sql_region_progress
from service.db.stores.cohort import local_now
from service.db.stores.erased_aggregates import erased_by_school, erased_grade_counts
from service.db.stores.pairing_store import (
    PAIRING_SCHOOL_COLUMNS,
    cached_pairing,
    pairing_inputs,
    read_summaries,
    stale_pairing_schools,
    store_pairing,
)
from service.state import ServiceState
from service.usecases.erased_aggregates import erased_cycle_ended_short, with_erased_grades
from service.usecases.progress_views import cycle_ended_batches
from service.usecases.stored_mastery import refresh_mastery

__all__ = ["PairingResult", "json_rows", "region_pairing", "region_progress"]


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


#: The pairing options of the service (pair_schools' defaults), part of the cached result's key.
PAIRING_OPTIONS: dict[str, Any] = {
    "weak_share": 0.2,
    "capacity": 2,
    "threshold": 0.6,
    "same_city": True,
    "rural_bonus": 0.05,
}


@dataclass(frozen=True)
class PairingResult:
    """A region's pairs and mentors as JSON texts (arrays of rows, as the API sends them).

    Kept as text: at 10,000 schools the region's answer is ~1.3 MB, and decoding and encoding
    it again per request would cost more than the whole budget of a repeat read.
    """

    pairs_json: str
    mentors_json: str

    def pairs(self) -> list[dict[str, Any]]:
        """The pairs as rows."""
        return json.loads(self.pairs_json)  # type: ignore[no-any-return]

    def mentors(self) -> list[dict[str, Any]]:
        """The mentors as rows."""
        return json.loads(self.mentors_json)  # type: ignore[no-any-return]


def region_pairing(session: Session, state: ServiceState, region: str) -> PairingResult:
    """Pairs and mentors for every school of ``region``: the stored result when no input
    changed, else computed from the per-school summaries (stale schools diagnosed first).

    Staleness is decided per school (marked changed, or no summary of the model version), and
    the stored result is used only under the hash of every input
    (:func:`~service.db.stores.pairing_store.pairing_inputs`), so neither a missed trigger nor
    a school that moved city can serve an outdated pairing. The result equals
    :func:`~recommender.school_planning.pairing.pair_schools` and
    :func:`~recommender.school_planning.pairing.mentor_teachers` over the region's stored mastery
    with the schools in id order.
    """
    models = state.registry.require()
    codes = list(state.framework.codes)
    refresh_mastery(
        session, state, models, region, stale_pairing_schools(session, region, models.version)
    )
    fingerprint = {
        "codes": codes,
        "feasible": {env: sorted(state.graph.feasible_points(env)) for env in ENVIRONMENTS},
        "options": PAIRING_OPTIONS,
    }
    rows, key = pairing_inputs(session, region, models.version, fingerprint)
    if not rows:
        raise InfeasibleError(
            "no teachers are registered here yet; PUT teachers or import them first"
        )
    cached = cached_pairing(session, region, key)
    if cached is not None:
        return PairingResult(*cached)
    summaries = read_summaries(session, region, models.version)
    schools = pd.DataFrame(rows, columns=PAIRING_SCHOOL_COLUMNS)
    means = pd.DataFrame(
        [[math.nan if v is None else v for v in summaries[s].means] for s in schools["school_id"]],
        index=pd.Index(schools["school_id"], name="school_id"),
        columns=codes,
        dtype=float,
    )
    pairs = pair_school_means(means, schools, state.framework, **PAIRING_OPTIONS)
    mentors = mentors_from_summaries(pairs, summaries, codes)
    result = PairingResult(
        json.dumps(json_rows(pairs), ensure_ascii=False, allow_nan=False),
        json.dumps(json_rows(mentors), ensure_ascii=False, allow_nan=False),
    )
    store_pairing(session, region, models.version, key, result.pairs_json, result.mentors_json)
    return result
