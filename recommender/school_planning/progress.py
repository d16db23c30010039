"""Progress of the programme: 学时 against the policy, assessments, rollout, teachers at risk.

Every figure is recomputed from the raw tables (``complete`` events × catalog hours, grades,
schools' rollout batches) so a district can reproduce it by hand: a teacher's 学时 is the sum of
catalog hours of the distinct items she completed; practice and online hours use the policy's
kind lists; a point's assessment result is the teacher's latest grade on it.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from competency_model.catalog import Catalog
from competency_model.errors import ImportRowError
from competency_model.framework import RATINGS
from competency_model.policy import Policy

__all__ = [
    "assessment_from_counts",
    "assessment_summary",
    "compliance",
    "cycle_ended_short",
    "cycle_starts_from_rollout",
    "hours_completed",
    "rollout_from_counts",
    "rollout_status",
    "teachers_at_risk",
]

_DAYS_PER_YEAR = 365.25


def _require(table: pd.DataFrame, name: str, columns: tuple[str, ...]) -> None:
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ImportRowError(
            f"table {name!r} lacks column(s) {missing}; it has {list(table.columns)}"
        )


def hours_completed(
    events: pd.DataFrame,
    catalog: Catalog,
    policy: Policy,
    teachers: pd.DataFrame | None = None,
    as_of: pd.Timestamp | str | None = None,
) -> pd.DataFrame:
    """学时 per teacher from ``complete`` events (each item counted once).

    Returns
    -------
    DataFrame
        Index ``teacher_id``; columns ``hours``, ``practice_hours``, ``online_hours``,
        ``n_completed``, ``unknown_items`` (completed ids missing from the catalog, which earn
        no hours). With ``teachers``, every teacher appears (zeros when nothing completed).
    """
    _require(events, "events", ("teacher_id", "item_id", "event", "timestamp"))
    done = events.loc[events["event"] == "complete", ["teacher_id", "item_id", "timestamp"]]
    if as_of is not None:
        done = done.loc[done["timestamp"] <= pd.Timestamp(as_of)]
    done = done.drop_duplicates(["teacher_id", "item_id"])
    frame = catalog.to_frame().set_index("item_id")
    hours = done["item_id"].map(frame["hours"])
    kind = done["item_id"].map(frame["kind"])
    table = pd.DataFrame(
        {
            "teacher_id": done["teacher_id"].astype(str).to_numpy(),
            "hours": hours.fillna(0.0).to_numpy(dtype=float),
            "practice_hours": np.where(kind.isin(policy.practice_kinds), hours.fillna(0.0), 0.0),
            "online_hours": np.where(kind.isin(policy.online_kinds), hours.fillna(0.0), 0.0),
            "n_completed": 1,
            "unknown_items": hours.isna().to_numpy(dtype=int),
        }
    )
    result = table.groupby("teacher_id").sum()
    if teachers is not None:
        result = result.reindex(teachers["teacher_id"].astype(str), fill_value=0)
        result.index.name = "teacher_id"
    return result.astype({"n_completed": int, "unknown_items": int})


def compliance(hours: pd.DataFrame, policy: Policy) -> pd.DataFrame:
    """Add the policy checks per teacher: total, practice (hours and share), online, compliant."""
    result = hours.copy()
    share = np.where(
        result["hours"] > 0,
        result["practice_hours"] / result["hours"].where(result["hours"] > 0, 1.0),
        0.0,
    )
    tolerance = 1e-9
    result["meets_total"] = result["hours"] + tolerance >= policy.total_hours
    result["meets_practice"] = (
        result["practice_hours"] + tolerance >= policy.min_practice_hours
    ) & (share + tolerance >= policy.min_practice_share)
    result["meets_online"] = result["online_hours"] + tolerance >= policy.min_online_hours
    result["compliant"] = result[["meets_total", "meets_practice", "meets_online"]].all(axis=1)
    result["hours_missing"] = np.maximum(policy.total_hours - result["hours"], 0.0)
    return result


def assessment_summary(grades: pd.DataFrame, codes: list[str] | None = None) -> pd.DataFrame:
    """Per point: teachers assessed, counts and shares of 优秀/合格/不合格 (latest grade wins)."""
    _require(grades, "grades", ("teacher_id", "point", "grade", "assessed_at"))
    unknown = sorted(set(grades["grade"]) - set(RATINGS))
    if unknown:
        raise ImportRowError(f"grades hold unknown grade(s) {unknown}; use {list(RATINGS)}")
    latest = grades.sort_values("assessed_at").drop_duplicates(["teacher_id", "point"], keep="last")
    counts = pd.crosstab(latest["point"], latest["grade"])
    return assessment_from_counts(counts, codes)


def assessment_from_counts(counts: pd.DataFrame, codes: list[str] | None = None) -> pd.DataFrame:
    """:func:`assessment_summary` from teachers per point (index) × latest grade (columns).

    The database keeps these counts per school, so a region's summary is their sum.
    """
    counts = counts.reindex(columns=list(RATINGS), fill_value=0).fillna(0).astype("int64")
    if codes is not None:
        counts = counts.reindex(codes, fill_value=0)
    counts.columns.name = None
    counts.index.name = "point"
    counts.insert(0, "n_assessed", counts.sum(axis=1))
    assessed = counts["n_assessed"].where(counts["n_assessed"] > 0)
    counts["pass_rate"] = ((counts["优秀"] + counts["合格"]) / assessed).fillna(0.0)
    counts["excellent_rate"] = (counts["优秀"] / assessed).fillna(0.0)
    return counts


def rollout_status(
    schools: pd.DataFrame,
    policy: Policy,
    events: pd.DataFrame | None = None,
    teachers: pd.DataFrame | None = None,
    as_of: pd.Timestamp | str | None = None,
) -> pd.DataFrame:
    """Rollout by batch against the policy schedule (e.g. Jiangsu 20 %/40 %/40 %).

    ``rollout_batch`` k is matched to the k-th step of ``policy.rollout``. With events and
    teachers, ``started_share`` is the share of the batch's schools where some teacher has
    enrolled by ``as_of``.
    """
    _require(schools, "schools", ("school_id", "rollout_batch"))
    steps = list(policy.rollout)
    # Schools without a batch yet are reported in a row of their own (batch None).
    assigned = schools["rollout_batch"].notna()
    unassigned = schools.loc[~assigned, "school_id"]
    schools = schools.loc[assigned]
    batches = sorted(set(schools["rollout_batch"].astype(int)) | set(range(1, len(steps) + 1)))
    started: set[str] = set()
    if events is not None and teachers is not None:
        enrol = events.loc[events["event"] == "enrol"]
        if as_of is not None:
            enrol = enrol.loc[enrol["timestamp"] <= pd.Timestamp(as_of)]
        school_of = teachers.set_index(teachers["teacher_id"].astype(str))["school_id"]
        started = set(
            school_of.reindex(enrol["teacher_id"].astype(str).unique()).dropna().astype(str)
        )
    counts: dict[int | None, tuple[int, int | None]] = {}
    for batch in batches:
        members = schools.loc[schools["rollout_batch"].astype(int) == batch, "school_id"]
        n_started = int(members.astype(str).isin(started).sum()) if events is not None else None
        counts[batch] = (len(members), n_started)
    if len(unassigned):
        counts[None] = (
            len(unassigned),
            int(unassigned.astype(str).isin(started).sum()) if events is not None else None,
        )
    return rollout_from_counts(counts, policy)


def rollout_from_counts(
    counts: Mapping[int | None, tuple[int, int | None]], policy: Policy
) -> pd.DataFrame:
    """:func:`rollout_status` from schools and started schools per batch (None: no batch yet).

    ``counts[batch] = (n_schools, n_started)``, ``n_started`` None when events were not read.
    Every batch of the policy's schedule gets a row, and the unassigned row comes last.
    """
    steps = list(policy.rollout)
    n_schools = sum(n for n, _ in counts.values())
    batches = sorted({b for b in counts if b is not None} | set(range(1, len(steps) + 1)))
    rows = []
    for batch in [*batches, None]:
        if batch is None and batch not in counts:
            continue
        members, n_started = counts.get(batch, (0, 0))
        step = steps[batch - 1] if batch is not None and 0 < batch <= len(steps) else None
        rows.append(
            {
                "batch": batch,
                "year": step.year if step else None,
                "planned_share": step.share if step else np.nan,
                "n_schools": members,
                "actual_share": members / n_schools if n_schools else 0.0,
                "started_share": (
                    n_started / members if members and n_started is not None else np.nan
                ),
            }
        )
    table = pd.DataFrame(rows)
    table["batch"] = table["batch"].astype("Int64")
    table["planned_cumulative"] = table["planned_share"].cumsum()
    table["actual_cumulative"] = table["actual_share"].cumsum()
    table["deviation"] = table["actual_share"] - table["planned_share"]
    return table


def cycle_starts_from_rollout(
    teachers: pd.DataFrame, schools: pd.DataFrame, policy: Policy, month: int = 9
) -> pd.Series:
    """Cycle start per teacher: 1 ``month`` of the rollout year of the school's batch."""
    years = {i + 1: step.year for i, step in enumerate(policy.rollout)}
    batch = schools.set_index(schools["school_id"].astype(str))["rollout_batch"].astype(int)
    teacher_batch = teachers["school_id"].astype(str).map(batch)
    missing = teacher_batch.map(years).isna()
    if missing.any():
        row = int(np.flatnonzero(missing.to_numpy())[0])
        raise ImportRowError(
            f"teacher {teachers['teacher_id'].iloc[row]!r}: batch "
            f"{teacher_batch.iloc[row]} has no year in policy {policy.name!r}'s rollout"
        )
    starts = pd.to_datetime({"year": teacher_batch.map(years), "month": month, "day": 1})
    return pd.Series(starts.to_numpy(), index=teachers["teacher_id"].astype(str).to_numpy())


