"""``nengli batch``: a two-province country through the local engine, and refused options."""

from __future__ import annotations

import json

import pandas as pd
from typer.testing import CliRunner

from competency_model.province import write_province
from recommender.batch.synthetic import simulate_country
from service.cli.main import app


def test_local_batch_writes_lists_and_diagnoses_per_province(tmp_path) -> None:
    write_province(simulate_country(("甲省", "乙省"), 60, 1, seed=1), tmp_path / "data")
    out = tmp_path / "batch"
    result = CliRunner().invoke(
        app,
        ["batch", "--data", str(tmp_path / "data"), "--out", str(out), "--top-n", "3"],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert {p["key"] for p in summary["partitions"]} == {"甲省", "乙省"}
    for partition in summary["partitions"]:
        lists = pd.read_parquet(out / "partitions" / partition["key"] / "lists.parquet")
        assert set(lists["model_version"]) == {partition["model_version"]}
        assert lists["teacher_id"].nunique() == 60
        # course, task and all: three lists of three per teacher
        assert lists.groupby(["teacher_id", "kind"]).size().eq(3).all()
        assert len(lists) == 60 * 3 * 3
        # Every row carries its reasons in both languages, as batch-load stores them.
        assert all(
            len(zh) > 0 and len(en) > 0
            for zh, en in zip(lists["reasons_zh"], lists["reasons_en"], strict=True)
        )
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    assert manifest["engine"] == "local"


def test_unknown_engine_and_address_without_ray_exit_2(tmp_path) -> None:
    base = ["batch", "--data", str(tmp_path), "--out", str(tmp_path / "o")]
    assert CliRunner().invoke(app, [*base, "--engine", "spark"]).exit_code == 2
    assert CliRunner().invoke(app, [*base, "--address", "ray://x:10001"]).exit_code == 2
