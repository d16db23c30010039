"""DiagnosisModel on a simulated province: beats baselines, output contract, persistence."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from competency_model.errors import ModelError, NengliError
from competency_model.framework import default_framework
from competency_model.item_bank import load_item_bank
from recommender.artifacts import load_model_dir, save_model_dir
from recommender.diagnosis.adaptive import simulate_adaptive
from recommender.diagnosis.evaluation import mastery_metrics, sum_score_mastery
from recommender.diagnosis.model import OUTPUT_COLUMNS, DiagnosisModel
from recommender.diagnosis.simulation_report import truth_matrix


@pytest.fixture(scope="module")
def truth(small_province):
    return truth_matrix(small_province, "truth_mastery_initial", default_framework().codes)


def test_beats_sum_score_and_uniform_prior_on_auc(fitted_diagnosis, small_province, truth):
    model = fitted_diagnosis
    auc = mastery_metrics(truth, model.questionnaire_proba(small_province))["auc"]
    codes = model.encode(small_province.responses, small_province.teachers["teacher_id"])
    sum_score = sum_score_mastery(codes, model.q_matrix_, model.n_categories_)
    uniform = DiagnosisModel(prior="uniform", max_iter=60).fit(
        small_province, load_item_bank(), default_framework()
    )
    assert auc > mastery_metrics(truth, sum_score)["auc"]
    assert auc > mastery_metrics(truth, uniform.questionnaire_proba(small_province))["auc"]


def test_diagnose_output_contract(fitted_diagnosis, small_province):
    frame = fitted_diagnosis.diagnose(small_province)
    assert tuple(frame.columns) == OUTPUT_COLUMNS
    assert len(frame) == len(small_province.teachers) * 30
    assert frame["mastery_probability"].between(0, 1).all()
    assert (frame["sd"] <= 0.5).all()
    assert frame["insufficient_evidence"].dtype == bool


def test_diagnose_teacher_uses_grades(fitted_diagnosis):
    answers = {"Q001": 1.0}
    plain = fitted_diagnosis.diagnose_teacher(answers, teacher_id="T1").set_index("point")
    graded = fitted_diagnosis.diagnose_teacher(
        answers, grades=[{"point": "B2", "grade": "优秀"}], teacher_id="T1"
    ).set_index("point")
    failed = fitted_diagnosis.diagnose_teacher(
        answers, grades=[{"point": "B2", "grade": "不合格"}], teacher_id="T1"
    ).set_index("point")
    p = plain.loc["B2", "mastery_probability"]
    assert failed.loc["B2", "mastery_probability"] < p < graded.loc["B2", "mastery_probability"]
    assert plain.loc["B2", "insufficient_evidence"]
    assert graded.loc["B2", "evidence_count"] == 1


def test_completed_task_raises_its_points(fitted_diagnosis):
    weights = fitted_diagnosis.point_weights_
    task = weights[weights["kind"] == "practice"].iloc[0]
    before = fitted_diagnosis.diagnose_teacher({}).set_index("point")
    after = fitted_diagnosis.diagnose_teacher({}, completed=[task["item_id"]]).set_index("point")
    point = task["point"]
    assert after.loc[point, "mastery_probability"] > before.loc[point, "mastery_probability"]


def test_arrays_round_trip_through_model_dir(fitted_diagnosis, small_province, tmp_path):
    arrays = fitted_diagnosis.get_arrays()
    save_model_dir(tmp_path / "m", {"diagnosis.npz": arrays}, {"kind": "diagnosis"})
    loaded, _ = load_model_dir(tmp_path / "m")
    restored = DiagnosisModel.from_arrays(
        loaded["diagnosis.npz"], load_item_bank(), default_framework()
    )
    subset = small_province.teachers.iloc[:20]
    province = type(small_province)(**{**small_province.tables(), "teachers": subset})
    pd.testing.assert_frame_equal(
        restored.diagnose(province, as_of=pd.Timestamp("2026-01-01")),
        fitted_diagnosis.diagnose(province, as_of=pd.Timestamp("2026-01-01")),
    )


def test_from_arrays_rejects_other_bank(fitted_diagnosis):
    bank = load_item_bank()
    smaller = type(bank)(bank.items[:-1])
    with pytest.raises(ModelError, match="different item bank"):
        DiagnosisModel.from_arrays(fitted_diagnosis.get_arrays(), smaller, default_framework())


def test_unknown_item_names_row(fitted_diagnosis):
    responses = pd.DataFrame({"teacher_id": ["T1"], "item_id": ["Q999"], "response": [1.0]})
    with pytest.raises(NengliError, match="Q999"):
        fitted_diagnosis.encode(responses, ["T1"])


@pytest.mark.parametrize(("item", "value"), [("Q001", 2.0), ("Q001", 0.5)])
def test_invalid_answer_names_value(fitted_diagnosis, item, value):
    responses = pd.DataFrame({"teacher_id": ["T1"], "item_id": [item], "response": [value]})
    with pytest.raises(NengliError, match=f"answered {value!r} to {item}"):
        fitted_diagnosis.encode(responses, ["T1"])


def test_next_item_is_new(fitted_diagnosis):
    item = fitted_diagnosis.next_item({"Q001": 1.0})
    assert item is not None and item != "Q001"


def test_unseen_peer_group_gets_province_prior(fitted_diagnosis):
    frame = fitted_diagnosis.diagnose_teacher({}, school_environment="nowhere")
    assert np.isfinite(frame["mastery_probability"]).all()


def test_adaptive_30_of_90_items_close_to_full_questionnaire(
    fitted_diagnosis, small_province, truth
):
    """Stated target on the shipped bank: within 0.03 accuracy of the full questionnaire."""
    model = fitted_diagnosis
    codes = model.encode(small_province.responses, small_province.teachers["teacher_id"])
    groups = model.peer_groups(small_province)
    full = mastery_metrics(truth, model.questionnaire_proba(small_province))
    mastery, asked = simulate_adaptive(
        model.estimator_, codes, max_items=30, sd_threshold=0.0, groups=groups
    )
    assert asked.max() <= 30 < codes.shape[1] // 2
    assert mastery_metrics(truth, mastery)["accuracy"] >= full["accuracy"] - 0.03
