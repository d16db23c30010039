"""``nengli diagnose``: a teacher's 30-point diagnosis read from the trained model directory."""

from __future__ import annotations

import json
import shutil

import pytest
from typer.testing import CliRunner

from competency_model.framework import default_framework
from service.cli.main import app


def _args(trained, teacher_id: str, *extra: str) -> list[str]:
    return [
        "diagnose",
        teacher_id,
        "--data",
        str(trained.data_dir),
        "--model",
        str(trained.model_dir),
        *extra,
    ]


def test_json_has_one_row_per_point_with_valid_estimates(trained_province) -> None:
    result = CliRunner().invoke(app, _args(trained_province, trained_province.teacher_id, "--json"))
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    framework = default_framework()
    rows = payload["points"]
    assert payload["teacher_id"] == trained_province.teacher_id
    assert [row["code"] for row in rows] == framework.codes
    assert len(rows) == 30
    for row in rows:
        assert 0.0 <= row["mastery_probability"] <= 1.0
        assert row["sd"] >= 0.0
        assert row["evidence_count"] >= 0
        assert isinstance(row["insufficient_evidence"], bool)
        assert row["environment"] == framework.point(row["code"]).environment
        assert row["dimension"] == framework.point(row["code"]).dimension


def test_json_matches_the_model_diagnosis(trained_province) -> None:
    from competency_model.item_bank import load_item_bank
    from recommender.artifacts import load_model_dir
    from recommender.diagnosis.model import DiagnosisModel
    from service.cli._common import province_subset

    framework = default_framework()
    arrays, _ = load_model_dir(trained_province.model_dir)
    model = DiagnosisModel.from_arrays(
        arrays["diagnosis.npz"], load_item_bank(framework=framework), framework
    )
    teacher = trained_province.teacher_id
    expected = model.diagnose(province_subset(trained_province.province, [teacher]))
    result = CliRunner().invoke(app, _args(trained_province, teacher, "--json"))
    rows = json.loads(result.output)["points"]
    got = {row["code"]: row["mastery_probability"] for row in rows}
    for point, probability in zip(expected["point"], expected["mastery_probability"], strict=True):
        assert got[point] == pytest.approx(float(probability))


def test_unverified_names_carry_the_marker(trained_province) -> None:
    result = CliRunner().invoke(app, _args(trained_province, trained_province.teacher_id, "--json"))
    framework = default_framework()
    for row in json.loads(result.output)["points"]:
        point = framework.point(row["code"])
        assert row["name"].startswith(point.name_zh)
        assert ("未核实" in row["name"]) == (point.verification.status == "unverified")


def test_table_lists_every_point(trained_province) -> None:
    result = CliRunner().invoke(app, _args(trained_province, trained_province.teacher_id))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    codes = default_framework().codes
    table_codes = [line.split()[0] for line in lines if line.split() and line.split()[0] in codes]
    assert table_codes == codes
    assert "30 points" in result.output


def test_unknown_teacher_exits_2_with_message(trained_province, run_main) -> None:
    result = run_main(_args(trained_province, "T9999999"))
    assert result.exit_code == 2
    assert "T9999999" in result.stderr and "teachers table" in result.stderr


def test_missing_model_directory_exits_2_naming_train(trained_province, run_main, tmp_path) -> None:
    args = _args(trained_province, trained_province.teacher_id)
    args[args.index("--model") + 1] = str(tmp_path / "absent")
    result = run_main(args)
    assert result.exit_code == 2
    assert "nengli train" in result.stderr


def test_tampered_model_file_exits_2(trained_province, run_main, tmp_path) -> None:
    copy = tmp_path / "model"
    shutil.copytree(trained_province.model_dir, copy)
    target = copy / "diagnosis.npz"
    target.write_bytes(target.read_bytes()[:-1] + bytes([target.read_bytes()[-1] ^ 0xFF]))
    args = _args(trained_province, trained_province.teacher_id)
    args[args.index("--model") + 1] = str(copy)
    result = run_main(args)
    assert result.exit_code == 2
    assert "diagnosis.npz" in result.stderr
