"""What the school and district views compute from the area's tables: 学时 per month, the
未达标名单 across schools, and the progress of each rollout batch (整校推进 批次).

Pure functions over frames (the reads are in :mod:`service.db.stores.dashboard_queries`), so the same
numbers come out of the JSON, the ``.xlsx`` and the tests.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from competency_model.catalog import Catalog
from competency_model.policy import Policy
from recommender.school_planning.school_progress import school_progress
from service.db.stores.dashboard_queries import AreaTables
from service.db.stores.region_aggregates import BreakdownRow

__all__ = ["TrendBy", "area_behind", "monthly_trend", "rollout_rows"]

TrendBy = Literal["total", "research_group", "school_id"]
TREND_COLUMNS = ["month", "hours", "practice_hours", "active_teachers", "completions"]


def monthly_trend(
    completions: pd.DataFrame,
    catalog: Catalog,
    policy: Policy,
    n_teachers: Mapping[str, int],
    by: TrendBy = "total",
) -> pd.DataFrame:
    """学时 added per month (first completions), per ``by`` group, with the running mean.

    Parameters
    ----------
    completions
        :func:`service.db.stores.dashboard_queries.first_completions` of the area.
    catalog, policy
        Hours per item; which kinds are practice.
    n_teachers
        Teachers per group (``{"total": n}`` for ``by="total"``): the denominator of
        ``cumulative_mean_hours``, so a group's line reaches the policy's total when every
        teacher of it has.
    by
        ``total``, ``research_group`` or ``school_id``.

    Returns
    -------
    DataFrame
        ``month`` (``YYYY-MM``), ``group``, ``hours``, ``practice_hours``, ``active_teachers``,
        ``completions`` and ``cumulative_mean_hours``; months in order, every month from the
        first to the last completion present for every group (zeros where nothing happened).
    """
    columns = ["month", "group", *TREND_COLUMNS[1:], "cumulative_mean_hours"]
    items = catalog.to_frame().set_index("item_id")
    known = completions[completions["item_id"].isin(items.index)]
    if known.empty:
        return pd.DataFrame(columns=columns)
    hours = known["item_id"].map(items["hours"]).astype(float)
    practice = known["item_id"].map(items["kind"]).isin(policy.practice_kinds)
    frame = pd.DataFrame(
        {
            "month": known["completed_at"].dt.strftime("%Y-%m"),
            "group": "total" if by == "total" else known[by].replace("", "(未填写)"),
            "teacher_id": known["teacher_id"],
            "hours": hours,
            "practice_hours": hours.where(practice, 0.0),
        }
    )
    table = frame.groupby(["group", "month"]).agg(
        hours=("hours", "sum"),
        practice_hours=("practice_hours", "sum"),
        active_teachers=("teacher_id", "nunique"),
        completions=("teacher_id", "size"),
    )
    first, last = pd.Period(frame["month"].min()), pd.Period(frame["month"].max())
    months = [str(p) for p in pd.period_range(first, last, freq="M")]
    groups = sorted(table.index.get_level_values(0).unique())
    full = table.reindex(pd.MultiIndex.from_product([groups, months], names=["group", "month"]))
    full = full.fillna(0.0).reset_index()
    for name in ("active_teachers", "completions"):
        full[name] = full[name].astype(int)
    denominators = full["group"].map(lambda g: max(int(n_teachers.get(g, 0)), 1))
    full["cumulative_mean_hours"] = full.groupby("group")["hours"].cumsum() / denominators
    return full[columns]


def area_behind(tables: AreaTables, catalog: Catalog, policy: Policy) -> pd.DataFrame:
    """The 未达标名单 of an area: every teacher not meeting ``policy``, with the reason and the
    school, most hours missing first (the rule of ``school_progress``, applied across schools)."""
    if tables.teachers.empty:
        return pd.DataFrame(columns=["school_id", "teacher_id", "reasons_zh", "reasons_en"])
    progress = school_progress(
        "area", tables.teachers, tables.events, tables.grades, catalog, policy
    )
    school_of = tables.teachers.set_index("teacher_id")["school_id"]
    behind = progress.behind.copy()
    behind.insert(0, "school_id", behind["teacher_id"].map(school_of).to_numpy())
    return behind.reset_index(drop=True)


def rollout_rows(
    schools: Sequence[BreakdownRow], batch_of: Mapping[str, int | None], policy: Policy
) -> list[dict[str, Any]]:
    """Progress per rollout batch, next to the policy's plan for the batches.

    Batch *i* (1-based) is the *i*-th step of ``policy.rollout``; ``planned_cumulative_share``
    is the share of schools the policy expects to have started by that step's year and
    ``actual_cumulative_share`` the share of the area's schools assigned to batches up to *i*.
    ``started_share`` and ``compliant_share`` are over the batch's teachers.
    """
    steps = list(policy.rollout)
    by_batch: dict[int | None, list[BreakdownRow]] = {}
    for row in schools:
        by_batch.setdefault(batch_of.get(str(row.school_id)), []).append(row)
    n_schools = sum(len(rows) for rows in by_batch.values())
    numbered = sorted(b for b in by_batch if b is not None)
    ordered: list[int | None] = [*numbered, *([None] if None in by_batch else [])]
    planned = np.cumsum([step.share for step in steps]) if steps else np.array([])
    result = []
    seen_schools = 0
    for batch in ordered:
        rows = by_batch[batch]
        teachers = sum(r.n_teachers for r in rows)
        started = sum(r.teachers_started for r in rows)
        compliant = sum(r.n_compliant for r in rows)
        hours = sum(r.mean_hours * r.n_teachers for r in rows)
        if batch is not None:
            seen_schools += len(rows)
        step = steps[batch - 1] if batch is not None and 0 < batch <= len(steps) else None
        result.append(
            {
                "batch": batch,
                "year": step.year if step else None,
                "n_schools": len(rows),
                "n_teachers": teachers,
                "teachers_started": started,
                "started_share": started / teachers if teachers else 0.0,
                "n_compliant": compliant,
                "compliant_share": compliant / teachers if teachers else 0.0,
                "mean_hours": hours / teachers if teachers else 0.0,
                "planned_cumulative_share": (
                    float(min(planned[batch - 1], 1.0))
                    if step is not None and batch is not None
                    else None
                ),
                "actual_cumulative_share": (
                    seen_schools / n_schools if batch is not None and n_schools else None
                ),
            }
        )
    return result
