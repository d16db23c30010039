"""Fit the factor model with its calibration step, and score with both (one path for all callers).

Steps (docs/diagnosis.md, "the learned model"):

1. hide a seeded 20 % of the observed grades (when there are at least 500);
2. fit :class:`FactorMastery` on the rest;
3. fit Platt's (α, β) on the hidden grades (:mod:`calibration`);
4. refit on every grade, warm-started from step 2, and keep (α, β);
5. re-learn the grade emission tables on the hidden grades of step 1, with the first fit's
   prior (which never saw them) held fixed (:mod:`emission_calibration`); the measured
   cells are scored with these tables;
6. optionally (``learn_course_weight=True``; off by default, measured and not adopted,
   docs/diagnosis.md §7), on the same hidden grades, learn what a completed course adds on
   practised cells (:mod:`course_calibration`, with step 5's tables) and score cells whose
   strongest record is a course with that weight instead of the stated one.

Without grades there is nothing of the province's own to calibrate on, and the map stays the
identity (reported as ``calibrated = False``); the emission tables are then the model's own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import NamedTuple

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from recommender.diagnosis.calibration import IDENTITY, PlattCalibration, fit_platt, holdout_cells
from recommender.diagnosis.course_calibration import CourseWeight, fit_course_log_odds
from recommender.diagnosis.emission_calibration import (
    COURSE_CATEGORY,
    MeasuredCalibration,
    fit_emissions_given_prior,
)
from recommender.diagnosis.evidence import ACTIVITY_LABELS, Evidence
from recommender.diagnosis.factor_model import FactorData, FactorMastery

#: The activity category of a completed practice task (evidence.ACTIVITY_LABELS).
PRACTICE_CATEGORY = ACTIVITY_LABELS.index("task_completed")

__all__ = [
    "HOLDOUT_SHARE",
    "CalibratedFactorFit",
    "factor_data",
    "fit_calibrated",
    "predict_calibrated",
    "record_volume",
]

#: Share of the observed grades hidden from the first fit to calibrate on.
HOLDOUT_SHARE = 0.2
_MIN_GRADES_TO_CALIBRATE = 500


def factor_data(
    evidence: Evidence,
    covariates: NDArray[np.float64],
    schools: NDArray[np.int64],
    environment_gap: NDArray[np.int8] | None = None,
) -> FactorData:
    """The factor model's arrays from :func:`province_evidence.build_evidence` output."""
    measurements: dict[str, tuple[NDArray[np.int8], NDArray[np.float64]]] = {}
    shape = (evidence.n_teachers, evidence.n_points)
    for kind, obs in evidence.observations.items():
        if kind == "activity":
            continue
        weight = evidence.weights.get(kind)
        w = np.ones(shape) if weight is None else np.asarray(weight, dtype=np.float64)
        measurements[kind] = (obs, w)
    activity = evidence.observations.get("activity")
    if activity is None:
        # Without records, a grade still says a practice task was done: 考核 grades the
        # practice evidence a teacher submitted. Elsewhere the activity stays unknown.
        grade = evidence.observations.get("grade")
        activity = np.full(shape, -1, dtype=np.int8)
        if grade is not None:
            activity[grade >= 0] = PRACTICE_CATEGORY
    return FactorData(
        measurements,
        activity,
        covariates,
        np.asarray(schools, dtype=np.int64),
        environment_gap,
        evidence.course_completed,
    )