def teachers_at_risk(
    hours: pd.DataFrame,
    policy: Policy,
    cycle_start: pd.Timestamp | str | Mapping[str, pd.Timestamp] | pd.Series,
    as_of: pd.Timestamp | str,
    min_elapsed: float = 0.1,
) -> pd.DataFrame:
    """Teachers unlikely to finish: below the policy total and on pace to stay below it.

    ``elapsed`` = share of the cycle (``policy.cycle_years``) gone by ``as_of``; ``expected``
    = total × elapsed; ``projected`` = hours / elapsed (the current pace extended to the end).
    A teacher is at risk when ``hours < total`` and ``projected < total``, once at least
    ``min_elapsed`` of the cycle has passed (earlier, a slow start says little).
    """
    as_of = pd.Timestamp(as_of)
    if isinstance(cycle_start, (pd.Series, Mapping)):
        starts = pd.Series(cycle_start).reindex(hours.index)
        if starts.isna().any():
            raise ImportRowError(f"no cycle start for teacher {starts.index[starts.isna()][0]!r}")
        start_values = pd.to_datetime(starts)
    else:
        start_values = pd.Series(pd.Timestamp(cycle_start), index=hours.index)
    length_days = policy.cycle_years * _DAYS_PER_YEAR
    elapsed_days = (as_of - start_values).dt.total_seconds() / 86400.0
    elapsed = np.clip(elapsed_days / length_days, 0.0, 1.0)
    result = pd.DataFrame(index=hours.index)
    result["hours"] = hours["hours"]
    result["elapsed"] = elapsed
    result["expected"] = policy.total_hours * elapsed
    result["projected"] = np.where(
        elapsed > 0, hours["hours"] / elapsed.where(elapsed > 0, 1.0), np.nan
    )
    result["at_risk"] = (
        (result["hours"] < policy.total_hours)
        & (result["projected"] < policy.total_hours)
        & (result["elapsed"] >= min_elapsed)
    )
    result["cycle_ended_short"] = cycle_ended_short(hours, policy, start_values, as_of)
    return result


