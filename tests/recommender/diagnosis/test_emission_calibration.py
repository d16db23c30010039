"""Held-out emission tables of the factor model: they repair a miscalibrated posterior, a hidden
grade is a target but never part of its own prior, deterministic by seed, persisted."""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy.special import expit

from competency_model.catalog import load_catalog
from competency_model.framework import default_framework
from competency_model.item_bank import load_item_bank
from competency_model.province import empty_table
from recommender.diagnosis import factor_fit
from recommender.diagnosis.calibration import IDENTITY
from recommender.diagnosis.emission_calibration import (
    MeasuredCalibration,
    fit_emissions_given_prior,
)
from recommender.diagnosis.evaluation import expected_calibration_error
from recommender.diagnosis.factor_fit import CalibratedFactorFit, fit_calibrated, predict_calibrated
from recommender.diagnosis.factor_model import FactorData
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


def _with_grade(data: FactorData, teacher: int, point: int, value: int) -> FactorData:
    grade, weight = data.measurements["grade"]
    changed = grade.copy()
    changed[teacher, point] = value
    return dataclasses.replace(data, measurements={"grade": (changed, weight)})


def _fit(data: FactorData, **options: object) -> CalibratedFactorFit:
    return fit_calibrated(data, STATED, 0, n_factors=1, **options)  # type: ignore[arg-type]


def test_a_hidden_grade_is_only_a_target_never_part_of_its_own_prior(monkeypatch):
    # slope and tables are learned on pairs (prior, grade) of the hidden cells, the prior from
    # a first fit without them: changing one hidden grade leaves every prior unchanged and
    # moves only the targets
    data, _, _ = planted(1, n=800, k=5, graded_share=0.8)
    priors: list[np.ndarray] = []
    targets: list[np.ndarray] = []
    real_platt, real_em = factor_fit.fit_platt, factor_fit.fit_emissions_given_prior

    def spy_platt(eta, other, grade_llr, *args, **kwargs):
        priors.append(np.concatenate([eta, other]))
        return real_platt(eta, other, grade_llr, *args, **kwargs)

    def spy_em(prior, hidden_grades, *args):
        targets.append(hidden_grades.measurements["grade"][0].copy())
        return real_em(prior, hidden_grades, *args)

    monkeypatch.setattr(factor_fit, "fit_platt", spy_platt)
    monkeypatch.setattr(factor_fit, "fit_emissions_given_prior", spy_em)
    first = _fit(data)
    grade = data.measurements["grade"][0]
    hidden = targets[0] >= 0
    t, k = np.argwhere(hidden)[0]
    second = _fit(_with_grade(data, t, k, 0 if grade[t, k] != 0 else 2))
    np.testing.assert_array_equal(priors[0], priors[1])  # the priors: identical
    assert targets[1][t, k] != targets[0][t, k]  # the target did change
    assert not np.array_equal(first.measured.emission["grade"], second.measured.emission["grade"])
    # and a grade that was not hidden does reach the priors (the check can fail)
    t2, k2 = np.argwhere(~hidden & (grade >= 0))[0]
    _fit(_with_grade(data, t2, k2, 0 if grade[t2, k2] != 0 else 2))
    assert not np.array_equal(priors[2], priors[0])


def test_held_out_tables_are_deterministic_by_seed():
    data, _, _ = planted(3, n=800, k=5)
    a = _fit(data, random_state=7)
    b = _fit(data, random_state=7)
    c = _fit(data, random_state=8)
    np.testing.assert_array_equal(a.measured.emission["grade"], b.measured.emission["grade"])
    assert not np.array_equal(a.measured.emission["grade"], c.measured.emission["grade"])
    assert a.measured.cells == round(0.2 * (data.measurements["grade"][0] >= 0).sum())
    assert _fit(data, held_out_emissions=False).measured == MeasuredCalibration()


def test_held_out_tables_round_trip_through_the_model_arrays(small_province):
    view = dataclasses.replace(small_province, responses=empty_table("responses"))
    framework = default_framework()
    bank = load_item_bank(framework=framework)
    model = DiagnosisModel(structure="factor", max_iter=5, random_state=0).fit(
        view, bank, framework, load_catalog()
    )
    measured = model.measured_calibration_
    assert set(measured.emission) == {"grade"} and measured.cells > 0
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
    old = {k: v for k, v in arrays.items() if not k.startswith("factor_heldout_")}
    assert restore_measured(old) == MeasuredCalibration()


def test_predict_without_tables_equals_the_model_own_likelihood():
    data, _, _ = planted(5, n=120, k=4)
    model = _fit(data).model
    plain = predict_calibrated(model, IDENTITY, data)["mastery_probability"]
    same = predict_calibrated(model, IDENTITY, data, measured=MeasuredCalibration())
    np.testing.assert_array_equal(plain, same["mastery_probability"])
