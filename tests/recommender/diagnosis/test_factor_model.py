"""FactorMastery: determinism, borrowing from correlated points, learned completion weight,
calibration on held-out grades, and DiagnosisModel(structure="factor") end to end."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from scipy.special import expit

from competency_model.catalog import load_catalog
from competency_model.framework import default_framework
from competency_model.item_bank import load_item_bank
from competency_model.province import empty_table
from recommender.diagnosis.calibration import IDENTITY, fit_platt, holdout_cells
from recommender.diagnosis.evaluation import expected_calibration_error
from recommender.diagnosis.factor_fit import fit_calibrated, predict_calibrated
from recommender.diagnosis.factor_model import FactorData, FactorMastery
from recommender.diagnosis.model import DiagnosisModel
from recommender.diagnosis.subset_report import SUBSETS

#: P(grade | not mastered), P(grade | mastered) for 不合格 / 合格 / 优秀.
EMISSION = np.array([[0.6, 0.05], [0.3, 0.35], [0.1, 0.6]])


def planted(
    seed: int,
    n: int = 1500,
    k: int = 12,
    activity_effect: tuple[float, float, float, float] = (0.0, 0.0, 0.8, 2.0),
    graded_share: float = 0.4,
    unobserved_point: int | None = None,
) -> tuple[FactorData, np.ndarray]:
    """Rank-1 mastery with a planted completion effect, grades on a random share of cells."""
    rng = np.random.default_rng(seed)
    ability = rng.standard_normal(n)
    loading = rng.uniform(1.0, 2.0, k)
    activity = rng.choice(4, size=(n, k), p=[0.55, 0.1, 0.2, 0.15]).astype(np.int8)
    eta = (
        ability[:, None] * loading
        + rng.uniform(-1.0, 0.5, k)
        + np.asarray(activity_effect)[activity]
    )
    truth = (rng.random((n, k)) < expit(eta)).astype(float)
    grade = np.array(
        [[rng.choice(3, p=EMISSION[:, int(m)]) for m in row] for row in truth], dtype=np.int8
    )
    graded = rng.random((n, k)) < graded_share
    if unobserved_point is not None:  # the point is graded for a fifth of teachers only
        graded[:, unobserved_point] = rng.random(n) < 0.2
    grade = np.where(graded, grade, -1).astype(np.int8)
    data = FactorData(
        {"grade": (grade, np.ones((n, k)))},
        activity,
        np.zeros((n, 0)),
        np.full(n, -1, dtype=np.int64),
    )
    return data, truth


def stated_tables() -> dict[str, np.ndarray]:
    return {"grade": np.array([[0.5, 0.1], [0.35, 0.4], [0.15, 0.5]])}


def test_fit_is_deterministic_by_seed():
    data, _ = planted(0, n=300, k=6)
    a = FactorMastery(n_factors=2, max_iter=2, random_state=5).fit(data, stated_tables(), 0)
    b = FactorMastery(n_factors=2, max_iter=2, random_state=5).fit(data, stated_tables(), 0)
    np.testing.assert_array_equal(a.loadings_, b.loadings_)
    np.testing.assert_array_equal(a.activity_, b.activity_)
    np.testing.assert_array_equal(a.prior_log_odds(data), b.prior_log_odds(data))


def test_point_without_evidence_moves_toward_correlated_points_evidence():
    data, truth = planted(1, unobserved_point=0)
    model = FactorMastery(n_factors=1, random_state=0).fit(data, stated_tables(), 0)
    grade = data.measurements["grade"][0]
    seen = grade[:, 1:] >= 0
    no_evidence = (grade[:, 0] < 0) & (seen.sum(axis=1) >= 3)
    # mean grade on the other points: a teacher graded well elsewhere
    score = np.where(seen, grade[:, 1:], 0).sum(axis=1) / np.maximum(seen.sum(axis=1), 1)
    p = 1 / (1 + np.exp(-(model.prior_log_odds(data) + model.measurement_log_odds(data))))
    strong = no_evidence & (score >= np.quantile(score[no_evidence], 0.75))
    weak = no_evidence & (score <= np.quantile(score[no_evidence], 0.25))
    assert p[strong, 0].mean() > p[weak, 0].mean() + 0.2
    # and it is right to: the truth agrees
    assert truth[strong, 0].mean() > truth[weak, 0].mean()


def test_learned_completion_weight_recovers_the_planted_weight():
    data, _ = planted(2, n=3000)
    model = FactorMastery(n_factors=1, max_iter=10, random_state=0).fit(data, stated_tables(), 0)
    # planted: course 0.8, practice 2.0 (stated prior: 0.5, 1.0)
    assert model.activity_[3] == pytest.approx(2.0, abs=0.45)
    assert model.activity_[2] == pytest.approx(0.8, abs=0.45)
    assert model.activity_[3] > 1.4  # moved well away from the stated 1.0


def test_platt_recovers_a_planted_scale_and_calibrates_held_out_cells():
    rng = np.random.default_rng(4)
    eta = rng.normal(0.0, 1.0, 40_000)
    mastered = rng.random(eta.size) < expit(2.0 * eta + 0.3)  # the model is too timid
    grade = np.array([rng.choice(3, p=EMISSION[:, int(m)]) for m in mastered])
    ratio = np.log(EMISSION[:, 1]) - np.log(EMISSION[:, 0])
    fit, held_out = slice(0, 20_000), slice(20_000, None)
    calibration = fit_platt(eta[fit], np.zeros(20_000), ratio[grade[fit]], fit_offset=True)
    assert calibration.slope == pytest.approx(2.0, abs=0.25)
    assert calibration.offset == pytest.approx(0.3, abs=0.2)
    truth = mastered[held_out].astype(float)
    before = expected_calibration_error(truth, expit(eta[held_out]))
    after = expected_calibration_error(truth, expit(calibration.apply(eta[held_out])))
    assert before > 0.05
    assert after <= 0.05


def test_calibrated_fit_hides_a_seeded_share_of_grades():
    observed = np.random.default_rng(0).random((200, 10)) < 0.5
    a = holdout_cells(observed, 0.2, seed=3)
    assert (a <= observed).all()
    assert a.sum() == round(0.2 * observed.sum())
    np.testing.assert_array_equal(a, holdout_cells(observed, 0.2, seed=3))
    data, truth = planted(5, n=2000, k=8)
    fit = fit_calibrated(data, stated_tables(), 0, n_factors=1)
    assert fit.calibrated and 0.05 <= fit.calibration.slope <= 5.0
    assert fit.measured.cells > 0 and set(fit.measured.emission) == {"grade"}
    p = predict_calibrated(fit.model, fit.calibration, data, measured=fit.measured)[
        "mastery_probability"
    ]
    assert expected_calibration_error(truth.ravel(), p.ravel()) <= 0.05


@pytest.mark.parametrize("subset", ["questionnaire", "grades", "records", "grades_records"])
def test_factor_structure_from_each_input_subset_round_trips(small_province, subset):
    kept = SUBSETS[subset]
    view = dataclasses.replace(
        small_province,
        **{t: empty_table(t) for t in ("responses", "grades", "events") if t not in kept},
    )
    framework = default_framework()
    bank = load_item_bank(framework=framework)
    model = DiagnosisModel(structure="factor", max_iter=5).fit(
        view, bank, framework, load_catalog()
    )
    result = model.diagnose_arrays(view)
    p = result["mastery_probability"]
    assert p.shape == (len(view.teachers), 30)
    assert np.all((p > 0) & (p < 1)) and np.isfinite(result["prior_probability"]).all()
    restored = DiagnosisModel.from_arrays(model.get_arrays(), bank, framework)
    np.testing.assert_allclose(restored.diagnose_arrays(view)["mastery_probability"], p)
    if subset == "grades":  # one teacher through diagnose_teacher = the same teacher in batch
        teacher = view.teachers.iloc[0]
        school = view.schools.set_index("school_id").loc[teacher["school_id"]]
        own = view.grades[view.grades["teacher_id"] == teacher["teacher_id"]]
        single = restored.diagnose_teacher(
            {},
            own[["point", "grade", "assessed_at"]].to_dict("records"),
            teacher_id=str(teacher["teacher_id"]),
            school_environment=str(school["environment"]),
            stage=str(teacher["stage"]),
            subject=str(teacher["subject"]),
            years_of_service=float(teacher["years_of_service"]),
            school_id=str(teacher["school_id"]),
            as_of=restored._moment(view),
        )
        np.testing.assert_allclose(single["mastery_probability"].to_numpy(), p[0], atol=1e-6)


def test_environment_gap_counts_levels_above_the_school():
    import pandas as pd

    from recommender.diagnosis.teacher_features import environment_gap, point_environment_ranks

    ranks = point_environment_ranks(default_framework(), ["A1", "B1", "C1"])
    np.testing.assert_array_equal(ranks, [0, 1, 2])
    attributes = pd.DataFrame({"environment": ["multimedia", "混合学习环境", "C", None, "火星"]})
    np.testing.assert_array_equal(
        environment_gap(attributes, ranks),
        [[0, 1, 2], [0, 0, 1], [0, 0, 0], [0, 0, 0], [0, 0, 0]],
    )


def test_environment_gap_shift_is_learned_where_measured_and_stated_where_not():
    """Grades never fall on a point beyond the school's environment: the shift stays stated;
    a measurement there (a questionnaire would give one) moves it toward the planted value."""
    from recommender.diagnosis.factor_model import STATED_GAP_LOG_ODDS

    data, _ = planted(3, n=600, k=6)
    rng = np.random.default_rng(3)
    gap = np.zeros(data.shape, dtype=np.int8)
    gap[rng.random(data.shape[0]) < 0.4, 4:] = 1
    grade = np.where(gap > 0, -1, data.measurements["grade"][0]).astype(np.int8)
    unmeasured = dataclasses.replace(
        data, measurements={"grade": (grade, np.ones(data.shape))}, environment_gap=gap
    )
    model = FactorMastery(n_factors=1, max_iter=3, random_state=0).fit(
        unmeasured, stated_tables(), 0
    )
    np.testing.assert_allclose(model.gap_effect_, STATED_GAP_LOG_ODDS, atol=1e-6)
    assert (
        (model.prior_log_odds(unmeasured)[gap > 0]).mean()
        < (model.prior_log_odds(unmeasured)[:, 4:][gap[:, 4:] == 0]).mean()
    )
    # plant "beyond the environment = no mastery": graded 不合格 there, and the shift must fall
    failing = np.where(gap > 0, 0, grade).astype(np.int8)
    measured = dataclasses.replace(
        unmeasured, measurements={"grade": (failing, np.ones(data.shape))}
    )
    learned = FactorMastery(n_factors=1, max_iter=3, random_state=0).fit(
        measured, stated_tables(), 0
    )
    assert learned.gap_effect_[1] < STATED_GAP_LOG_ODDS[1] - 0.5


@pytest.mark.parametrize(
    ("subset", "fitted"),
    [("questionnaire", "fusion"), ("grades_records", "factor"), ("records", "factor")],
)
def test_auto_structure_learns_from_the_data_when_there_is_no_questionnaire(
    small_province, subset, fitted
) -> None:
    """Stumble (issue 14): without a questionnaire the default diagnosis was near guessing on
    points without a grade; the default now fits the factor model in that case."""
    kept = SUBSETS[subset]
    view = dataclasses.replace(
        small_province,
        **{t: empty_table(t) for t in ("responses", "grades", "events") if t not in kept},
    )
    framework = default_framework()
    bank = load_item_bank(framework=framework)
    model = DiagnosisModel(max_iter=5).fit(view, bank, framework, load_catalog())
    assert model.structure == "auto" and model.structure_ == fitted
    restored = DiagnosisModel.from_arrays(model.get_arrays(), bank, framework)
    assert restored.structure_ == fitted
    np.testing.assert_allclose(
        restored.diagnose_arrays(view)["mastery_probability"],
        model.diagnose_arrays(view)["mastery_probability"],
    )


def test_leave_one_out_eta_of_a_measured_cell_ignores_its_own_measurement():
    data, _ = planted(11, n=200, k=6)
    model = FactorMastery(n_factors=2, max_iter=2, random_state=0).fit(data, stated_tables(), 0)
    loo = model.prior_log_odds_loo(data, chunk=7)  # several chunks
    plain = model.prior_log_odds(data)
    grade = data.measurements["grade"][0]
    np.testing.assert_allclose(loo[grade < 0], plain[grade < 0])
    t, k = np.argwhere(grade >= 0)[3]
    hidden = grade.copy()
    hidden[t, k] = -1
    without = dataclasses.replace(data, measurements={"grade": (hidden, np.ones(grade.shape))})
    assert loo[t, k] == pytest.approx(model.prior_log_odds(without)[t, k], abs=1e-9)
    assert loo[t, k] != pytest.approx(plain[t, k], abs=1e-6)


def test_leave_one_out_posterior_of_graded_cells_is_calibrated_where_the_naive_one_is_not():
    # planted global parameters (the generator's own loadings and offsets), four points per
    # teacher: MAP factors fitted to a cell's own grade count that grade twice, so the naive
    # posterior of graded cells is over-confident; leaving the cell out counts it once
    n, k, seed = 3000, 4, 12
    data, truth = planted(seed, n=n, k=k, graded_share=0.9, activity_effect=(0.0,) * 4)
    rng = np.random.default_rng(seed)  # replay planted()'s draws up to the offsets
    rng.standard_normal(n)
    loading = rng.uniform(1.0, 2.0, k)
    rng.choice(4, size=(n, k), p=[0.55, 0.1, 0.2, 0.15])
    offset = rng.uniform(-1.0, 0.5, k)
    model = FactorMastery(n_factors=1, max_iter=1, inner_iter=1, random_state=0)
    model.fit(data, {"grade": EMISSION}, 0)
    model.loadings_, model.intercept_ = loading[:, None], offset
    model.activity_, model.emission_ = np.zeros(4), {"grade": EMISSION}
    graded = data.measurements["grade"][0] >= 0
    y = truth[graded]
    naive = predict_calibrated(model, IDENTITY, data, leave_one_out=False)
    loo = predict_calibrated(model, IDENTITY, data)
    e_naive = expected_calibration_error(y, naive["mastery_probability"][graded])
    e_loo = expected_calibration_error(y, loo["mastery_probability"][graded])
    assert e_loo <= 0.02 < 0.03 <= e_naive


def test_tied_course_weight_follows_the_learned_practice_weight():
    # grades fall on course and practice cells alike here; with the tie only a[practice] is
    # free, a[course] = 0.5 · a[practice], and the planted pair (1.0, 2.0) is recovered
    data, _ = planted(4, activity_effect=(0.0, 0.0, 1.0, 2.0))
    model = FactorMastery(n_factors=1, course_ratio=0.5, random_state=0)
    learned = model.fit(data, stated_tables(), 0).evidence_log_odds("activity")
    assert learned[2] == pytest.approx(0.5 * learned[3])
    assert abs(learned[3] - 2.0) < 0.45
