"""What the school and district views compute from the area's aggregates: 学时 per month and
the progress of each rollout batch (整校推进 批次).

Pure functions over small frames (the reads are in :mod:`service.db.stores.teacher_rows` and
:mod:`service.db.stores.region_aggregates`), so the same numbers come out of the JSON, the
``.xlsx`` and the tests.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd

from competency_model.policy import Policy
from service.db.stores.region_aggregates import BatchSums

__all__ = ["TrendBy", "rollout_rows", "trend_table"]

TrendBy = Literal["total", "research_group", "school_id"]
TREND_COLUMNS = ["month", "hours", "practice_hours", "active_teachers", "completions"]
_NO_GROUP = "(未填写)"


def trend_table(monthly: pd.DataFrame, n_teachers: Mapping[str, int]) -> pd.DataFrame:
    """学时 added per month per group, every month from the first to the last present for every
    group (zeros where nothing happened), with the running mean per teacher.

    Parameters
    ----------
    monthly
        :func:`service.db.stores.teacher_rows.monthly_rows` of the area.
    n_teachers
        Teachers per group: the denominator of ``cumulative_mean_hours``, so a group's line
        reaches the policy's total when every teacher of it has.

    Returns
    -------
    DataFrame
        ``month`` (``YYYY-MM``), ``group``, ``hours``, ``practice_hours``, ``active_teachers``,
        ``completions`` and ``cumulative_mean_hours``, months in order.
    """
    columns = ["month", "group", *TREND_COLUMNS[1:], "cumulative_mean_hours"]
    if monthly.empty:
        return pd.DataFrame(columns=columns)
    frame = monthly.assign(group=monthly["group"].astype(str).replace("", _NO_GROUP))
    sizes = {(_NO_GROUP if str(k) == "" else str(k)): int(v) for k, v in n_teachers.items()}
    table = frame.groupby(["group", "month"]).sum()
    first, last = pd.Period(frame["month"].min()), pd.Period(frame["month"].max())
    months = [str(p) for p in pd.period_range(first, last, freq="M")]
    groups = sorted(table.index.get_level_values(0).unique())
    full = table.reindex(pd.MultiIndex.from_product([groups, months], names=["group", "month"]))
    full = full.fillna(0.0).reset_index()
    for name in ("active_teachers", "completions"):
        full[name] = full[name].astype(int)
    for name in ("hours", "practice_hours"):
        full[name] = full[name].astype(float)
    denominators = full["group"].map(lambda g: max(int(sizes.get(g, 0)), 1))
    full["cumulative_mean_hours"] = full.groupby("group")["hours"].cumsum() / denominators
    return full[columns]


def rollout_rows(batches: Mapping[int | None, BatchSums], policy: Policy) -> list[dict[str, Any]]:
    """Progress per rollout batch, next to the policy's plan for the batches.

    Batch *i* (1-based) is the *i*-th step of ``policy.rollout``; ``planned_cumulative_share``
    is the share of schools the policy expects to have started by that step's year and
    ``actual_cumulative_share`` the share of the area's schools assigned to batches up to *i*.
    ``started_share`` and ``compliant_share`` are over the batch's teachers.
    """
    steps = list(policy.rollout)
    n_schools = sum(sums.n_schools for sums in batches.values())
    numbered = sorted(b for b in batches if b is not None)
    ordered: list[int | None] = [*numbered, *([None] if None in batches else [])]
    planned = np.cumsum([step.share for step in steps]) if steps else np.array([])
    result = []
    seen_schools = 0
    for batch in ordered:
        sums = batches[batch]
        teachers = sums.n_teachers
        if batch is not None:
            seen_schools += sums.n_schools
        step = steps[batch - 1] if batch is not None and 0 < batch <= len(steps) else None
        result.append(
            {
                "batch": batch,
                "year": step.year if step else None,
                "n_schools": sums.n_schools,
                "n_teachers": teachers,
                "teachers_started": sums.teachers_started,
                "started_share": sums.teachers_started / teachers if teachers else 0.0,
                "n_compliant": sums.n_compliant,
                "compliant_share": sums.n_compliant / teachers if teachers else 0.0,
                "mean_hours": sums.sum_hours / teachers if teachers else 0.0,
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
