"""Province tables -> categorical evidence per teacher x point, the input of the learned model.

Every kind of evidence becomes one small categorical observation per teacher and point (``-1``
when that kind says nothing about the cell), so that one EM can learn how likely each category
is for a teacher who masters the point and for one who does not
(:class:`~recommender.diagnosis.mixture.LatentClassMastery`). Three kinds exist:

``grade``
    The latest school grade of the point: 0 不合格, 1 合格, 2 优秀.
``activity``
    What the records show for the point: 0 nothing, 1 enrolled or in progress without a
    completion, 2 completed an online course with weight on it, 3 completed a practice task with
    weight on it. Observed for every teacher once the province has any records at all (a teacher
    with no row then truly did nothing), missing otherwise.
``questionnaire``
    The questionnaire's own log-likelihood ratio for the point (flat prior, see
    :meth:`HigherOrderDINA.direct_log_odds_codes`) cut into :data:`QUESTIONNAIRE_EDGES` bins;
    missing when no answered item measures the point.

Grades and activities also get a per-cell weight ``0.5 ** (age / half_life)``: evidence that is
old counts as a fraction of an observation (the likelihood is raised to that power).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from competency_model.errors import NengliError
from recommender.diagnosis.fusion import GRADES

__all__ = [
    "ACTIVITY_LABELS",
    "GRADE_ORDER",
    "QUESTIONNAIRE_EDGES",
    "Evidence",
    "activity_observations",
    "activity_records",
    "grade_observations",
    "questionnaire_observations",
]

#: Grade categories in the order of the ``grade`` observation.
GRADE_ORDER: tuple[str, ...] = ("不合格", "合格", "优秀")
#: Categories of the ``activity`` observation.
ACTIVITY_LABELS: tuple[str, ...] = ("none", "enrolled", "course_completed", "task_completed")
#: Bin edges (log-odds) of the questionnaire observation; 11 bins.
QUESTIONNAIRE_EDGES: NDArray[np.float64] = np.array(
    [-5.0, -3.5, -2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.5, 5.0]
)
N_CATEGORIES: dict[str, int] = {
    "grade": len(GRADE_ORDER),
    "activity": len(ACTIVITY_LABELS),
    "questionnaire": len(QUESTIONNAIRE_EDGES) + 1,
}


@dataclass
class Evidence:
    """Categorical observations (teachers x points, int8, -1 = none) with per-cell weights.

    ``counts`` is the number of direct pieces per cell (answered items measuring the point,
    grades, completed items), the ``evidence_count`` of the diagnosis.
    """

    observations: dict[str, NDArray[np.int8]]
    weights: dict[str, NDArray[np.float32]] = field(default_factory=dict)
    counts: NDArray[np.int64] | None = None
    #: Cells with a completed online course, also where a practice task is the strongest
    #: record (``activity`` keeps only the strongest); None without records.
    course_completed: NDArray[np.bool_] | None = None

    @property
    def n_teachers(self) -> int:
        """Rows of every array."""
        return next(iter(self.observations.values())).shape[0]

    @property
    def n_points(self) -> int:
        """Columns of every array."""
        return next(iter(self.observations.values())).shape[1]

    def take(self, rows: NDArray[np.int64] | slice) -> Evidence:
        """The teachers ``rows`` (a chunk or a subsample)."""
        return Evidence(
            {k: v[rows] for k, v in self.observations.items()},
            {k: v[rows] for k, v in self.weights.items()},
            None if self.counts is None else self.counts[rows],
            None if self.course_completed is None else self.course_completed[rows],
        )


def _decay(as_of: pd.Timestamp, stamps: pd.Series, half_life: float | None) -> NDArray[np.float64]:
    if half_life is None:
        return np.ones(len(stamps))
    age = (as_of - pd.to_datetime(stamps)).dt.total_seconds().to_numpy() / 86_400
    # Future-dated evidence (clock skew between systems) counts as fresh, never as more.
    return np.power(0.5, np.clip(age, 0.0, None) / half_life)


def grade_observations(
    grades: pd.DataFrame,
    teacher_index: dict[str, int],
    codes: Sequence[str],
    as_of: datetime | pd.Timestamp,
    half_life_days: float | None,
) -> tuple[NDArray[np.int8], NDArray[np.float32], NDArray[np.int64]]:
    """Latest grade per teacher x point (category, decay weight) and the number of grades."""
    n, k = len(teacher_index), len(codes)
    category = np.full((n, k), -1, dtype=np.int8)
    weight = np.zeros((n, k), dtype=np.float32)
    counts = np.zeros((n, k), dtype=np.int64)
    if not len(grades):
        return category, weight, counts
    bad = ~grades["grade"].isin(GRADES)
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise NengliError(
            f"grades row {row}: grade {grades['grade'].iloc[row]!r}; use one of {GRADES}"
        )
    column = {c: i for i, c in enumerate(codes)}
    unknown = ~grades["point"].isin(column)
    if unknown.any():
        row = int(np.flatnonzero(unknown.to_numpy())[0])
        raise NengliError(
            f"grades row {row}: point {grades['point'].iloc[row]!r} is not in the framework"
        )
    g = grades[grades["teacher_id"].isin(teacher_index)].sort_values("assessed_at", kind="stable")
    rows = g["teacher_id"].map(teacher_index).to_numpy(dtype=np.int64)
    cols = g["point"].map(column).to_numpy(dtype=np.int64)
    np.add.at(counts, (rows, cols), 1)
    # sorted by date, so the last assignment to a cell is its latest grade
    category[rows, cols] = g["grade"].map({v: i for i, v in enumerate(GRADE_ORDER)}).to_numpy()
    weight[rows, cols] = _decay(pd.Timestamp(as_of), g["assessed_at"], half_life_days)
    return category, weight, counts


def activity_observations(
    events: pd.DataFrame,
    point_weights: pd.DataFrame,
    teacher_index: dict[str, int],
    codes: Sequence[str],
    as_of: datetime | pd.Timestamp,
    half_life_days: float | None,
) -> tuple[NDArray[np.int8], NDArray[np.float32], NDArray[np.int64]]:
    """Strongest activity per teacher x point (category, decay weight) and completions counted.

    ``events`` has teacher_id, item_id, event, timestamp; ``point_weights`` is the catalog's
    long item_id, point, weight, kind table. Items outside the catalog say nothing.
    """
    category, weight, counts, _ = activity_records(
        events, point_weights, teacher_index, codes, as_of, half_life_days
    )
    return category, weight, counts


def activity_records(
    events: pd.DataFrame,
    point_weights: pd.DataFrame,
    teacher_index: dict[str, int],
    codes: Sequence[str],
    as_of: datetime | pd.Timestamp,
    half_life_days: float | None,
) -> tuple[NDArray[np.int8], NDArray[np.float32], NDArray[np.int64], NDArray[np.bool_]]:
    """:func:`activity_observations` plus the cells with a completed online course.

    Why the fourth array: the strongest record per cell hides a course that a practice task
    followed ("practice" only). Graded cells are practised cells; whether they also had a course
    is what lets hidden grades say what a course adds
    (:func:`~recommender.diagnosis.course_calibration.fit_course_log_odds`). Built in the same
    pass over the records, so scoring reads them once.
    """
    n, k = len(teacher_index), len(codes)
    category = np.zeros((n, k), dtype=np.int8)
    weight = np.ones((n, k), dtype=np.float32)
    counts = np.zeros((n, k), dtype=np.int64)
    course = np.zeros((n, k), dtype=bool)
    column = {c: i for i, c in enumerate(codes)}
    known = events[events["teacher_id"].isin(teacher_index)]
    weights = point_weights[point_weights["point"].isin(column) & (point_weights["weight"] > 0)]
    merged = known[["teacher_id", "item_id", "event", "timestamp"]].merge(
        weights, on="item_id", how="inner"
    )
    if not len(merged):
        return category, weight, counts, course
    done = (merged["event"] == "complete").to_numpy()
    practice = (merged["kind"] == "practice").to_numpy()
    level = np.where(done, np.where(practice, 3, 2), 1).astype(np.int8)
    rows = merged["teacher_id"].map(teacher_index).to_numpy(dtype=np.int64)
    cols = merged["point"].map(column).to_numpy(dtype=np.int64)
    np.maximum.at(category, (rows, cols), level)
    np.add.at(counts, (rows[done], cols[done]), 1)
    course[rows[level == 2], cols[level == 2]] = True
    # the weight of a cell is the freshness of its strongest evidence
    decay = _decay(pd.Timestamp(as_of), merged["timestamp"], half_life_days)
    strongest = level == category[rows, cols]
    freshest = np.zeros((n, k))
    np.maximum.at(freshest, (rows[strongest], cols[strongest]), decay[strongest])
    touched = category > 0
    weight[touched] = freshest[touched]
    return category, weight, counts, course


def questionnaire_observations(
    log_odds: NDArray[np.float64], answered: NDArray[np.int64]
) -> NDArray[np.int8]:
    """Bin the questionnaire's flat-prior log-odds; -1 where no answered item measures the point."""
    bins = np.searchsorted(QUESTIONNAIRE_EDGES, log_odds).astype(np.int8)
    return np.where(answered > 0, bins, -1).astype(np.int8)
