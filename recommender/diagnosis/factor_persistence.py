"""Model-directory arrays of the factor model, its calibration and its covariate encoding.

Plain numeric and fixed-width string arrays (``allow_pickle=False``), prefixed ``factor_``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from recommender.diagnosis.calibration import PlattCalibration
from recommender.diagnosis.course_calibration import CourseWeight
from recommender.diagnosis.emission_calibration import MeasuredCalibration
from recommender.diagnosis.factor_model import FactorMastery
from recommender.diagnosis.teacher_features import CATEGORICAL_FIELDS, TeacherFeatures

__all__ = ["factor_arrays", "restore_factor", "restore_measured"]


def factor_arrays(model: Any) -> dict[str, NDArray[Any]]:
    """The fitted factor state of a :class:`DiagnosisModel` (``structure="factor"``)."""
    m: FactorMastery = model.factor_model_
    kinds = sorted(m.emission_)
    features: TeacherFeatures = model.features_
    return {
        "factor_intercept": m.intercept_,
        "factor_weights": m.weights_,
        "factor_school_effect": m.school_effect_,
        "factor_loadings": m.loadings_,
        "factor_activity": m.activity_,
        "factor_gap_effect": m.gap_effect_,
        "factor_point_environment": np.asarray(model.point_environment_, dtype=np.int8),
        "factor_emission_kinds": np.array(kinds, dtype=str),
        **{f"factor_emission_{k}": m.emission_[k] for k in kinds},
        "factor_calibration": np.array([model.calibration_.slope, model.calibration_.offset]),
        "factor_calibrated": np.array(bool(model.calibrated_)),
        **_measured_arrays(model.measured_calibration_),
        "factor_with_activity": np.array(bool(features.with_activity)),
        **{
            f"factor_levels_{name}": np.array(list(features.levels[name]), dtype=str)
            for name in CATEGORICAL_FIELDS
        },
        "factor_kinds": np.array(model.evidence_kinds_, dtype=str),
    }


def _measured_arrays(measured: MeasuredCalibration) -> dict[str, NDArray[Any]]:
    """The held-out emission tables and course weight, prefixed ``factor_heldout_``.

    ``factor_heldout_course`` is (δ, SD, cells) when a course weight was learned, absent
    otherwise.
    """
    kinds = sorted(measured.emission)
    course = (
        {}
        if measured.course is None
        else {"factor_heldout_course": np.array(list(measured.course), dtype=np.float64)}
    )
    return {
        "factor_heldout_kinds": np.array(kinds, dtype=str),
        "factor_heldout_cells": np.array(measured.cells, dtype=np.int64),
        **{f"factor_heldout_emission_{k}": measured.emission[k] for k in kinds},
        **course,
    }


def restore_measured(arrays: Mapping[str, NDArray[Any]]) -> MeasuredCalibration:
    """The held-out tables (none in model directories written before 2026-12-03) and course
    weight (none before 2026-12-04, or when none was learned)."""
    if "factor_heldout_kinds" not in arrays:
        return MeasuredCalibration()
    kinds = [str(k) for k in np.asarray(arrays["factor_heldout_kinds"], dtype=str)]
    course = None
    if "factor_heldout_course" in arrays:
        delta, sd, cells = (float(v) for v in np.asarray(arrays["factor_heldout_course"]))
        course = CourseWeight((delta, sd, int(cells)))
    return MeasuredCalibration(
        {k: np.asarray(arrays[f"factor_heldout_emission_{k}"], dtype=np.float64) for k in kinds},
        int(arrays["factor_heldout_cells"]),
        course,
    )


def restore_factor(
    arrays: Mapping[str, NDArray[Any]],
) -> tuple[FactorMastery, PlattCalibration, bool, TeacherFeatures, list[str]]:
    """Rebuild (model, calibration, calibrated, features, evidence kinds) from the arrays.

    The held-out emission tables are restored by :func:`restore_measured`.
    """
    m = FactorMastery(n_factors=int(np.asarray(arrays["factor_loadings"]).shape[1]))
    m.intercept_ = np.asarray(arrays["factor_intercept"], dtype=np.float64)
    m.weights_ = np.asarray(arrays["factor_weights"], dtype=np.float64)
    m.school_effect_ = np.asarray(arrays["factor_school_effect"], dtype=np.float64)
    m.loadings_ = np.asarray(arrays["factor_loadings"], dtype=np.float64)
    m.activity_ = np.asarray(arrays["factor_activity"], dtype=np.float64)
    # model directories written before the environment term have no key: no shift
    m.gap_effect_ = np.asarray(arrays.get("factor_gap_effect", np.zeros(3)), dtype=np.float64)
    m.emission_ = {
        str(k): np.asarray(arrays[f"factor_emission_{k}"], dtype=np.float64)
        for k in np.asarray(arrays["factor_emission_kinds"], dtype=str)
    }
    slope, offset = (float(v) for v in np.asarray(arrays["factor_calibration"]))
    features = TeacherFeatures(
        {
            name: [str(v) for v in np.asarray(arrays[f"factor_levels_{name}"], dtype=str)]
            for name in CATEGORICAL_FIELDS
        },
        bool(arrays["factor_with_activity"]),
    )
    kinds = [str(k) for k in np.asarray(arrays["factor_kinds"], dtype=str)]
    return m, PlattCalibration((slope, offset)), bool(arrays["factor_calibrated"]), features, kinds
