"""A province's tables -> :class:`~recommender.diagnosis.evidence.Evidence` for the learned model.

One function for batch and single-teacher diagnosis, so both read every input the same way:
which inputs exist decides which kinds of evidence are built (questionnaire only, grades only,
records only or any mix).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from recommender.diagnosis.evidence import (
    QUESTIONNAIRE_EDGES,
    Evidence,
    activity_records,
    grade_observations,
    questionnaire_observations,
)
from recommender.diagnosis.fusion import FusionConfig

__all__ = ["build_evidence", "prior_tables"]


def build_evidence(
    teacher_index: dict[str, int],
    codes: Sequence[str],
    questionnaire_log_odds: NDArray[np.float64] | None,
    answered: NDArray[np.int64],
    grades: pd.DataFrame,
    events: pd.DataFrame | None,
    point_weights: pd.DataFrame,
    as_of: datetime | pd.Timestamp,
    half_life_days: float | None,
) -> Evidence:
    """Observations of every kind the inputs hold, with the direct-evidence counts.

    Parameters
    ----------
    questionnaire_log_odds
        Flat-prior log-odds per teacher x point, or None without a questionnaire.
    answered
        Answered items measuring each teacher x point.
    events
        Learning records (None = the province has no records, so activity is unknown rather
        than "nothing").
    """
    observations: dict[str, NDArray[np.int8]] = {}
    weights: dict[str, NDArray[np.float32]] = {}
    counts = answered.astype(np.int64).copy()
    course: NDArray[np.bool_] | None = None
    if questionnaire_log_odds is not None and (answered > 0).any():
        observations["questionnaire"] = questionnaire_observations(questionnaire_log_odds, answered)
    if len(grades):
        grade, weight, n = grade_observations(grades, teacher_index, codes, as_of, half_life_days)
        observations["grade"], weights["grade"] = grade, weight
        counts += n
    if events is not None and len(events) and len(point_weights):
        activity, weight, n, course = activity_records(
            events, point_weights, teacher_index, codes, as_of, half_life_days
        )
        observations["activity"], weights["activity"] = activity, weight
        counts += n
    if not observations:  # nothing at all: the prior answers, every cell "unobserved"
        observations["grade"] = np.full((len(teacher_index), len(codes)), -1, dtype=np.int8)
    return Evidence(observations, weights, counts, course)


def prior_tables(
    evidence: Evidence, fusion: FusionConfig, questionnaire_log_odds: NDArray[np.float64] | None
) -> dict[str, NDArray[np.float64]]:
    """Starting (and prior) emission tables, columns (not mastered, mastered).

    Grades start from the stated likelihoods of ``fusion``; questionnaire bins from what a flat
    prior makes of each bin (the questionnaire taken at its word).
    """
    grade_order = ("不合格", "合格", "优秀")
    tables = {
        "grade": np.array(
            [[fusion.grade_likelihood[g][1], fusion.grade_likelihood[g][0]] for g in grade_order]
        )
    }
    obs = evidence.observations.get("questionnaire")
    if obs is not None and questionnaire_log_odds is not None:
        seen = obs >= 0
        p = 1.0 / (1.0 + np.exp(-questionnaire_log_odds[seen]))
        bins = obs[seen].astype(np.int64)
        size = len(QUESTIONNAIRE_EDGES) + 1
        table = np.stack([np.bincount(bins, 1 - p, size), np.bincount(bins, p, size)], axis=1)
        tables["questionnaire"] = table + 1e-3
    return tables
