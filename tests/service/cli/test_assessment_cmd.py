"""``nengli assessment export`` through Typer's test runner, on the session's database."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from service.cli.main import app
from service.settings import Settings, get_settings
from tests.service.conftest import World

runner = CliRunner()


@pytest.fixture
def env_database(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("NENGLI_DATABASE_URL", settings.database_url)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_export_writes_one_workbook_for_the_school(
    env_database: None, world: World, tmp_path: Path
) -> None:
    out = tmp_path / "school.xlsx"
    result = runner.invoke(
        app, ["assessment", "export", "--school", world.school, "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    book = load_workbook(io.BytesIO(out.read_bytes()))
    teachers = [row[0].value for row in book[book.sheetnames[0]].iter_rows(min_row=2)]
    assert world.teacher in teachers and world.sibling_teacher not in teachers


def test_export_json(env_database: None, world: World, tmp_path: Path) -> None:
    out = tmp_path / "school.json"
    result = runner.invoke(
        app,
        ["assessment", "export", "--school", world.school, "--out", str(out), "--format", "json"],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text(encoding="utf-8"))["school_id"] == world.school


def test_unknown_school_is_an_error(env_database: None, world: World, tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["assessment", "export", "--school", "S-NOPE", "--out", str(tmp_path / "x.xlsx")]
    )
    assert result.exit_code != 0
