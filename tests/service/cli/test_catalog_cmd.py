"""``nengli catalog check --policy P``: every stage × environment, exit 1 when one cannot be planned."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from competency_model.catalog import PRACTICE_KINDS, load_catalog
from service.cli.main import app

runner = CliRunner()


def test_shipped_catalog_is_possible_for_every_cell() -> None:
    result = runner.invoke(app, ["catalog", "check", "--policy", "chongqing", "--json"])
    assert result.exit_code == 0, result.stdout
    body = json.loads(result.stdout)
    assert len(body["cells"]) == 15 and all(c["possible"] for c in body["cells"])
    assert {c["stage"] for c in body["cells"]} == {"幼儿园", "小学", "初中", "高中", "中职"}


def test_missing_kindergarten_practice_exits_1_and_says_what_is_missing(tmp_path: Path) -> None:
    items = []
    for item in load_catalog().items:
        row = item.model_dump(mode="json")
        if item.kind in PRACTICE_KINDS:
            row["stages"] = [s for s in row["stages"] if s != "幼儿园"]
            if not row["stages"]:
                continue
        items.append(row)
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps({"name": "thin", "items": items}, ensure_ascii=False), "utf-8")
    result = runner.invoke(app, ["catalog", "check", "--policy", "jiangsu", "--catalog", str(path)])
    assert result.exit_code == 1
    kindergarten = [line for line in result.stdout.splitlines() if line.startswith("幼儿园")]
    assert len(kindergarten) == 3 and all(" 否 " in line for line in kindergarten)
    assert "[min_points]" in result.stdout and "实践任务" in result.stdout
