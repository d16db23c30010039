"""``nengli recommend --all-teachers`` and ``nengli diagnose --all-teachers``: Parquet outputs."""

from __future__ import annotations

import pandas as pd
from typer.testing import CliRunner

from recommender.bundle import load_recommender
from service.cli.main import app


def _common(trained) -> list[str]:
    return ["--data", str(trained.data_dir), "--model", str(trained.model_dir)]


def test_recommend_all_teachers_writes_every_teachers_list(trained_province, tmp_path):
    out = tmp_path / "recs.parquet"
    args = ["recommend", "--all-teachers", "--kind", "all", "--k", "10", *_common(trained_province)]
    result = CliRunner().invoke(app, [*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    table = pd.read_parquet(out)
    assert list(table.columns) == ["teacher_id", "item_id", "rank", "score"]
    model = load_recommender(trained_province.model_dir)
    assert set(table["teacher_id"]) == set(model.teachers_.teacher_ids.tolist())
    assert table.groupby("teacher_id")["rank"].min().eq(1).all()
    assert table.groupby("teacher_id").size().max() == 10
    assert not table.duplicated(["teacher_id", "item_id"]).any()
    one = table[table["teacher_id"] == trained_province.teacher_id]
    expected = model.recommend(trained_province.teacher_id, k=10, kind="all")
    assert one.sort_values("rank")["item_id"].tolist() == [r.item_id for r in expected]
    assert {i[:3] for i in table["item_id"]} == {"CRS", "TSK"}


def test_diagnose_all_teachers_writes_every_teacher_and_point(trained_province, tmp_path):
    out = tmp_path / "mastery.parquet"
    args = ["diagnose", "--all-teachers", *_common(trained_province), "--out", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    table = pd.read_parquet(out)
    assert list(table.columns) == [
        "teacher_id",
        "point",
        "mastery_probability",
        "sd",
        "evidence_count",
    ]
    teachers = trained_province.province.teachers["teacher_id"].astype(str)
    assert set(table["teacher_id"]) == set(teachers)
    assert len(table) == len(teachers) * 30
    assert table["mastery_probability"].between(0, 1).all() and (table["sd"] >= 0).all()
    single = CliRunner().invoke(
        app, ["diagnose", trained_province.teacher_id, *_common(trained_province), "--json"]
    )
    assert single.exit_code == 0, single.output


def test_all_teachers_without_out_is_bad_input(run_main, trained_province):
    for command in ("recommend", "diagnose"):
        result = run_main([command, "--all-teachers", *_common(trained_province)])
        assert result.exit_code == 2, result
        assert "--out" in result.stderr
