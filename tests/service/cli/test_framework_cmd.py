"""``nengli framework …`` through Typer's test runner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from service.cli.main import app
from service.settings import get_settings

runner = CliRunner()


@pytest.fixture(autouse=True)
def _fresh_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NENGLI_FRAMEWORK_FILE", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_show_json_lists_30_points_with_status() -> None:
    result = runner.invoke(app, ["framework", "show", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    points = data["points"]
    assert len(points) == 30
    envs = [p["environment"] for p in points]
    assert (envs.count("multimedia"), envs.count("blended"), envs.count("smart")) == (13, 10, 7)
    assert {p["dimension"] for p in points} == {
        "learner_analysis",
        "instructional_design",
        "learning_guidance",
        "assessment",
    }
    assert all(p["verification"] in {"verified", "weakly_verified", "unverified"} for p in points)


def test_show_table_marks_unverified_names() -> None:
    result = runner.invoke(app, ["framework", "show"])
    assert result.exit_code == 0
    a2 = next(line for line in result.stdout.splitlines() if line.startswith("A2 "))
    assert "未核实/unverified" in a2
    a1 = next(line for line in result.stdout.splitlines() if line.startswith("A1 "))
    assert "已核实/verified" in a1


def test_show_uses_framework_file_from_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    overlay = tmp_path / "overlay.json"
    overlay.write_text(json.dumps({"kind": "overlay", "name": "d", "retire_points": ["A13"]}))
    monkeypatch.setenv("NENGLI_FRAMEWORK_FILE", str(overlay))
    get_settings.cache_clear()
    result = runner.invoke(app, ["framework", "show", "--json"])
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.stdout)["points"]) == 29


def test_validate_accepts_the_shipped_file() -> None:
    path = Path(__file__).parents[3] / "competency_model" / "data" / "national_framework.json"
    result = runner.invoke(app, ["framework", "validate", str(path)])
    assert result.exit_code == 0 and result.stdout.startswith("OK national")


def test_validate_rejects_a_bad_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"kind": "overlay", "name": "d", "retire_points": ["Z1"]}))
    result = runner.invoke(app, ["framework", "validate", str(bad)])
    assert result.exit_code != 0
    assert "Z1" in str(result.exception)


@pytest.mark.parametrize(("fmt", "marker"), [("dot", "digraph"), ("json", '"nodes"')])
def test_graph_export(fmt: str, marker: str) -> None:
    result = runner.invoke(app, ["framework", "graph", "--format", fmt])
    assert result.exit_code == 0 and marker in result.stdout
