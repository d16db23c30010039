"""A school's progress, the 未达标名单 of a school or an area, and the trends — from the stored
per-teacher and per-month aggregates, with the Chongqing §三(一) cycle flag.

Each view first brings the region's aggregates up to date (:func:`refresh_region`: only the
schools whose rows changed are recomputed), then reads at most a page of teachers or an area's
monthly sums; the checks, reasons and flag are the ones of
:func:`recommender.school_planning.school_progress.progress_from_hours`, so the school view,
the district list and the offline tables read the same numbers.

The cycle (``policy.cycle_years``) of a teacher starts on 1 September of her school's rollout
year (整校推进 批次 *i* → the *i*-th step of the rollout plan; the convention of
:func:`recommender.school_planning.progress.cycle_starts_from_rollout`). The rollout plan is
the chosen policy's, or, when it has none (Chongqing's notice gives no batch schedule), the
region's own policy's; a school without a batch year leaves its teachers' cycle unknown and
never flagged.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import pandas as pd
from sqlalchemy.orm import Session

from competency_model.catalog import Catalog
from competency_model.policy import Policy
from recommender.school_planning.progress import compliance, hours_completed
from recommender.school_planning.school_progress import SchoolProgress, progress_from_hours
from service.db.models import School
from service.db.progress_summary import refresh_region
from service.db.stores.cohort import local_now
from service.db.stores.dashboard_queries import Area
from service.db.stores.teacher_rows import (
    BehindCursor,
    behind_page,
    count_behind,
    grade_counts,
    group_sizes,
    iter_behind,
    monthly_rows,
    school_teachers,
)
from service.state import ServiceState
from service.usecases.area_views import TrendBy, trend_table
from service.usecases.teacher_models import policy_for

__all__ = [
    "BehindPage",
    "behind_list",
    "behind_pages",
    "cycle_ended_batches",
    "cycle_start_of_batch",
    "school_view",
    "teacher_cycle",
    "trends",
]

#: Month and day a cycle starts in the rollout year (the rollout convention of the planners).
CYCLE_START_MONTH = 9


@dataclass(frozen=True)
class BehindPage:
    """One page of a 未达标名单, the next page's cursor and the area's total behind."""

    rows: pd.DataFrame
    next_after: str | None
    total: int


def _rollout_policy(region: str, policy: Policy) -> Policy:
    return policy if policy.rollout else policy_for(region, None)


def cycle_start_of_batch(region: str, policy: Policy) -> dict[int, pd.Timestamp]:
    """Cycle start per rollout batch (1 September of the batch's year)."""
    steps = _rollout_policy(region, policy).rollout
    return {
        index: pd.Timestamp(year=step.year, month=CYCLE_START_MONTH, day=1)
        for index, step in enumerate(steps, start=1)
    }


def cycle_ended_batches(region: str, policy: Policy, as_of: date) -> list[int]:
    """The rollout batches whose teachers' cycle has ended by ``as_of``."""
    ends = {
        batch: start + pd.DateOffset(years=policy.cycle_years)
        for batch, start in cycle_start_of_batch(region, policy).items()
    }
    return sorted(batch for batch, end in ends.items() if end <= pd.Timestamp(as_of))


def _starts(frame: pd.DataFrame, region: str, policy: Policy) -> pd.Series:
    by_batch = cycle_start_of_batch(region, policy)
    batches = pd.to_numeric(frame["rollout_batch"], errors="coerce")
    starts = [by_batch.get(int(b)) if pd.notna(b) else None for b in batches]
    return pd.Series(pd.to_datetime(starts), index=frame["teacher_id"].astype(str).to_numpy())


def _progress(
    frame: pd.DataFrame, counts: pd.DataFrame, region: str, policy: Policy, name: str
) -> SchoolProgress:
    hours = frame.set_index("teacher_id")[["hours", "practice_hours", "online_hours"]]
    return progress_from_hours(
        name,
        frame[["teacher_id", "research_group", "stage", "subject"]],
        hours,
        counts.set_index("teacher_id") if "teacher_id" in counts else counts,
        policy,
        cycle_start=_starts(frame, region, policy),
        as_of=local_now(),
    )


def _no_grades() -> pd.DataFrame:
    return pd.DataFrame(columns=["points_assessed", "points_passed", "points_failed"])


def school_view(
    session: Session, state: ServiceState, school: School, policy: Policy
) -> SchoolProgress:
    """Per-teacher and per-教研组 progress of ``school`` from the stored per-teacher rows."""
    basis = refresh_region(session, school.region, state.catalog, policy)
    frame = school_teachers(session, basis, school.region, school.school_id)
    counts = grade_counts(session, school.region, frame["teacher_id"].tolist())
    return _progress(frame, counts, school.region, policy, school.school_id)


def _behind_rows(
    frame: pd.DataFrame, counts: pd.DataFrame | None, region: str, policy: Policy
) -> pd.DataFrame:
    progress = _progress(frame, _no_grades() if counts is None else counts, region, policy, "area")
    behind = progress.behind.reset_index(drop=True)
    school_of = frame.set_index("teacher_id")["school_id"]
    behind.insert(0, "school_id", behind["teacher_id"].map(school_of).to_numpy())
    if counts is None:  # an area's list: hours only, the assessment columns stay on the school's
        behind = behind.drop(columns=["points_assessed", "points_passed", "points_failed"])
    return behind


def behind_list(
    session: Session,
    state: ServiceState,
    region: str,
    area: Area,
    policy: Policy,
    *,
    after: str | None,
    limit: int,
    with_grades: bool,
) -> BehindPage:
    """One page of the 未达标名单 of ``area`` (a school, or a region narrowed to a city or a
    district), most hours missing first; ``after`` is the previous page's ``next_after``."""
    basis = refresh_region(session, region, state.catalog, policy)
    cursor = BehindCursor.decode(after) if after else None
    frame, following = behind_page(session, basis, area, after=cursor, limit=limit)
    counts = grade_counts(session, region, frame["teacher_id"].tolist()) if with_grades else None
    return BehindPage(
        rows=_behind_rows(frame, counts, region, policy),
        next_after=following.encode() if following else None,
        total=count_behind(session, basis, area),
    )


def behind_pages(
    session: Session,
    state: ServiceState,
    region: str,
    area: Area,
    policy: Policy,
    *,
    with_grades: bool,
) -> Iterator[pd.DataFrame]:
    """The whole 未达标名单 of ``area`` page by page (for a streamed export)."""
    basis = refresh_region(session, region, state.catalog, policy)
    for frame in iter_behind(session, basis, area):
        counts = (
            grade_counts(session, region, frame["teacher_id"].tolist()) if with_grades else None
        )
        yield _behind_rows(frame, counts, region, policy)


def trends(
    session: Session, state: ServiceState, region: str, area: Area, policy: Policy, by: TrendBy
) -> pd.DataFrame:
    """学时 added per month in ``area`` per ``by`` group, with the running mean per teacher."""
    basis = refresh_region(session, region, state.catalog, policy)
    return trend_table(
        monthly_rows(session, basis, area, by), group_sizes(session, basis, area, by)
    )


def teacher_cycle(
    events: pd.DataFrame,
    teacher_id: str,
    school: School,
    policy: Policy,
    catalog: Catalog,
    today: date,
) -> dict[str, object]:
    """A teacher's place in her cycle: its start and end (unknown without a batch year), her
    学时 against the rules, and whether the cycle ended short (Chongqing §三(一))."""
    roster = pd.DataFrame({"teacher_id": [teacher_id]})
    checked = compliance(hours_completed(events, catalog, policy, roster), policy).iloc[0]
    start = cycle_start_of_batch(school.region, policy).get(school.rollout_batch or 0)
    end = None if start is None else (start + pd.DateOffset(years=policy.cycle_years)).date()
    short = bool(end is not None and end <= today and not checked["compliant"])
    return {
        "cycle_years": policy.cycle_years,
        "cycle_starts_on": None if start is None else start.date().isoformat(),
        "cycle_ends_on": None if end is None else end.isoformat(),
        "hours": float(checked["hours"]),
        "practice_hours": float(checked["practice_hours"]),
        "compliant": bool(checked["compliant"]),
        "cycle_ended_short": short,
        "cycle_credit_required": policy.cycle_credit_required,
        "note_zh": (
            "周期已结束仍未完成规定学时，周期学分审核视为不合格"
            if short and policy.cycle_credit_required
            else ("周期已结束仍未完成规定学时" if short else "")
        ),
        "note_en": (
            "the cycle ended short of the required hours: the credit review fails"
            if short and policy.cycle_credit_required
            else ("the cycle ended short of the required hours" if short else "")
        ),
    }