def record_volume(
    events: pd.DataFrame | None, teacher_index: Mapping[str, int]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Completions and enrolments per teacher (zeros without records)."""
    n = len(teacher_index)
    if events is None or not len(events):
        return np.zeros(n), np.zeros(n)
    rows = events["teacher_id"].astype(str).map(teacher_index)
    known = rows.notna().to_numpy()
    rows_known = rows[known].to_numpy(dtype=np.int64)
    kind = events["event"].to_numpy()[known]
    done = np.bincount(rows_known[kind == "complete"], minlength=n).astype(np.float64)
    enrolled = np.bincount(rows_known[kind == "enrol"], minlength=n).astype(np.float64)
    return done, enrolled


class CalibratedFactorFit(NamedTuple):
    """What :func:`fit_calibrated` learned: the model, its slope map and measured-cell tables."""

    model: FactorMastery
    calibration: PlattCalibration
    calibrated: bool
    measured: MeasuredCalibration = MeasuredCalibration()


def fit_calibrated(
    data: FactorData,
    prior_tables: Mapping[str, NDArray[np.float64]],
    n_schools: int,
    *,
    n_factors: int = 2,
    random_state: int | None = 0,
    held_out_emissions: bool = True,
    learn_course_weight: bool = False,
) -> CalibratedFactorFit:
    """Fit, calibrate on hidden grades, refit on all, re-learn the emissions on hidden grades.

    ``held_out_emissions=False`` skips steps 5 and 6 (the measured cells then use the model's
    own emission tables, as before 2026-12-03); ``learn_course_weight=True`` runs step 6
    (course-only cells then get the course weight learned on hidden grades instead of the
    model's own, stated, one).
    """

    def model() -> FactorMastery:
        return FactorMastery(n_factors=n_factors, random_state=random_state)

    grades = data.measurements.get("grade")
    observed = grades[0] >= 0 if grades is not None else np.zeros(data.shape, dtype=bool)
    hidden = (
        holdout_cells(observed, HOLDOUT_SHARE, random_state)
        if observed.sum() >= _MIN_GRADES_TO_CALIBRATE
        else np.zeros(data.shape, dtype=bool)
    )
    if grades is None or not hidden.any():
        return CalibratedFactorFit(model().fit(data, prior_tables, n_schools), IDENTITY, False)
    obs, weight = grades
    kept = replace(
        data,
        measurements={
            **data.measurements,
            "grade": (np.where(hidden, -1, obs).astype(np.int8), weight),
        },
    )
    first = model().fit(kept, prior_tables, n_schools)
    eta = first.prior_log_odds(kept)
    other = first.measurement_log_odds(kept)
    ratio = first.evidence_log_odds("grade")
    calibration = fit_platt(
        eta[hidden], other[hidden], ratio[obs[hidden].astype(np.int64)] * weight[hidden]
    )
    final = model().fit(data, prior_tables, n_schools, warm_start=first)
    measured = MeasuredCalibration()
    if held_out_emissions:
        hidden_grades = replace(
            data, measurements={"grade": (np.where(hidden, obs, -1).astype(np.int8), weight)}
        )
        prior = calibration.apply(eta) + other
        tables = fit_emissions_given_prior(
            prior, hidden_grades, first.emission_, first.prior_tables_, first.prior_strength
        )
        course = None
        if learn_course_weight and data.course is not None:
            course = _learn_course_weight(
                prior, hidden_grades, hidden, first, calibration.slope, tables
            )
        measured = MeasuredCalibration(tables, int(hidden.sum()), course)
    return CalibratedFactorFit(final, calibration, True, measured)


def _learn_course_weight(
    prior: NDArray[np.float64],
    hidden_grades: FactorData,
    hidden: NDArray[np.bool_],
    first: FactorMastery,
    slope: float,
    tables: dict[str, NDArray[np.float64]],
) -> CourseWeight | None:
    """Step 6: δ on the hidden practised cells, with step 5's held-out tables."""
    if hidden_grades.course is None:
        return None
    obs, weight = hidden_grades.measurements["grade"]
    practised = hidden & (hidden_grades.activity == PRACTICE_CATEGORY)
    ratio = MeasuredCalibration(tables).evidence_log_odds("grade")
    return fit_course_log_odds(
        prior[practised],
        hidden_grades.course[practised],
        ratio[obs[practised].astype(np.int64)] * weight[practised],
        weight[practised],
        stated=slope * float(first.evidence_log_odds("activity")[COURSE_CATEGORY]),
    )


def predict_calibrated(
    model: FactorMastery,
    calibration: PlattCalibration,
    data: FactorData,
    *,
    leave_one_out: bool = True,
    measured: MeasuredCalibration | None = None,
) -> dict[str, NDArray[np.float64]]:
    """Calibrated posterior and prior-only (attributes + school) probabilities per cell.

    ``leave_one_out`` (default) takes a measured cell's ``η`` from factors solved without its
    own measurement (:meth:`FactorMastery.prior_log_odds_loo`), so the measurement is counted
    once; False is the plain MAP ``η`` (kept for comparison, docs/diagnosis.md §7).
    ``measured`` supplies held-out emission tables for the measured cells' likelihood
    ratio (None or empty: the model's own tables).
    """
    prior = model.prior_log_odds_loo(data) if leave_one_out else model.prior_log_odds(data)
    held_out = measured or MeasuredCalibration()
    eta = calibration.apply(prior) + held_out.course_shift(model, calibration.slope, data)
    llr = held_out.log_odds(model, data)
    attributes_only = calibration.apply(model.attribute_log_odds(data))
    return {
        "mastery_probability": 1.0 / (1.0 + np.exp(-(eta + llr))),
        "prior_probability": 1.0 / (1.0 + np.exp(-attributes_only)),
    }
