"""``nengli import`` end to end through Typer's test runner."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import pytest
from typer.testing import CliRunner

from competency_model.errors import ImportRowError
from competency_model.province import read_province
from service.cli.main import app
from training_data.imports import QUARANTINE_NAME

runner = CliRunner()
BAD_TEACHER = ["T004", "赵六", "S01", "大学", "数学", "3"]


def test_import_directory_writes_province(
    samples: SimpleNamespace, write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    write_csv("teachers.csv", samples.TEACHERS_ZH, "gbk")
    folder = write_csv("completions.csv", samples.COMPLETIONS_ZH).parent
    result = runner.invoke(app, ["import", str(folder), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "accepted 5 row(s), rejected 0 row(s)" in result.stdout
    assert "dropped (privacy) 姓名" in result.stdout
    assert len(read_province(tmp_path / "out").events) == 3


def test_reject_mode_fails_and_writes_nothing(
    samples: SimpleNamespace, write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    path = write_csv("t.csv", [*samples.TEACHERS_ZH, BAD_TEACHER])
    result = runner.invoke(app, ["import", str(path), "--out", str(tmp_path / "out")])
    assert isinstance(result.exception, ImportRowError)
    assert "nothing written" in result.exception.message
    assert "第5行" in result.output
    assert not (tmp_path / "out").exists()


def test_quarantine_mode_reports_and_writes(
    samples: SimpleNamespace, write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    path = write_csv("t.csv", [*samples.TEACHERS_ZH, BAD_TEACHER])
    out = tmp_path / "out"
    result = runner.invoke(
        app, ["import", str(path), "--out", str(out), "--on-error", "quarantine", "--format", "csv"]
    )
    assert result.exit_code == 0, result.output
    assert "teachers +3" in result.stdout
    assert (out / QUARANTINE_NAME).is_file() and (out / "teachers.csv").is_file()


@pytest.mark.parametrize("mode", ["ignore", "skip"])
def test_unknown_on_error_value_is_a_usage_error(
    samples: SimpleNamespace, write_csv: Callable[..., Path], tmp_path: Path, mode: str
) -> None:
    path = write_csv("t.csv", samples.TEACHERS_ZH)
    result = runner.invoke(app, ["import", str(path), "--out", str(tmp_path), "--on-error", mode])
    assert result.exit_code != 0


def test_custom_catalog_decides_which_course_ids_exist(
    samples: SimpleNamespace, write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    from competency_model.catalog import default_catalog

    catalog = tmp_path / "catalog.csv"
    default_catalog().to_frame().iloc[[0]].to_csv(catalog, index=False)  # only CRS-0001
    write_csv("teachers.csv", samples.TEACHERS_ZH)
    folder = write_csv("completions.csv", samples.COMPLETIONS_ZH).parent
    result = runner.invoke(
        app,
        [
            "import",
            str(folder),
            "--out",
            str(tmp_path / "out"),
            "--catalog",
            str(catalog),
            "--on-error",
            "quarantine",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "CRS-0002" in result.output and "not in the course catalog" in result.output
