"""``nengli generate`` writes a readable province in both formats and reports bad sizes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from competency_model.province import read_province
from training_data.simulator import simulate_province

runner = CliRunner()


@pytest.fixture(scope="module")
def app():
    from service.cli.main import app as nengli_app

    return nengli_app


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_generate_writes_all_tables(app, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / "province"
    result = runner.invoke(
        app,
        [
            "generate",
            "--teachers",
            "240",
            "--schools",
            "3",
            "--seed",
            "4",
            "--out",
            str(out),
            "--format",
            fmt,
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["tables"]["teachers"] == 240
    assert (out / f"events.{fmt}").is_file() and (out / f"truth_mastery.{fmt}").is_file()
    province = read_province(out)
    assert province.has_truth
    assert province.row_counts() == report["tables"]
    expected = simulate_province(240, 3, seed=4)
    assert province.teachers["teacher_id"].tolist() == expected.teachers["teacher_id"].tolist()
    assert len(province.events) == len(expected.events)


def test_generate_refuses_impossible_sizes(app, tmp_path: Path) -> None:
    from competency_model.errors import InfeasibleError

    result = runner.invoke(
        app, ["generate", "--teachers", "5000", "--schools", "2", "--out", str(tmp_path / "x")]
    )
    assert result.exit_code != 0
    assert isinstance(result.exception, InfeasibleError)
    assert "use between 17 and 250 schools" in str(result.exception)
    assert not (tmp_path / "x").exists()
