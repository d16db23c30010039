"""Cross-fitted emission tables of the factor model: they repair a miscalibrated posterior, a
cell's prior never sees its own fold, they are deterministic by seed and persist."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from scipy.special import expit

from competency_model.catalog import load_catalog
from competency_model.framework import default_framework
from competency_model.item_bank import load_item_bank
from competency_model.province import empty_table
from recommender.diagnosis.calibration import IDENTITY
from recommender.diagnosis.crossfit import (
    MeasuredCalibration,
    fit_crossfit_emissions,
    fit_emissions_given_prior,
    out_of_fold_prior,
    teacher_folds,
)
from recommender.diagnosis.evaluation import expected_calibration_error
from recommender.diagnosis.factor_fit import predict_calibrated
from recommender.diagnosis.factor_model import FactorData, FactorMastery
from recommender.diagnosis.factor_persistence import restore_measured
from recommender.diagnosis.model import DiagnosisModel

#: P(grade | not mastered), P(grade | mastered) for 不合格 / 合格 / 优秀 (planted).
EMISSION = np.array([[0.45, 0.02], [0.5, 0.33], [0.05, 0.65]])
#: A table as over-confident as the one the factor model learned on the simulated province:
#: 合格 read as strong evidence of mastery.
SHARPENED = np.array([[0.97, 0.0], [0.029, 0.36], [0.001, 0.64]])
STATED = {"grade": np.array([[0.5, 0.1], [0.35, 0.4], [0.15, 0.5]])}


def planted(
    seed: int, n: int, k: int, graded_share: float = 0.5
) -> tuple[FactorData, np.ndarray, np.ndarray]:
    """Rank-1 mastery, grades from :data:`EMISSION` on a random share; (data, η, truth)."""
    rng = np.random.default_rng(seed)
    eta = rng.standard_normal(n)[:, None] * rng.uniform(1.0, 2.0, k) + rng.uniform(0.5, 2.0, k)
    truth = rng.random((n, k)) < expit(eta)
    cumulative = np.cumsum(EMISSION[:, truth.astype(int)], axis=0)  # 3 x n x k
    grade = (rng.random((n, k))[None] > cumulative).sum(axis=0).astype(np.int8)
    grade = np.where(rng.random((n, k)) < graded_share, grade, -1).astype(np.int8)
    data = FactorData(
        {"grade": (grade, np.ones((n, k)))},
        np.zeros((n, k), dtype=np.int8),
        np.zeros((n, 0)),
        np.full(n, -1, dtype=np.int64),
    )
    return data, eta, truth.astype(float)


def test_emissions_learned_given_the_prior_repair_an_over_confident_posterior():
    data, eta, truth = planted(0, n=4000, k=6)
    grade = data.measurements["grade"][0]
    graded = grade >= 0
    ratio = np.log(SHARPENED[:, 1] + 1e-6) - np.log(SHARPENED[:, 0] + 1e-6)
    before = expit(eta + ratio[np.clip(grade, 0, None)])[graded]
    tables = fit_emissions_given_prior(eta, data, {"grade": SHARPENED}, STATED, 20.0)
    np.testing.assert_allclose(tables["grade"], EMISSION, atol=0.05)
    fixed = np.log(tables["grade"][:, 1]) - np.log(tables["grade"][:, 0])
    after = expit(eta + fixed[np.clip(grade, 0, None)])[graded]
    assert expected_calibration_error(truth[graded], before) > 0.05
    assert expected_calibration_error(truth[graded], after) <= 0.02


def _fit_fold(train: FactorData) -> FactorMastery:
    return FactorMastery(n_factors=1, max_iter=2, inner_iter=15, random_state=0).fit(
        train, STATED, 0
    )


def _with_grade(data: FactorData, teacher: int, point: int, value: int) -> FactorData:
    grade, weight = data.measurements["grade"]
    changed = grade.copy()
    changed[teacher, point] = value
    return dataclasses.replace(data, measurements={"grade": (changed, weight)})


def test_out_of_fold_prior_of_a_cell_sees_neither_its_grade_nor_its_fold():
    data, _, _ = planted(1, n=90, k=5, graded_share=0.8)
    folds = teacher_folds(90, 3, seed=2)
    eta = out_of_fold_prior(data, folds, _fit_fold)
    grade = data.measurements["grade"][0]
    t, k = np.argwhere(grade >= 0)[0]
    same_fold = next(i for i in range(90) if i != t and folds[i] == folds[t])
    other_fold = next(i for i in range(90) if folds[i] != folds[t])
    own = _with_grade(data, t, k, 2 - grade[t, k] if grade[t, k] != 1 else 0)
    assert out_of_fold_prior(own, folds, _fit_fold)[t, k] == pytest.approx(eta[t, k], abs=1e-12)
    neighbour = _with_grade(data, same_fold, 0, 0 if grade[same_fold, 0] != 0 else 2)
    assert out_of_fold_prior(neighbour, folds, _fit_fold)[t, k] == pytest.approx(
        eta[t, k], abs=1e-12
    )
    # but a grade of another fold does reach it (through the fitted global parameters), and
    # so does the teacher's grade on another point (through her factors)
    changed = np.argwhere(grade[other_fold] != 0)[0][0]
    elsewhere = _with_grade(data, other_fold, changed, 0)
    assert out_of_fold_prior(elsewhere, folds, _fit_fold)[t, k] != pytest.approx(eta[t, k])
    point = next(j for j in range(5) if j != k and grade[t, j] != 0)
    her_other = _with_grade(data, t, point, 0)
    assert out_of_fold_prior(her_other, folds, _fit_fold)[t, k] != pytest.approx(eta[t, k])


def test_teacher_folds_are_balanced_and_seeded():
    a = teacher_folds(100, 3, seed=4)
    np.testing.assert_array_equal(a, teacher_folds(100, 3, seed=4))
    assert not np.array_equal(a, teacher_folds(100, 3, seed=5))
    assert sorted(np.bincount(a)) == [33, 33, 34]


def test_crossfit_is_deterministic_by_seed():
    data, _, _ = planted(3, n=150, k=5)
    final = _fit_fold(data)
    a = fit_crossfit_emissions(data, _fit_fold, final, 0.8, n_folds=3, seed=7)
    b = fit_crossfit_emissions(data, _fit_fold, final, 0.8, n_folds=3, seed=7)
    c = fit_crossfit_emissions(data, _fit_fold, final, 0.8, n_folds=3, seed=8)
    np.testing.assert_array_equal(a.emission["grade"], b.emission["grade"])
    assert not np.array_equal(a.emission["grade"], c.emission["grade"])
    assert (a.n_folds, a.cells) == (3, int((data.measurements["grade"][0] >= 0).sum()))


def test_crossfit_tables_round_trip_through_the_model_arrays(small_province):
    view = dataclasses.replace(small_province, responses=empty_table("responses"))
    framework = default_framework()
    bank = load_item_bank(framework=framework)
    model = DiagnosisModel(structure="factor", max_iter=5, random_state=0).fit(
        view, bank, framework, load_catalog()
    )
    measured = model.measured_calibration_
    assert set(measured.emission) == {"grade"} and measured.n_folds == 3
    arrays = model.get_arrays()
    restored = DiagnosisModel.from_arrays(arrays, bank, framework)
    np.testing.assert_array_equal(
        restored.measured_calibration_.emission["grade"], measured.emission["grade"]
    )
    p = model.diagnose_arrays(view)["mastery_probability"]
    np.testing.assert_allclose(restored.diagnose_arrays(view)["mastery_probability"], p)
    # the tables are used: the model's own tables give other probabilities on graded cells
    restored.measured_calibration_ = MeasuredCalibration()
    assert not np.allclose(restored.diagnose_arrays(view)["mastery_probability"], p)
    # directories written before the cross-fit restore to "no tables"
    old = {k: v for k, v in arrays.items() if not k.startswith("factor_crossfit_")}
    assert restore_measured(old) == MeasuredCalibration()


def test_predict_without_tables_equals_the_model_own_likelihood():
    data, _, _ = planted(5, n=120, k=4)
    model = _fit_fold(data)
    plain = predict_calibrated(model, IDENTITY, data)["mastery_probability"]
    same = predict_calibrated(model, IDENTITY, data, measured=MeasuredCalibration())
    np.testing.assert_array_equal(plain, same["mastery_probability"])
