"""The course weight learned on hidden grades: recovered where it is additive, deterministic by
seed, used only on course-only cells, persisted with the model; the records keep a course that
a practice task followed."""

from __future__ import annotations

import dataclasses
import functools

import numpy as np
import pandas as pd
from scipy.special import expit, logit

from competency_model.catalog import load_catalog
from competency_model.framework import default_framework
from competency_model.item_bank import load_item_bank
from competency_model.province import empty_table
from recommender.diagnosis import model as model_module
from recommender.diagnosis.course_calibration import CourseWeight, fit_course_log_odds
from recommender.diagnosis.evidence import activity_records
from recommender.diagnosis.factor_fit import fit_calibrated, predict_calibrated
from recommender.diagnosis.factor_model import FactorData
from recommender.diagnosis.factor_persistence import restore_measured
from recommender.diagnosis.model import DiagnosisModel

#: P(grade | not mastered), P(grade | mastered) for 不合格 / 合格 / 优秀 (planted).
EMISSION = np.array([[0.45, 0.02], [0.5, 0.33], [0.05, 0.65]])
STATED = {"grade": np.array([[0.5, 0.1], [0.35, 0.4], [0.15, 0.5]])}
NONE, COURSE, PRACTICE = 0, 2, 3


def _grades(rng: np.random.Generator, mastered: np.ndarray) -> np.ndarray:
    cumulative = np.cumsum(EMISSION[:, mastered.astype(int)], axis=0)
    return (rng.random(mastered.shape)[None] > cumulative).sum(axis=0).astype(np.int8)


def test_course_weight_is_recovered_from_hidden_practised_cells():
    # practised cells, 70 % of them with a course; the course adds a planted 1.5 log-odds
    rng = np.random.default_rng(0)
    n, planted = 6000, 1.5
    prior = rng.normal(0.5, 1.2, n)
    course = rng.random(n) < 0.7
    mastered = rng.random(n) < expit(prior + 0.4 + planted * course)
    ratio = np.log(EMISSION[:, 1]) - np.log(EMISSION[:, 0])
    weight = fit_course_log_odds(prior, course, ratio[_grades(rng, mastered)])
    assert weight is not None
    assert abs(weight.log_odds - planted) < 0.3  # the stated 0.5 is 1.0 away
    assert abs(weight.log_odds - planted) < 3 * weight.sd and 0.05 < weight.sd < 0.3
    assert weight.cells == n
    # too few cells of one kind: δ is not identified, nothing is returned
    assert (
        fit_course_log_odds(prior[:200], np.ones(200, dtype=bool), ratio[np.ones(200, int)]) is None
    )


def planted_province(seed: int, n: int = 2400, k: int = 8, course_weight: float = 1.5):
    """Rank-1 mastery with an additive course weight: practised cells graded (60 % of them also
    with a course), course-only cells ungraded. Returns (data, truth)."""
    rng = np.random.default_rng(seed)
    u = rng.standard_normal(n)[:, None]
    eta = u * rng.uniform(0.8, 1.5, k) + rng.uniform(-0.5, 0.5, k)
    practised = rng.random((n, k)) < 0.3
    course = rng.random((n, k)) < np.where(practised, 0.6, 0.25)
    truth = rng.random((n, k)) < expit(eta + 2.0 * practised + course_weight * course)
    grade = np.where(practised, _grades(rng, truth), -1).astype(np.int8)
    activity = np.where(practised, PRACTICE, np.where(course, COURSE, NONE)).astype(np.int8)
    data = FactorData(
        {"grade": (grade, np.ones((n, k)))},
        activity,
        np.zeros((n, 0)),
        np.full(n, -1, dtype=np.int64),
        course=course,
    )
    return data, truth.astype(float)


def _fit(data: FactorData, seed: int = 0, learn: bool = True):
    return fit_calibrated(
        data, STATED, 0, n_factors=1, random_state=seed, learn_course_weight=learn
    )


