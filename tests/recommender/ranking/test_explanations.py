"""Explanations: gap points with probabilities, prerequisites, colleagues, in both languages."""

from __future__ import annotations

import numpy as np
import pytest

from competency_model.catalog import load_catalog
from competency_model.framework import default_framework
from recommender.ranking.explanations import ExplanationContext, explain_item
from recommender.ranking.signals import ItemTable, PointTable


@pytest.fixture(scope="module")
def tables():
    framework = default_framework()
    return ItemTable.from_catalog(load_catalog(), framework.codes), PointTable.from_framework(
        framework
    )


def context(points, items, **overrides):
    base = {
        "mastery": np.full(len(points.codes), 0.3),
        "mastered_threshold": 0.9,
        "stage": "小学",
        "subject": "数学",
        "research_group": "小学数学组",
        "group_completed": np.zeros(len(items.item_ids), np.float32),
        "school_took": np.zeros(len(items.item_ids), np.float32),
        "item_took": np.full(len(items.item_ids), 40, np.float32),
    }
    base.update(overrides)
    return ExplanationContext(**base)


def test_gap_point_and_probability_are_named(tables):
    items, points = tables
    row = int(np.flatnonzero(items.point_weights[:, points.index(["A1"])[0]] > 0)[0])
    zh, en = explain_item(row, items, points, context(points, items))
    assert any("A1" in r and "0.30" in r for r in zh)
    assert any("A1" in r and "0.30" in r for r in en)


def test_colleague_count_in_research_group(tables):
    items, points = tables
    completed = np.zeros(len(items.item_ids), np.float32)
    completed[3] = 12
    zh, en = explain_item(3, items, points, context(points, items, group_completed=completed))
    assert "您所在的小学数学组有 12 位同事已完成" in zh
    assert "12 colleagues in your 教研组 (小学数学组) completed it" in en


def test_prerequisites_are_reported(tables):
    items, points = tables
    target = int(points.prereq_target[0])
    source = int(points.prereq_source[0])
    mastery = np.full(len(points.codes), 0.95)
    mastery[target] = 0.1
    row = int(np.flatnonzero(items.point_weights[:, target] > 0)[0])
    zh, en = explain_item(row, items, points, context(points, items, mastery=mastery))
    assert any(str(points.codes[source]) in r and "前置" in r for r in zh)
    assert any(str(points.codes[source]) in r and "Prerequisite" in r for r in en)


def test_unprofiled_teacher_still_gets_aligned_reasons(tables):
    items, points = tables
    zh, en = explain_item(0, items, points, context(points, items, mastery=None, stage=None))
    assert zh and len(zh) == len(en)
    assert any("40" in r for r in en)


@pytest.mark.parametrize(
    ("probability", "label_zh", "weak"),
    [(0.88, None, False), (0.6, "待提升", False), (0.3, "薄弱", True)],
)
def test_point_labels_follow_the_mastery_level_rule(tables, probability, label_zh, weak):
    """Issue 14: a point at 0.88 was called 薄弱; labels come from mastery_level (gap < 0.5)."""
    items, points = tables
    column = points.index(["A1"])[0]
    mastery = np.full(len(points.codes), 0.95)
    mastery[column] = probability
    row = int(np.flatnonzero(items.point_weights[:, column] > 0)[0])
    zh, en = explain_item(row, items, points, context(points, items, mastery=mastery))
    named = [r for r in zh if "A1" in r and "能力点" in r and "前置" not in r]
    assert any("薄弱" in r for r in named) == weak
    if label_zh is None:
        assert not named
    else:
        assert any(label_zh in r and f"{probability:.2f}" in r for r in named)
