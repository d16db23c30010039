"""Per teacher × point features from the province's observations only (no truth, no family).

Why: to measure what the data hold about a point a teacher has no direct evidence on, a
supervised learner needs the same observations every model sees, laid out per cell. The
features are the teacher's own record (her grades and learning records on *every* point, how
many, how strong), what her colleagues show on *this* point (school and 教研组 grade means and
completion shares, leave-one-out so a cell never sees itself) and the school's 选点. Nothing here
reads a truth table or the simulator's family.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from recommender.diagnosis.evidence import activity_observations, grade_observations
from recommender.diagnosis.province_inputs import latest_moment
from recommender.diagnosis.teacher_features import CATEGORICAL_FIELDS, teacher_attribute_table

__all__ = ["CellFeatures", "cell_features"]


@dataclass
class CellFeatures:
    """Features of every teacher × point cell, flattened teacher-major (row = t * points + k).

    ``direct`` marks cells with direct evidence (a grade or a completion on the point), the
    split of ``nengli evaluate diagnosis``; ``school`` is each row's school index (for
    grouped cross-validation).
    """

    matrix: NDArray[np.float64]
    names: list[str]
    direct: NDArray[np.bool_]
    school: NDArray[np.int64]
    shape: tuple[int, int]


def _leave_one_out_mean(
    values: NDArray[np.float64], present: NDArray[np.bool_], group: NDArray[np.int64]
) -> NDArray[np.float64]:
    """Per cell, the mean of ``values`` over the *other* teachers of its group (NaN if none)."""
    n_groups = int(group.max()) + 1 if group.size else 0
    v = np.where(present, values, 0.0)
    total = np.zeros((n_groups, values.shape[1]))
    count = np.zeros((n_groups, values.shape[1]))
    np.add.at(total, group, v)
    np.add.at(count, group, present.astype(np.float64))
    total_other = total[group] - v
    count_other = count[group] - present
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count_other > 0, total_other / count_other, np.nan)


def cell_features(
    province: object, codes: Sequence[str], point_weights: pd.DataFrame
) -> CellFeatures:
    """Build :class:`CellFeatures` from ``province``'s teachers, schools, grades and events."""
    teachers: pd.DataFrame = province.teachers  # type: ignore[attr-defined]
    schools: pd.DataFrame = province.schools  # type: ignore[attr-defined]
    grades: pd.DataFrame = province.grades  # type: ignore[attr-defined]
    events: pd.DataFrame = province.events  # type: ignore[attr-defined]
    ids = teachers["teacher_id"].astype(str).tolist()
    index = {t: i for i, t in enumerate(ids)}
    n, k = len(ids), len(codes)
    moment = latest_moment(grades["assessed_at"], events["timestamp"])
    grade, _, _ = grade_observations(grades, index, codes, moment, None)
    if len(events):
        activity, _, _ = activity_observations(events, point_weights, index, codes, moment, None)
    else:
        activity = np.zeros((n, k), dtype=np.int8)
    graded = grade >= 0
    g = grade.astype(np.float64)
    school_codes, school = np.unique(teachers["school_id"].astype(str), return_inverse=True)
    group_key = (
        teachers["school_id"].astype(str)
        + "|"
        + teachers.get("research_group", pd.Series([""] * n)).astype(str)
    )
    _, group = np.unique(group_key, return_inverse=True)
    completed = activity >= 2
    enrolled = activity >= 1
    # the teacher's own record, as a whole and per point (cross-point structure for the learner)
    n_graded = graded.sum(axis=1, keepdims=True).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_grade = np.where(
            n_graded > 0, np.where(graded, g, 0).sum(1, keepdims=True) / n_graded, np.nan
        )
    own = {
        "own_graded": n_graded,
        "own_mean_grade": mean_grade,
        "own_excellent": (grade == 2).sum(1, keepdims=True).astype(np.float64),
        "own_failed": (grade == 0).sum(1, keepdims=True).astype(np.float64),
        "own_completed_points": completed.sum(1, keepdims=True).astype(np.float64),
        "own_enrolled_points": enrolled.sum(1, keepdims=True).astype(np.float64),
        "own_practice_points": (activity == 3).sum(1, keepdims=True).astype(np.float64),
    }
    columns: dict[str, NDArray[np.float64]] = {
        name: np.broadcast_to(v, (n, k)) for name, v in own.items()
    }
    columns["point"] = np.broadcast_to(np.arange(k, dtype=np.float64), (n, k))
    columns["cell_activity"] = activity.astype(np.float64)
    # colleagues on this point (leave-one-out), school and 教研组
    for label, grouping in (("school", school), ("group", group)):
        columns[f"{label}_grade_on_point"] = _leave_one_out_mean(g, graded, grouping)
        columns[f"{label}_completed_on_point"] = _leave_one_out_mean(
            completed.astype(np.float64), np.ones((n, k), dtype=bool), grouping
        )
        columns[f"{label}_graded_on_point"] = _leave_one_out_mean(
            graded.astype(np.float64), np.ones((n, k), dtype=bool), grouping
        )
        # the colleagues' general level: their mean grade over every point
        columns[f"{label}_mean_grade"] = np.broadcast_to(
            _leave_one_out_mean(np.nan_to_num(mean_grade), n_graded > 0, grouping), (n, k)
        )
    chosen = np.zeros((len(school_codes), k))
    if "chosen_points" in schools.columns:
        column = {c: j for j, c in enumerate(codes)}
        text = schools.drop_duplicates("school_id").set_index("school_id")["chosen_points"]
        for row, sid in enumerate(school_codes):
            value = text.get(sid)
            if isinstance(value, str):
                for code in value.split(";"):
                    if code in column:
                        chosen[row, column[code]] = 1.0
    columns["school_chose_point"] = chosen[school]
    attributes = teacher_attribute_table(teachers, schools)
    for name in CATEGORICAL_FIELDS:
        codes_of, _ = pd.factorize(attributes[name].astype(str), sort=True)
        columns[f"attr_{name}"] = np.broadcast_to(codes_of.astype(np.float64)[:, None], (n, k))
    years = pd.to_numeric(attributes["years_of_service"], errors="coerce").to_numpy(float)
    columns["attr_years"] = np.broadcast_to(years[:, None], (n, k))
    # the teacher's grade and activity on every point (one column per point, same for all k)
    for j, code in enumerate(codes):
        columns[f"grade_{code}"] = np.broadcast_to(
            np.where(graded[:, j], g[:, j], np.nan)[:, None], (n, k)
        )
        columns[f"activity_{code}"] = np.broadcast_to(
            activity[:, j].astype(np.float64)[:, None], (n, k)
        )
    names = list(columns)
    matrix = np.stack([np.asarray(columns[c], dtype=np.float64).reshape(-1) for c in names], axis=1)
    direct = (graded | completed).reshape(-1)
    return CellFeatures(matrix, names, direct, np.repeat(school.astype(np.int64), k), (n, k))
