"""``nengli path`` and ``nengli school-plan`` wiring (diagnosis replaced by simulator truth so the
test checks the commands, not the diagnosis model, and stays fast)."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from competency_model.province import write_province
from service.cli import _common
from service.cli.main import app
from training_data.simulator import simulate_province


@pytest.fixture(scope="module")
def province_dir(tmp_path_factory):
    province = simulate_province(n_teachers=160, n_schools=2, seed=11)
    out = tmp_path_factory.mktemp("province")
    write_province(province, out)
    return out, province


@pytest.fixture()
def truth_diagnosis(monkeypatch, province_dir):
    _, province = province_dir

    def fake(province_arg, teacher_ids, model_dir, framework, catalog):
        wide = province.truth_mastery_initial.set_index("teacher_id").loc[teacher_ids]
        long = wide.reset_index().melt(
            id_vars="teacher_id", var_name="point", value_name="mastery_probability"
        )
        long["mastery_probability"] = 0.1 + 0.8 * long["mastery_probability"].astype(float)
        return long, "truth (test)"

    monkeypatch.setattr(_common, "diagnose_teachers", fake)


def test_path_json_has_the_contract_shape(province_dir, truth_diagnosis, tmp_path) -> None:
    out, province = province_dir
    teacher = str(province.teachers["teacher_id"].iloc[0])
    result = CliRunner().invoke(
        app,
        [
            "path",
            teacher,
            "--policy",
            "jiangsu",
            "--data",
            str(out),
            "--model",
            str(tmp_path / "none"),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    plan = json.loads(result.output)
    assert plan["teacher_id"] == teacher and plan["policy"] == "jiangsu"
    assert plan["violations"] == []
    assert plan["totals"]["hours"] >= 50 and plan["totals"]["practice_hours"] >= 25
    assert set(plan["items"][0]) == {"id", "kind", "hours", "points", "week", "reason"}


def test_unknown_teacher_is_a_clear_error(province_dir, truth_diagnosis) -> None:
    out, _ = province_dir
    result = CliRunner().invoke(app, ["path", "T9999999", "--data", str(out)])
    assert result.exit_code != 0
    assert "T9999999" in str(result.exception)


def test_school_plan_json_and_exports(province_dir, truth_diagnosis, tmp_path) -> None:
    out, province = province_dir
    school = str(province.schools["school_id"].iloc[0])
    result = CliRunner().invoke(
        app,
        [
            "school-plan",
            school,
            "--policy",
            "jiangsu",
            "--data",
            str(out),
            "--json",
            "--markdown",
            str(tmp_path / "plan.md"),
            "--xlsx",
            str(tmp_path / "plan.xlsx"),
        ],
    )
    assert result.exit_code == 0, result.output
    plan = json.loads(result.output)
    assert plan["school_id"] == school and len(plan["targets"]) >= 3
    assert (tmp_path / "plan.md").read_text(encoding="utf-8").startswith(f"# {school}")
    assert pd.read_excel(tmp_path / "plan.xlsx", sheet_name="维度覆盖").shape[0] == 4


def test_diagnosis_comes_from_the_model_directory(province_dir, tmp_path) -> None:
    from competency_model.catalog import load_catalog
    from competency_model.framework import default_framework
    from competency_model.item_bank import load_item_bank
    from recommender.bundle import ModelBundle, save_bundle
    from recommender.diagnosis.model import DiagnosisModel
    from recommender.ranking import HybridRecommender

    _, province = province_dir
    framework = default_framework()
    catalog = load_catalog(framework=framework)
    model = DiagnosisModel().fit(province, load_item_bank(framework=framework), framework, catalog)
    recommender = HybridRecommender(iterations=3, factors=8).fit(
        province, model.diagnose(province), catalog, framework
    )
    save_bundle(ModelBundle(model, recommender), tmp_path / "model")
    teacher = str(province.teachers["teacher_id"].iloc[3])
    diagnosis, source = _common.diagnose_teachers(
        province, [teacher], tmp_path / "model", framework, catalog
    )
    expected = model.diagnose(_common.province_subset(province, [teacher]))
    assert source.startswith("model")
    assert set(diagnosis["teacher_id"]) == {teacher}
    assert diagnosis["mastery_probability"].to_numpy() == pytest.approx(
        expected["mastery_probability"].to_numpy()
    )


def test_large_province_without_model_is_refused(province_dir, monkeypatch, tmp_path) -> None:
    from competency_model.errors import ModelError

    _, province = province_dir
    monkeypatch.setattr(_common, "MAX_FRESH_FIT_TEACHERS", 10)
    with pytest.raises(ModelError, match="nengli train"):
        _common.diagnose_teachers(province, ["T0000001"], tmp_path / "none", None, None)
