"""``nengli items check``: item bank validation and Q-matrix identifiability."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from competency_model.framework import default_framework
from competency_model.item_bank import ITEM_BANK_PATH
from service.cli.main import app


def _report(*args: str) -> dict:
    result = CliRunner().invoke(app, ["items", "check", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_shipped_bank_counts_and_is_complete() -> None:
    report = _report()
    data = json.loads(ITEM_BANK_PATH.read_text(encoding="utf-8"))["items"]
    assert report["n_items"] == len(data)
    assert sum(report["items_per_kind"].values()) == len(data)
    scenario = report["scenario"]
    assert scenario["n_items"] == report["items_per_kind"]["scenario"]
    assert set(scenario["items_per_point"]) == set(default_framework().codes)
    assert scenario["complete"] and scenario["distinguishable_classes"] == 2**30
    assert scenario["only_jointly_measured"] == {}


def _scenario(item_id: str, points: list[str]) -> dict:
    return {
        "item_id": item_id,
        "kind": "scenario",
        "stem_zh": "情境题",
        "options_zh": ["做法甲", "做法乙", "做法丙", "做法丁"],
        "correct_option": 0,
        "points": points,
    }


def _small_bank(tmp_path: Path) -> Path:
    """Three points measured: A1 and A2 only together, A3 alone; a self-rating on A4."""
    items = [
        _scenario("Q001", ["A1", "A2"]),
        _scenario("Q002", ["A1", "A2"]),
        _scenario("Q003", ["A3"]),
        {
            "item_id": "Q004",
            "kind": "self_rating",
            "stem_zh": "自评题",
            "options_zh": ["从不", "偶尔", "经常", "总是"],
            "scale_max": 4,
            "points": ["A4"],
        },
    ]
    path = tmp_path / "bank.json"
    path.write_text(json.dumps({"items": items}, ensure_ascii=False), encoding="utf-8")
    return path


def test_small_bank_counts_per_kind_and_point(tmp_path) -> None:
    report = _report(str(_small_bank(tmp_path)))
    assert report["items_per_kind"] == {"scenario": 3, "self_rating": 1}
    per_point = report["all_items"]["items_per_point"]
    assert (per_point["A1"], per_point["A2"], per_point["A3"], per_point["A4"]) == (2, 2, 1, 1)
    assert sum(per_point.values()) == 2 + 2 + 1 + 1


def test_jointly_measured_points_reduce_the_classes(tmp_path) -> None:
    scenario = _report(str(_small_bank(tmp_path)))["scenario"]
    assert not scenario["complete"]
    # {A1, A2} is seen only as "both mastered or not" (2 classes) times A3's two states;
    # the 27 points no scenario item measures add nothing.
    assert scenario["distinguishable_classes"] == 4
    assert scenario["n_profiles"] == 2**30
    assert scenario["only_jointly_measured"] == {"A1": ["A2"], "A2": ["A1"]}
    assert len(scenario["unmeasured"]) == 27 and "A4" in scenario["unmeasured"]


def test_table_names_jointly_measured_points(tmp_path) -> None:
    result = CliRunner().invoke(app, ["items", "check", str(_small_bank(tmp_path))])
    assert result.exit_code == 0, result.output
    assert "A1 only measured jointly with A2" in result.output
    assert "4 of 2^30" in result.output and "(incomplete)" in result.output


def test_invalid_item_exits_2_naming_it(tmp_path, run_main) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"items": [{"item_id": "Q001"}]}), encoding="utf-8")
    result = run_main(["items", "check", str(path)])
    assert result.exit_code == 2
    assert "Q001" in result.stderr and "kind" in result.stderr


def test_missing_file_exits_2(tmp_path, run_main) -> None:
    result = run_main(["items", "check", str(tmp_path / "absent.json")])
    assert result.exit_code == 2
    assert "absent.json" in result.stderr