def test_calibrated_fit_learns_the_course_weight_and_scores_course_only_cells_with_it():
    data, _ = planted_province(1)
    fit = _fit(data)
    learned = fit.measured.course
    assert learned is not None
    # the planted 1.5 in calibrated units (α of the fit), far from the stated α · 0.5
    stated = fit.calibration.slope * 0.5
    assert abs(learned.log_odds - 1.5) < 0.6 and learned.log_odds - stated > 0.6
    # determinism: the same seed gives the same weight, another seed another hidden share
    assert _fit(data).measured.course == learned
    assert _fit(data, seed=5).measured.course != learned
    # only course-only cells move, by exactly δ − α a[course]
    p = predict_calibrated(fit.model, fit.calibration, data, measured=fit.measured)
    plain = predict_calibrated(
        fit.model, fit.calibration, data, measured=dataclasses.replace(fit.measured, course=None)
    )
    shift = logit(p["mastery_probability"]) - logit(plain["mastery_probability"])
    only = data.activity == COURSE
    a_course = fit.model.evidence_log_odds("activity")[COURSE]
    np.testing.assert_allclose(shift[only], learned.log_odds - fit.calibration.slope * a_course)
    np.testing.assert_allclose(shift[~only], 0.0, atol=1e-12)
    # (whether that brings course-only cells nearer their truth depends on the level of cells
    # with no record, b_k, which grades on practised cells do not identify: only b_k + a[practice]
    # is; docs/diagnosis.md §7)
    # off by default: no weight learned
    assert _fit(data, learn=False).measured.course is None


def test_course_completions_keep_a_course_followed_by_a_practice_task():
    codes = ["A1", "A2", "B1"]
    weights = pd.DataFrame(
        {
            "item_id": ["C1", "P1", "C2"],
            "point": ["A1", "A1", "A2"],
            "weight": [1.0, 1.0, 0.0],
            "kind": ["online", "practice", "online"],
        }
    )
    events = pd.DataFrame(
        {
            "teacher_id": ["t0", "t0", "t1", "t1", "t2"],
            "item_id": ["C1", "P1", "C1", "C2", "P1"],
            "event": ["complete", "complete", "enrol", "complete", "complete"],
            "timestamp": pd.to_datetime(["2021-01-01"] * 5),
        }
    )
    activity, _, _, got = activity_records(
        events, weights, {"t0": 0, "t1": 1, "t2": 2}, codes, pd.Timestamp("2021-06-01"), None
    )
    assert activity[0, 0] == 3  # the strongest record of that cell is the practice task
    expected = np.zeros((3, 3), dtype=bool)
    expected[0, 0] = True  # course then practice: still a course
    # t1 only enrolled in C1, and C2 has no weight on A2; t2 only practised
    np.testing.assert_array_equal(got, expected)


def test_course_weight_round_trips_through_the_model_arrays(small_province, monkeypatch):
    monkeypatch.setattr(
        model_module,
        "fit_calibrated",
        functools.partial(model_module.fit_calibrated, learn_course_weight=True),
    )
    view = dataclasses.replace(small_province, responses=empty_table("responses"))
    framework = default_framework()
    bank = load_item_bank(framework=framework)
    model = DiagnosisModel(structure="factor", max_iter=5, random_state=0).fit(
        view, bank, framework, load_catalog()
    )
    # the small province may hold too few hidden practised cells of a kind: plant a weight
    if model.measured_calibration_.course is None:
        model.measured_calibration_ = dataclasses.replace(
            model.measured_calibration_, course=CourseWeight((1.7, 0.2, 321))
        )
    measured = model.measured_calibration_
    arrays = model.get_arrays()
    restored = DiagnosisModel.from_arrays(arrays, bank, framework)
    assert restored.measured_calibration_.course == measured.course
    p = model.diagnose_arrays(view)["mastery_probability"]
    np.testing.assert_array_equal(restored.diagnose_arrays(view)["mastery_probability"], p)
    # the weight is used: without it the course-only cells score differently
    restored.measured_calibration_ = dataclasses.replace(measured, course=None)
    assert not np.allclose(restored.diagnose_arrays(view)["mastery_probability"], p)
    # directories written before the weight restore to "none learned"
    old = {k: v for k, v in arrays.items() if k != "factor_heldout_course"}
    assert restore_measured(old).course is None
