"""Teacher attributes -> the covariate design of the factor model (one-hot levels, years, activity).

Why: a point a teacher has no evidence on is best guessed from what the province's data say
about teachers like her (stage, subject, school environment, years of service, how much she
studies) and from her evidence on other points. The levels are learned from the fitting
province and frozen, so a teacher at scoring time gets the same columns; an unknown or missing
value is an all-zero block (the province average), never an error.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from competency_model.errors import FrameworkError
from competency_model.framework import Framework
from competency_model.vocabulary import ENVIRONMENTS, normalize_environment

__all__ = [
    "CATEGORICAL_FIELDS",
    "TeacherFeatures",
    "environment_gap",
    "point_environment_ranks",
    "teacher_attribute_table",
]

#: Teacher attributes read as categories (each level with enough teachers gets a column).
CATEGORICAL_FIELDS: tuple[str, ...] = ("environment", "stage", "subject")
#: A level needs this many teachers in the fitting province to get its own column.
_MIN_LEVEL_SIZE = 20


def teacher_attribute_table(teachers: pd.DataFrame, schools: pd.DataFrame) -> pd.DataFrame:
    """environment, stage, subject, years_of_service per teacher (missing columns -> NaN)."""
    out = pd.DataFrame(index=teachers.index)
    if len(schools) and "environment" in schools.columns:
        environment = schools.drop_duplicates("school_id").set_index("school_id")["environment"]
        out["environment"] = teachers["school_id"].map(environment)
    else:
        out["environment"] = np.nan
    for name in ("stage", "subject", "years_of_service"):
        out[name] = teachers[name] if name in teachers.columns else np.nan
    return out


@dataclass
class TeacherFeatures:
    """Frozen encoding: category levels per field and the activity columns' presence."""

    levels: Mapping[str, Sequence[str]]
    with_activity: bool

    @classmethod
    def learn(cls, attributes: pd.DataFrame, with_activity: bool) -> TeacherFeatures:
        """Levels with at least 20 teachers in ``attributes`` (from :func:`teacher_attribute_table`)."""
        levels: dict[str, list[str]] = {}
        for name in CATEGORICAL_FIELDS:
            counts = attributes[name].dropna().astype(str).value_counts()
            levels[name] = sorted(counts[counts >= _MIN_LEVEL_SIZE].index)
        return cls(levels, with_activity)

    @property
    def names(self) -> list[str]:
        """Column names, in design order."""
        cats = [f"{f}={v}" for f in CATEGORICAL_FIELDS for v in self.levels[f]]
        extra = ["years_of_service"]
        if self.with_activity:
            extra += ["log_completions", "log_enrolments"]
        return cats + extra

    def design(
        self,
        attributes: pd.DataFrame,
        completions: NDArray[np.float64] | None = None,
        enrolments: NDArray[np.float64] | None = None,
    ) -> NDArray[np.float64]:
        """Design matrix (teachers x features); completions/enrolments are per-teacher counts."""
        blocks = []
        for name in CATEGORICAL_FIELDS:
            values = attributes[name].astype(object).where(attributes[name].notna(), None)
            text = np.array([str(v) if v is not None else "" for v in values], dtype=object)
            levels = np.array(list(self.levels[name]), dtype=object)
            blocks.append((text[:, None] == levels[None, :]).astype(np.float64))
        years = pd.to_numeric(attributes["years_of_service"], errors="coerce").to_numpy(float)
        blocks.append(np.nan_to_num((years - 15.0) / 10.0)[:, None])
        if self.with_activity:
            n = len(attributes)
            done = np.zeros(n) if completions is None else np.asarray(completions, dtype=float)
            enrolled = np.zeros(n) if enrolments is None else np.asarray(enrolments, dtype=float)
            blocks.append(np.log1p(done)[:, None] - 1.5)
            blocks.append(np.log1p(enrolled)[:, None] - 1.5)
        return np.hstack(blocks) if blocks else np.zeros((len(attributes), 0))


def point_environment_ranks(framework: Framework, codes: Sequence[str]) -> NDArray[np.int8]:
    """Rank of each point's environment (0 multimedia / A, 1 blended / B, 2 smart / C)."""
    return np.array([ENVIRONMENTS.index(framework.point(c).environment) for c in codes], np.int8)


def environment_gap(attributes: pd.DataFrame, point_ranks: NDArray[np.int8]) -> NDArray[np.int8]:
    """Teachers x points: how many environment levels the point lies above the teacher's school.

    Why: the framework designs each point for an environment (A 多媒体, B 混合, C 智慧); a school
    without that environment cannot host its practice, so its teachers rarely master it, and the
    province's grades never show it (nobody there is graded on such a point). 0 where the point
    is within the school's environment or the environment is unknown.
    """
    ranks = np.full(len(attributes), -1, dtype=np.int64)
    for row, value in enumerate(attributes["environment"].to_numpy()):
        if isinstance(value, str):
            try:
                ranks[row] = ENVIRONMENTS.index(normalize_environment(value))
            except FrameworkError:
                continue  # unknown label: the province average, as for the one-hot columns
    gap = np.asarray(point_ranks, dtype=np.int64)[None, :] - ranks[:, None]
    return np.where(ranks[:, None] >= 0, np.clip(gap, 0, 2), 0).astype(np.int8)
