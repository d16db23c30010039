"""``nengli assessment export-results`` round-trips through ``nengli import`` (Jiangsu §三(八))."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from competency_model.assessment.results_export import RESULTS_FORMAT, RESULTS_VERSION
from competency_model.province import empty_table, read_province, write_province
from service.cli.main import app

runner = CliRunner()


@pytest.fixture(scope="module")
def province_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("prov") / "province"
    result = runner.invoke(
        app, ["generate", "--teachers", "120", "--schools", "3", "--seed", "4", "--out", str(out)]
    )
    assert result.exit_code == 0, result.stdout
    return out


def test_export_then_import_gives_back_the_same_results(province_dir: Path, tmp_path: Path):
    original = read_province(province_dir)
    assert len(original.grades) > 0
    csv = tmp_path / "results.csv"
    result = runner.invoke(
        app, ["assessment", "export-results", "--data", str(province_dir), "--out", str(csv)]
    )
    assert result.exit_code == 0, result.stdout
    manifest = json.loads(Path(f"{csv}.manifest.json").read_text("utf-8"))
    assert (manifest["format"], manifest["version"]) == (RESULTS_FORMAT, RESULTS_VERSION)
    assert csv.read_text("utf-8").splitlines()[0] == "teacher_id,school_id,point,grade,assessed_at"
    target = tmp_path / "without_grades"
    write_province(dataclasses.replace(original, grades=empty_table("grades")), target)
    imported = runner.invoke(app, ["import", str(csv), "--out", str(target)])
    assert imported.exit_code == 0, imported.stdout
    back = read_province(target).grades
    latest = original.grades.sort_values("assessed_at").drop_duplicates(
        ["teacher_id", "point"], keep="last"
    )
    merged = latest.merge(back, on=["teacher_id", "point"], suffixes=("", "_back"))
    assert len(back) == len(latest) == len(merged) == manifest["rows"]
    assert (merged["grade"] == merged["grade_back"]).all()
    assert (merged["assessed_at"].dt.floor("s") == merged["assessed_at_back"]).all()


def test_export_of_one_school_keeps_only_its_teachers(province_dir: Path, tmp_path: Path):
    school = str(read_province(province_dir).schools["school_id"].iloc[0])
    csv = tmp_path / "one.csv"
    result = runner.invoke(
        app,
        [
            "assessment",
            "export-results",
            "--data",
            str(province_dir),
            "--out",
            str(csv),
            "--school",
            school,
        ],
    )
    assert result.exit_code == 0, result.stdout
    rows = csv.read_text("utf-8").splitlines()[1:]
    assert rows and all(row.split(",")[1] == school for row in rows)
