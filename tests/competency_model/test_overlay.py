"""Overlays: renaming, adding and retiring points and edges on top of a base framework."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from competency_model.errors import FrameworkError
from competency_model.framework import default_framework
from competency_model.framework_files import active_framework, load_framework
from competency_model.graph import CompetencyGraph
from competency_model.overlay import apply_overlay

NEW_POINT = {
    "code": "A14",
    "name_zh": "人工智能辅助备课",
    "name_en": "AI-assisted lesson preparation",
    "environment": "multimedia",
    "dimension": "instructional_design",
    "verification": {"status": "verified", "sources": ["某区2021年通知"]},
}


def _overlay(**ops: Any) -> dict[str, Any]:
    return {"kind": "overlay", "name": "district", **ops}


def test_rename_changes_the_name_and_keeps_the_code() -> None:
    fw = apply_overlay(
        default_framework(),
        _overlay(rename_points=[{"code": "A4", "name_zh": "数字资源管理与共享"}]),
    )
    assert fw.point("A4").name_zh == "数字资源管理与共享"
    assert fw.codes == default_framework().codes
    assert fw.overlays == ["district"]


def test_rename_without_source_is_marked_unverified() -> None:
    fw = apply_overlay(
        default_framework(), _overlay(rename_points=[{"code": "A1", "name_zh": "学情分析"}])
    )
    assert fw.point("A1").verification.status == "unverified"


def test_rename_with_source_keeps_the_given_status() -> None:
    verification = {"status": "verified", "sources": ["区文件"]}
    fw = apply_overlay(
        default_framework(),
        _overlay(
            rename_points=[{"code": "A2", "name_zh": "资源获取", "verification": verification}]
        ),
    )
    assert fw.point("A2").verification.status == "verified"


def test_add_point_and_edge() -> None:
    fw = apply_overlay(
        default_framework(),
        _overlay(
            add_points=[NEW_POINT],
            add_edges=[{"source": "A3", "target": "A14", "kind": "prerequisite", "weight": 0.6}],
        ),
    )
    assert len(fw.points) == 31 and fw.codes[-1] == "A14"
    assert "A3" in CompetencyGraph(fw).prerequisites("A14")
    assert fw.point("A14").rating_rule == default_framework().rating_rule


def test_retire_point_drops_its_edges() -> None:
    fw = apply_overlay(default_framework(), _overlay(retire_points=["B1"]))
    assert "B1" not in fw.codes and len(fw.points) == 29
    assert not [e for e in fw.edges if "B1" in (e.source, e.target)]
    assert fw.retired == ["B1"]


def test_retire_edge_removes_only_that_edge() -> None:
    base = default_framework()
    fw = apply_overlay(base, _overlay(retire_edges=[{"source": "A2", "target": "A3"}]))
    assert len(fw.edges) == len(base.edges) - 1
    assert "A2" not in CompetencyGraph(fw).prerequisites("A3")


@pytest.mark.parametrize(
    ("ops", "message"),
    [
        ({"rename_points": [{"code": "Z1", "name_zh": "x"}]}, "unknown or retired point 'Z1'"),
        ({"add_points": [{**NEW_POINT, "code": "A1"}]}, "'A1', which already exists"),
        ({"add_points": [{**NEW_POINT, "environment": "vr"}]}, r"add_points #0 \(A14\)"),
        ({"retire_points": ["Z1"]}, "unknown point 'Z1'"),
        ({"retire_edges": [{"source": "A1", "target": "C7"}]}, "A1->C7"),
        (
            {"add_edges": [{"source": "A3", "target": "A2", "kind": "prerequisite", "weight": 1}]},
            "cycle",
        ),
        ({"retire_points": ["A1"], "rename_points": [{"code": "A1"}]}, "retired point 'A1'"),
        ({"rename_points": "A1"}, "overlay field 'rename_points'"),
    ],
)
def test_bad_overlay_operation_names_the_entry(ops: dict[str, Any], message: str) -> None:
    with pytest.raises(FrameworkError, match=message):
        apply_overlay(default_framework(), _overlay(**ops))


def test_overlay_file_is_loaded_through_load_framework(tmp_path: Path) -> None:
    path = tmp_path / "overlay.json"
    path.write_text(
        json.dumps(_overlay(retire_points=["A13"]), ensure_ascii=False), encoding="utf-8"
    )
    fw = load_framework(path)
    assert len(fw.points) == 29 and fw.name == "national+district"


def test_overlay_on_a_relative_base_file(tmp_path: Path) -> None:
    (tmp_path / "first.json").write_text(
        json.dumps(_overlay(retire_points=["A13"])), encoding="utf-8"
    )
    second = {"kind": "overlay", "name": "school", "base": "first.json", "retire_points": ["C7"]}
    (tmp_path / "second.json").write_text(json.dumps(second), encoding="utf-8")
    fw = load_framework(tmp_path / "second.json")
    assert len(fw.points) == 28 and fw.overlays == ["district", "school"]


def test_active_framework_uses_the_given_file(tmp_path: Path) -> None:
    path = tmp_path / "overlay.json"
    path.write_text(json.dumps(_overlay(retire_points=["A13"])), encoding="utf-8")
    assert len(active_framework(path).points) == 29
    assert active_framework(None) is default_framework()


def test_overlay_base_loop_is_rejected(tmp_path: Path) -> None:
    for name, base in (("a.json", "b.json"), ("b.json", "a.json")):
        doc = {"kind": "overlay", "name": name, "base": base}
        (tmp_path / name).write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(FrameworkError, match="loops back"):
        load_framework(tmp_path / "a.json")


def test_unknown_file_kind_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text(json.dumps({"kind": "patch", "points": []}), encoding="utf-8")
    with pytest.raises(FrameworkError, match="kind 'patch'"):
        load_framework(path)


def _doc_json_blocks() -> list[dict[str, Any]]:
    text = (Path(__file__).parents[2] / "docs" / "policies.md").read_text(encoding="utf-8")
    blocks = text.split("```json\n")[1:]
    return [json.loads(block.split("```")[0]) for block in blocks]


def test_documented_overlay_example_is_valid(tmp_path: Path) -> None:
    overlay = _doc_json_blocks()[0]
    path = tmp_path / "yubei.json"
    path.write_text(json.dumps(overlay, ensure_ascii=False), encoding="utf-8")
    fw = load_framework(path)
    assert fw.point("A4").verification.status == "verified"
    assert "A13" not in fw.codes and "A14" in fw.codes
    assert CompetencyGraph(fw).prerequisites("A14") == ["A2"]


@settings(max_examples=60, deadline=None, derandomize=True)
@given(retired=st.lists(st.sampled_from(default_framework().codes), unique=True, max_size=29))
def test_retiring_any_points_leaves_a_valid_framework(retired: list[str]) -> None:
    fw = apply_overlay(default_framework(), _overlay(retire_points=retired))
    assert set(fw.codes) == set(default_framework().codes) - set(retired)
    assert all(e.source in fw.codes and e.target in fw.codes for e in fw.edges)
    graph = CompetencyGraph(fw)
    assert len(graph.topological_order(fw.codes)) == len(fw.codes)
