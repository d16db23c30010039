"""The catalog builder and the shipped sample it generates: reproducible, sized and realistic."""

from __future__ import annotations

import re

import pytest

from competency_model.catalog import (
    BASE_PRACTICE_KINDS,
    CATALOG_PATH,
    GENERAL_SUBJECT,
    ONLINE_KINDS,
    PRACTICE_KINDS,
    REGIONAL_PRACTICE_KINDS,
    STAGES,
    default_catalog,
)
from competency_model.framework import default_framework
from training_data import catalog_builder
from training_data.catalog_builder import build_catalog, catalog_json, max_item_hours


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
    assert {item.kind for item in catalog.tasks} == set(BASE_PRACTICE_KINDS) | set(
        REGIONAL_PRACTICE_KINDS
    )


def test_every_point_has_one_item_of_each_regional_practice_kind() -> None:
    """集中培训 / 应用考核 (Chongqing) and online teaching (Jiangsu) can be recorded on any point."""
    catalog = default_catalog()
    for code in default_framework().codes:
        kinds = [item.kind for item in catalog.tasks if item.points == {code: 1.0}]
        for kind in REGIONAL_PRACTICE_KINDS:
            assert kinds.count(kind) == 1, (code, kind)
    regional = [item for item in catalog.tasks if item.kind in REGIONAL_PRACTICE_KINDS]
    assert all(item.artifacts and item.hours <= max_item_hours() for item in regional)
    # numbered after every other task, so the earlier ids never moved
    first_regional = min(int(item.item_id[4:]) for item in regional)
    assert all(
        int(item.item_id[4:]) < first_regional
        for item in catalog.tasks
        if item.kind in BASE_PRACTICE_KINDS
    )


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
        tasks = [
            item
            for item in catalog.tasks
            if item.primary_point == code and item.kind in BASE_PRACTICE_KINDS
        ]
        assert len(tasks) >= 8, code
        assert {item.kind for item in tasks} == set(BASE_PRACTICE_KINDS), code


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
