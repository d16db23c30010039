"""``nengli policy …`` through Typer's test runner."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from competency_model.plan import PlanItem, compute_totals, required_evidence
from service.cli.main import app

runner = CliRunner()


def test_policy_show_prints_provenance() -> None:
    result = runner.invoke(app, ["policy", "show", "jiangsu"])
    assert result.exit_code == 0
    assert "official" in result.stdout and "default" in result.stdout


def test_policy_show_json() -> None:
    result = runner.invoke(app, ["policy", "show", "chongqing", "--json"])
    data = json.loads(result.stdout)
    assert (
        data["min_practice_share"] == 0.5
        and data["provenance"]["cycle_years"]["status"] == "official"
    )


def test_policy_check_selection_exit_codes() -> None:
    ok = runner.invoke(
        app, ["policy", "check-selection", "jiangsu", "--points", "A1,A3,A6", "--environment", "A"]
    )
    assert ok.exit_code == 0
    bad = runner.invoke(
        app,
        [
            "policy",
            "check-selection",
            "jiangsu",
            "--points",
            "A1,B6",
            "--environment",
            "A",
            "--json",
        ],
    )
    assert bad.exit_code == 1
    assert {v["rule"] for v in json.loads(bad.stdout)} == {
        "min_points",
        "min_dimensions",
        "environment_gating",
    }


def test_policy_list_names_shipped_policies() -> None:
    result = runner.invoke(app, ["policy", "list"])
    assert result.exit_code == 0
    assert {"national", "jiangsu", "chongqing"} <= {
        line.split()[0] for line in result.stdout.splitlines()
    }


def test_policy_check_plan_reports_violations(tmp_path: Path) -> None:
    items = [
        PlanItem(id=f"CRS-{i:04d}", kind="online_video", hours=5, points=["A1"], week=i + 1)
        for i in range(4)
    ]
    totals = compute_totals(items, ["online_video", "live"], ["practice", "school_research"])
    plan = {
        "teacher_id": "T0000001",
        "policy": "chongqing",
        "targets": ["A1"],
        "items": [i.model_dump() for i in items],
        "totals": totals.model_dump(),
        "evidence": required_evidence(["A1"]),
        "violations": [],
    }
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan, ensure_ascii=False), encoding="utf-8")
    result = runner.invoke(app, ["policy", "check-plan", str(path), "--json"])
    assert result.exit_code == 1
    found = {v["rule"] for v in json.loads(result.stdout)}
    assert {"total_hours", "min_practice_share", "min_points", "min_dimensions"} <= found
