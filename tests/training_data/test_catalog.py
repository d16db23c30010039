"""Catalog: the shipped sample's size and realism, and validation errors naming the row."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from competency_model.errors import CatalogError, NotFoundError
from competency_model.framework import default_framework
from training_data import catalog_builder
from training_data.catalog import (
    CATALOG_PATH,
    GENERAL_SUBJECT,
    ONLINE_KINDS,
    PRACTICE_KINDS,
    STAGES,
    Catalog,
    CatalogItem,
    default_catalog,
    load_catalog,
)
from training_data.catalog_builder import build_catalog, catalog_json, max_item_hours

_VALID: dict[str, Any] = {
    "item_id": "CRS-0001",
    "title_zh": "初中数学：用在线问卷开展课前学情诊断",
    "points": {"A1": 0.7, "A12": 0.3},
    "hours": 2.0,
    "kind": "online_video",
    "stages": ["初中"],
    "subjects": ["数学"],
    "environment": "multimedia",
    "level": "入门",
    "artifacts": [],
}


def _write(tmp_path: Path, rows: list[dict[str, Any]]) -> Path:
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps({"name": "t", "items": rows}, ensure_ascii=False), encoding="utf-8")
    return path


def test_shipped_catalog_is_reproducible_from_the_builder() -> None:
    assert CATALOG_PATH.read_text(encoding="utf-8") == catalog_json()


def test_builder_is_deterministic_and_seed_dependent() -> None:
    assert build_catalog(7) == build_catalog(7)
    assert build_catalog(7) != build_catalog(8)


def test_shipped_catalog_meets_the_size_targets() -> None:
    catalog = default_catalog()
    assert len(catalog.courses) >= 300
    assert len(catalog.tasks) >= 90
    assert {item.kind for item in catalog.courses} == set(ONLINE_KINDS)
    assert {item.kind for item in catalog.tasks} == set(PRACTICE_KINDS)


def test_every_point_has_three_practice_tasks_and_courses() -> None:
    catalog = default_catalog()
    for code in default_framework().codes:
        assert sum(item.primary_point == code for item in catalog.tasks) >= 3, code
        assert sum(item.primary_point == code for item in catalog.courses) >= 5, code


def test_hours_are_realistic() -> None:
    catalog = default_catalog()
    assert all(1 <= item.hours <= 4 for item in catalog.courses)
    assert all(2 <= item.hours <= 6 for item in catalog.tasks)


def test_no_item_is_longer_than_a_policy_week() -> None:
    # a plan puts one item in one week, so a longer item could never be scheduled
    assert max_item_hours() == 6
    assert max(item.hours for item in default_catalog()) <= max_item_hours()


def test_builder_refuses_items_longer_than_a_policy_week(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(catalog_builder, "max_item_hours", lambda: 3.0)
    with pytest.raises(ValueError, match="max_weekly_hours"):
        build_catalog()


def _general_hours(stage: str, code: str, kinds: tuple[str, ...]) -> float:
    """学科通用 hours a teacher of ``stage`` can spend mainly on ``code``."""
    return sum(
        item.hours
        for item in default_catalog()
        if item.kind in kinds
        and item.points.get(code, 0.0) >= 0.5
        and item.fits(stage, GENERAL_SUBJECT, "smart")
    )


@pytest.mark.parametrize("stage", STAGES)
def test_three_points_fill_a_plan_for_any_stage_and_subject(stage: str) -> None:
    # Jiangsu needs >=25 practice and >=25 video 学时; real schools choose about 3 points, so
    # each point must offer >=9 h of both to any teacher (学科通用 items fit every subject)
    for code in default_framework().codes:
        assert _general_hours(stage, code, PRACTICE_KINDS) >= 9, (stage, code)
        assert _general_hours(stage, code, ("online_video",)) >= 9, (stage, code)


def test_every_point_has_enough_tasks_of_both_practice_kinds() -> None:
    catalog = default_catalog()
    for code in default_framework().codes:
        tasks = [item for item in catalog.tasks if item.primary_point == code]
        assert len(tasks) >= 8, code
        assert {item.kind for item in tasks} == set(PRACTICE_KINDS), code


@pytest.mark.parametrize(
    ("item_id", "title"),
    [
        ("CRS-0001", "用在线问卷开展课前学情诊断（学科通用）"),
        ("CRS-0330", "名师直播｜C7基于数据的教学改进：典型案例点评与答疑"),
        ("TSK-0001", "【实践】设计并实施一次课前在线问卷学情诊断（学科通用）"),
        ("TSK-0120", "【校本研修】小学音乐组：「C7基于数据的教学改进」实践成果互评与改进"),
        (
            "TSK-0121",
            "【实践】「A1技术支持的学情分析」课堂实践：完成一节课的设计、实施与反思（学科通用）",
        ),
    ],
)
def test_topic_items_keep_their_ids_and_generic_items_follow(item_id: str, title: str) -> None:
    # events and plans stored before the generic items were added still name the same items
    assert default_catalog().get(item_id).title_zh == title


def test_titles_are_unique_chinese_and_not_placeholders() -> None:
    titles = [item.title_zh for item in default_catalog()]
    assert len(set(titles)) == len(titles)
    assert all(re.search(r"[\u4e00-\u9fff]{4}", t) for t in titles)
    assert not any(re.search(r"(?i)course\s*\d|课程\s*\d+$", t) for t in titles)


def test_task_artifacts_come_from_its_points() -> None:
    framework = default_framework()
    for item in default_catalog().tasks:
        allowed = {a.name_zh for code in item.points for a in framework.point(code).artifacts}
        assert item.artifacts and set(item.artifacts) <= allowed, item.item_id


def test_environment_is_at_least_what_the_points_need() -> None:
    framework = default_framework()
    order = ("multimedia", "blended", "smart")
    for item in default_catalog():
        need = max(order.index(framework.point(c).environment) for c in item.points)
        assert order.index(item.environment) >= need


def test_specific_courses_name_their_stage_and_subject() -> None:
    for item in default_catalog().courses:
        if item.subjects != ["通用"] and len(item.stages) == 1:
            assert item.title_zh.startswith(item.stages[0] + item.subjects[0]), item.title_zh


def test_point_weight_matrix_rows_sum_to_one() -> None:
    catalog = default_catalog()
    matrix = catalog.point_weight_matrix(default_framework().codes)
    assert matrix.shape == (len(catalog), 30)
    np.testing.assert_allclose(matrix.sum(axis=1), 1.0)


def test_to_frame_has_one_row_per_item() -> None:
    frame = default_catalog().to_frame()
    assert len(frame) == len(default_catalog()) and frame["item_id"].is_unique
    assert set(frame["stages"].str.split(";").explode()) <= set(STAGES)


def test_get_unknown_id_raises_not_found() -> None:
    with pytest.raises(NotFoundError, match="CRS-9999"):
        default_catalog().get("CRS-9999")


def test_fits_respects_stage_subject_and_environment() -> None:
    item = CatalogItem(**{**_VALID, "points": {"C4": 1.0}, "environment": "smart"})
    assert item.fits("初中", "数学", "smart")
    assert not item.fits("初中", "数学", "blended")
    assert not item.fits("小学", "数学", "smart")
    assert not item.fits("初中", "语文", "smart")


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"points": {"Z9": 1.0}}, "points", "unknown point code 'Z9'"),
        ({"points": {"A1": 0.5, "A2": 0.3}}, "points", "sum to 0.8"),
        ({"points": {"A1": 1.2, "A2": -0.2}}, "points", "must be > 0"),
        ({"points": {}}, "points", "at least one point"),
        ({"hours": -1}, "hours", "positive"),
        ({"hours": 0}, "hours", "positive"),
        ({"kind": "webinar"}, "kind", "online_video"),
        ({"stages": ["大学"]}, "stages", "大学"),
        ({"stages": []}, "stages", "at least one"),
        ({"level": "专家"}, "level", "入门"),
        ({"environment": "vr_lab"}, "environment", "multimedia"),
        ({"points": {"C4": 1.0}}, "environment", "poorer than point C4"),
        ({"item_id": "TSK-0001"}, "item_id", "must start with CRS-"),
        ({"kind": "practice", "item_id": "TSK-0001"}, "artifacts", "evidence artifacts"),
        ({"title_zh": "  "}, "title_zh", "empty"),
    ],
)
def test_invalid_row_names_row_item_and_field(
    tmp_path: Path, change: dict[str, Any], field: str, message: str
) -> None:
    good = {**_VALID, "item_id": "CRS-0002", "title_zh": "另一门课"}
    path = _write(tmp_path, [good, {**_VALID, **change}])
    with pytest.raises(CatalogError, match=re.escape(message)) as info:
        load_catalog(path)
    assert info.value.details["row"] == 2
    assert info.value.details["field"] == field
    assert str({**_VALID, **change}["item_id"]) in info.value.message


def test_richer_environment_than_needed_is_fine(tmp_path: Path) -> None:
    catalog = load_catalog(_write(tmp_path, [{**_VALID, "environment": "smart"}]))
    assert catalog.get("CRS-0001").environment == "smart"


def test_duplicate_ids_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="duplicate"):
        load_catalog(_write(tmp_path, [_VALID, {**_VALID, "title_zh": "别的课"}]))


def test_csv_catalog_round_trips_the_shipped_items(tmp_path: Path) -> None:
    path = tmp_path / "catalog.csv"
    default_catalog().to_frame().to_csv(path, index=False, encoding="utf-8-sig")
    loaded = load_catalog(path)
    assert [i.model_dump() for i in loaded] == [i.model_dump() for i in default_catalog()]


def test_csv_catalog_error_names_the_spreadsheet_row(tmp_path: Path) -> None:
    path = tmp_path / "catalog.csv"
    frame = default_catalog().to_frame().head(3)
    frame.loc[2, "hours"] = -2
    frame.to_csv(path, index=False)
    with pytest.raises(CatalogError, match="row 4") as info:
        load_catalog(path)
    assert info.value.details["field"] == "hours"


def test_catalog_constructor_accepts_hand_built_items() -> None:
    catalog = Catalog([CatalogItem(**_VALID)])
    assert catalog.ids == ["CRS-0001"] and "CRS-0001" in catalog and len(catalog.courses) == 1