def cycle_ended_short(
    hours: pd.DataFrame,
    policy: Policy,
    cycle_start: pd.Series,
    as_of: pd.Timestamp | str,
) -> pd.Series:
    """True for a teacher whose cycle (``policy.cycle_years`` from her start) ended before
    ``as_of`` without meeting the hour rules (total, practice, online).

    Under a policy with ``cycle_credit_required`` (Chongqing §三(一): 「凡未完成规定培训学时要求的，
    周期学分审核视为不合格」) such a teacher fails the cycle's credit review, so progress views
    flag her apart from the teachers merely behind.

    Parameters
    ----------
    hours
        :func:`hours_completed` output (index ``teacher_id``); with only an ``hours`` column
        the total alone is checked.
    cycle_start
        Cycle start per teacher id (e.g. :func:`cycle_starts_from_rollout`).
    """
    starts = pd.to_datetime(pd.Series(cycle_start).reindex(hours.index))
    if starts.isna().any():
        raise ImportRowError(f"no cycle start for teacher {starts.index[starts.isna()][0]!r}")
    ends = starts + pd.DateOffset(years=policy.cycle_years)
    ended = (ends <= pd.Timestamp(as_of)).to_numpy()
    if {"practice_hours", "online_hours"} <= set(hours.columns):
        met = compliance(hours, policy)["compliant"].to_numpy()
    else:  # only the total is known
        met = (hours["hours"] + 1e-9 >= policy.total_hours).to_numpy()
    return pd.Series(ended & ~met, index=hours.index, name="cycle_ended_short")
