"""A region's progress (学时 against the policy, assessments per point, rollout by batch) from
the per-school aggregates, never from the region's rows.

Each figure is a sum over at most the region's schools (:mod:`service.db.progress_summary`
refreshes the stale ones first); the shares and the rollout schedule are then the arithmetic
of :mod:`recommender.school_planning.progress` on those counts, so the JSON equals what the
pandas path computed from the loaded region (tested for parity).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session

from competency_model.catalog import Catalog
from competency_model.policy import Policy
from recommender.school_planning.progress import assessment_from_counts, rollout_from_counts
from service.db.models import School
from service.db.progress_summary import refresh_region
from service.db.scale_models import RegionGrades, SchoolProgress

__all__ = ["RegionProgress", "region_progress"]


@dataclass(frozen=True)
class RegionProgress:
    """The figures of ``GET /v1/regions/{region}/progress``."""

    n_schools: int
    n_teachers: int
    teachers_started: int
    teachers_compliant: int
    mean_hours: float
    mean_practice_hours: float
    #: Teachers of schools whose cycle has ended, short of the hour rules (Chongqing §三(一)).
    teachers_cycle_ended_short: int
    assessments: pd.DataFrame
    rollout: pd.DataFrame

    @property
    def compliant_share(self) -> float:
        """Share of the region's teachers meeting every hour rule."""
        return self.teachers_compliant / self.n_teachers if self.n_teachers else 0.0


def region_progress(
    session: Session,
    region: str,
    catalog: Catalog,
    policy: Policy,
    codes: list[str],
    *,
    also_started: Collection[str] = (),
    cycle_ended_batches: Collection[int] = (),
) -> RegionProgress:
    """Progress of ``region`` under ``policy`` (stale school aggregates refreshed first).

    Parameters
    ----------
    codes
        The framework's points: every one gets an assessment row, assessed or not.
    also_started
        Schools that count as started whatever their live rows say (a school whose only
        starters were erased under PIPL stays started in the rollout).
    cycle_ended_batches
        Rollout batches whose cycle has ended: their non-compliant teachers ended it short.
    """
    basis = refresh_region(session, region, catalog, policy)
    progress = (
        select(
            School.rollout_batch,
            func.count(),
            func.coalesce(func.sum(SchoolProgress.n_teachers), 0),
            func.coalesce(func.sum(SchoolProgress.n_started), 0),
            func.sum(
                case(
                    (
                        or_(
                            SchoolProgress.n_started > 0,
                            School.school_id.in_(sorted(also_started)),
                        ),
                        1,
                    ),
                    else_=0,
                )
            ),
            func.coalesce(func.sum(SchoolProgress.n_compliant), 0),
            func.coalesce(func.sum(SchoolProgress.sum_hours), 0.0),
            func.coalesce(func.sum(SchoolProgress.sum_practice_hours), 0.0),
            func.coalesce(
                func.sum(
                    case(
                        (
                            School.rollout_batch.in_(sorted(cycle_ended_batches)),
                            SchoolProgress.n_teachers - SchoolProgress.n_compliant,
                        ),
                        else_=0,
                    )
                ),
                0,
            ),
        )
        .join(SchoolProgress, SchoolProgress.school_id == School.school_id)
        .where(School.region == region, SchoolProgress.basis == basis)
        .group_by(School.rollout_batch)
    )
    batches: dict[int | None, tuple[int, int | None]] = {}
    totals = [0, 0, 0, 0, 0.0, 0.0, 0]
    for (
        batch,
        schools,
        teachers,
        started,
        started_schools,
        compliant,
        hours,
        practice,
        ended_short,
    ) in session.execute(progress).all():
        key = None if batch is None else int(batch)
        batches[key] = (int(schools), int(started_schools or 0))
        values = (schools, teachers, started, compliant, hours, practice, ended_short)
        for index, value in enumerate(values):
            totals[index] += value
    grades = session.execute(
        select(RegionGrades.point, RegionGrades.grade, RegionGrades.n_teachers).where(
            RegionGrades.region == region
        )
    ).all()
    counts = (
        pd.DataFrame(grades, columns=["point", "grade", "n"])
        .pivot(index="point", columns="grade", values="n")
        .astype("float64")
        if grades
        else pd.DataFrame()
    )
    n_teachers = int(totals[1])
    return RegionProgress(
        n_schools=int(totals[0]),
        n_teachers=n_teachers,
        teachers_started=int(totals[2]),
        teachers_compliant=int(totals[3]),
        mean_hours=float(totals[4]) / n_teachers if n_teachers else 0.0,
        mean_practice_hours=float(totals[5]) / n_teachers if n_teachers else 0.0,
        teachers_cycle_ended_short=int(totals[6]),
        assessments=assessment_from_counts(counts, codes),
        rollout=rollout_from_counts(batches, policy),
    )
