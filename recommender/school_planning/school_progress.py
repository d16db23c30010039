"""A school's own progress: 学时 and practice share per teacher and per 教研组, assessment status,
and the teachers behind the policy with the reason.

This is what a 校长 / CIO asks of the programme — "who in my school is behind, and why" — so
each behind teacher gets the rules they miss in words (Chinese first, English second) with the
figures, not a bare flag. All figures come from :func:`hours_completed` and :func:`compliance`,
the same arithmetic the region view uses, so a school and its district read the same numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from competency_model.catalog import Catalog
from competency_model.policy import Policy
from recommender.school_planning.progress import compliance, cycle_ended_short, hours_completed

__all__ = ["SchoolProgress", "progress_from_hours", "school_progress"]

_GROUP_UNKNOWN = "（未填写教研组）"


@dataclass(frozen=True)
class SchoolProgress:
    """Per-teacher and per-教研组 progress of one school against one policy.

    Attributes
    ----------
    teachers
        One row per teacher: ``teacher_id``, ``research_group``, ``stage``, ``subject``,
        ``hours``, ``practice_hours``, ``online_hours``, ``practice_share``, ``compliant``,
        ``hours_missing``, ``cycle_ended_short``, ``points_assessed``, ``points_passed``, ``points_failed``,
        ``reasons_zh``, ``reasons_en`` (empty when compliant).
    groups
        One row per 教研组: ``research_group``, ``n_teachers``, ``n_compliant``,
        ``compliant_share``, ``mean_hours``, ``mean_practice_share``, ``n_assessed``.
    """

    school_id: str
    policy: str
    teachers: pd.DataFrame
    groups: pd.DataFrame

    @property
    def behind(self) -> pd.DataFrame:
        """The 未达标名单: teachers not meeting the policy, most hours missing first."""
        rows = self.teachers.loc[~self.teachers["compliant"]]
        return rows.sort_values(["hours_missing", "teacher_id"], ascending=[False, True])


def _reasons(row: Mapping[str, Any], policy: Policy) -> tuple[str, str]:
    zh: list[str] = []
    en: list[str] = []
    if not row["meets_total"]:
        zh.append(f"总学时 {row['hours']:g}/{policy.total_hours:g}")
        en.append(f"total hours {row['hours']:g} of {policy.total_hours:g}")
    if row["practice_hours"] + 1e-9 < policy.min_practice_hours:
        zh.append(f"实践学时 {row['practice_hours']:g}/{policy.min_practice_hours:g}")
        en.append(f"practice hours {row['practice_hours']:g} of {policy.min_practice_hours:g}")
    if row["practice_share"] + 1e-9 < policy.min_practice_share:
        zh.append(f"实践占比 {row['practice_share']:.0%}/{policy.min_practice_share:.0%}")
        en.append(f"practice share {row['practice_share']:.0%} of {policy.min_practice_share:.0%}")
    if not row["meets_online"]:
        zh.append(f"线上学时 {row['online_hours']:g}/{policy.min_online_hours:g}")
        en.append(f"online hours {row['online_hours']:g} of {policy.min_online_hours:g}")
    return "；".join(zh), "; ".join(en)


def school_progress(
    school_id: str,
    teachers: pd.DataFrame,
    events: pd.DataFrame,
    grades: pd.DataFrame,
    catalog: Catalog,
    policy: Policy,
    *,
    cycle_start: pd.Series | pd.Timestamp | str | None = None,
    as_of: pd.Timestamp | str | None = None,
) -> SchoolProgress:
    """Progress of the teachers of one school.

    With ``cycle_start`` (one date, or one per teacher id) and ``as_of``, a teacher whose cycle
    ended before ``as_of`` without meeting the rules is flagged ``cycle_ended_short`` (and,
    under a policy with ``cycle_credit_required``, her reasons say the credit review fails);
    without them the flag is ``False`` (the cycle's timing is unknown).

    Parameters
    ----------
    school_id
        The school (its teachers are the rows of ``teachers``).
    teachers, events, grades
        The school's tables (columns as in a ``Province``).
    catalog, policy
        Hours per item and the rules the school follows.
    """
    roster = teachers.assign(teacher_id=teachers["teacher_id"].astype(str))
    hours = hours_completed(events, catalog, policy, roster)
    latest = grades.sort_values("assessed_at").drop_duplicates(["teacher_id", "point"], keep="last")
    # Vectorised counts (a per-group lambda cost most of a school's request).
    keys = latest["teacher_id"].astype(str).to_numpy()
    counts = pd.DataFrame(
        {
            "points_assessed": latest.groupby(keys)["point"].nunique(),
            "points_passed": latest["grade"].isin(["优秀", "合格"]).astype(int).groupby(keys).sum(),
            "points_failed": (latest["grade"] == "不合格").astype(int).groupby(keys).sum(),
        }
    )
    return progress_from_hours(
        school_id, roster, hours, counts, policy, cycle_start=cycle_start, as_of=as_of
    )


def progress_from_hours(
    school_id: str,
    teachers: pd.DataFrame,
    hours: pd.DataFrame,
    grade_counts: pd.DataFrame,
    policy: Policy,
    *,
    cycle_start: pd.Series | pd.Timestamp | str | None = None,
    as_of: pd.Timestamp | str | None = None,
) -> SchoolProgress:
    """:func:`school_progress` from 学时 already summed per teacher (the service keeps them in
    the database), so both paths share the checks, the reasons and the cycle flag.

    Parameters
    ----------
    teachers
        ``teacher_id``, ``research_group``, ``stage``, ``subject``.
    hours
        Index ``teacher_id``; ``hours``, ``practice_hours``, ``online_hours`` (missing teachers
        count zero).
    grade_counts
        Index ``teacher_id``; ``points_assessed``, ``points_passed``, ``points_failed``.
    cycle_start
        One date, or one per teacher id; a teacher without one (``NaT`` or absent) is never
        flagged (her cycle's timing is unknown).
    """
    roster = teachers.assign(teacher_id=teachers["teacher_id"].astype(str))
    sums = hours[["hours", "practice_hours", "online_hours"]].reindex(
        roster["teacher_id"], fill_value=0.0
    )
    sums.index.name = "teacher_id"
    checked = compliance(sums.astype(float), policy)
    checked["practice_share"] = np.where(
        checked["hours"] > 0,
        checked["practice_hours"] / checked["hours"].where(checked["hours"] > 0, 1.0),
        0.0,
    )
    table = roster.set_index("teacher_id")[["research_group", "stage", "subject"]].join(checked)
    table["research_group"] = table["research_group"].fillna("").replace("", _GROUP_UNKNOWN)
    counts = grade_counts.copy()
    counts.index = counts.index.astype(str)
    for name in ("points_assessed", "points_passed", "points_failed"):
        table[name] = counts[name].reindex(table.index).fillna(0).astype(int)
    table["cycle_ended_short"] = False
    if cycle_start is not None and as_of is not None:
        starts = (
            pd.Series(cycle_start)
            if isinstance(cycle_start, pd.Series)
            else pd.Series(pd.Timestamp(cycle_start), index=checked.index)
        )
        starts.index = starts.index.astype(str)
        starts = pd.to_datetime(starts.reindex(checked.index))
        known = starts.notna().to_numpy()
        if known.any():
            flags = cycle_ended_short(checked.loc[known], policy, starts[known], as_of)
            table["cycle_ended_short"] = flags.reindex(table.index, fill_value=False).astype(bool)
    reasons = [
        _reasons(row, policy) if not row["compliant"] else ("", "")
        for row in table.to_dict("records")
    ]
    if policy.cycle_credit_required:
        reasons = [
            (
                zh + "；周期已结束仍未完成规定学时，周期学分审核视为不合格",
                en + "; the cycle ended short of the required hours: the credit review fails",
            )
            if short
            else (zh, en)
            for (zh, en), short in zip(reasons, table["cycle_ended_short"], strict=True)
        ]
    table["reasons_zh"] = [zh for zh, _ in reasons]
    table["reasons_en"] = [en for _, en in reasons]
    table = table.reset_index().sort_values("teacher_id", ignore_index=True)
    columns = [
        "teacher_id",
        "research_group",
        "stage",
        "subject",
        "hours",
        "practice_hours",
        "online_hours",
        "practice_share",
        "compliant",
        "hours_missing",
        "cycle_ended_short",
        "points_assessed",
        "points_passed",
        "points_failed",
        "reasons_zh",
        "reasons_en",
    ]
    table = table[columns]
    groups = (
        table.groupby("research_group", sort=True)
        .agg(
            n_teachers=("teacher_id", "size"),
            n_compliant=("compliant", "sum"),
            mean_hours=("hours", "mean"),
            mean_practice_share=("practice_share", "mean"),
        )
        .reset_index()
    )
    groups["n_assessed"] = (
        (table["points_assessed"] > 0).groupby(table["research_group"], sort=True).sum().to_numpy()
    )
    groups["n_compliant"] = groups["n_compliant"].astype(int)
    groups["compliant_share"] = groups["n_compliant"] / groups["n_teachers"]
    return SchoolProgress(school_id=school_id, policy=policy.name, teachers=table, groups=groups)
