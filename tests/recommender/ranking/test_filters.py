"""Hard filters, one rule per test, on the real framework and catalog."""

from __future__ import annotations

import numpy as np
import pytest

from competency_model.catalog import load_catalog
from competency_model.errors import NotFoundError
from competency_model.framework import default_framework
from competency_model.policy import load_policy
from recommender.ranking.filters import (
    PolicyRules,
    apply_filters,
    completed_mask,
    environment_mask,
    exclude_mask,
    kind_mask,
    only_points_mask,
    unmastered_mask,
)
from recommender.ranking.signals import ItemTable, PointTable


@pytest.fixture(scope="module")
def tables():
    framework = default_framework()
    points = PointTable.from_framework(framework)
    return ItemTable.from_catalog(load_catalog(), framework.codes), points


@pytest.mark.parametrize(("kind", "prefix"), [("course", "CRS-"), ("task", "TSK-")])
def test_kind_keeps_only_that_kind(tables, kind, prefix):
    items, _ = tables
    kept = items.item_ids[kind_mask(items, kind, PolicyRules.default())]
    assert kept.size and all(i.startswith(prefix) for i in kept)


def test_completed_items_are_removed(tables):
    items, _ = tables
    mask = completed_mask(len(items.item_ids), [0, 5])
    assert not mask[0] and not mask[5] and mask.sum() == len(items.item_ids) - 2


@pytest.mark.parametrize("school_rank", [0, 1, 2])
def test_items_needing_a_richer_environment_are_removed(tables, school_rank):
    items, points = tables
    mask = environment_mask(items, points, school_rank, PolicyRules.default())
    assert (items.environment_rank[mask] <= school_rank).all()
    assert mask[items.environment_rank <= school_rank].any()


def test_policy_gating_closes_points(tables):
    items, points = tables
    rules = PolicyRules.from_policy(load_policy("jiangsu"))
    closed = rules.gating.copy()
    closed[2, 2] = False  # a policy variant that keeps smart-environment points closed
    strict = PolicyRules(rules.name, rules.online_kinds, rules.practice_kinds, closed)
    mask = environment_mask(items, points, 2, strict)
    develops_c = (items.point_weights[:, points.environment_rank == 2] > 0).any(axis=1)
    assert not (mask & develops_c).any() and mask.any()


def test_items_covering_only_mastered_points_are_removed(tables):
    items, points = tables
    mastery = np.full(len(points.codes), 0.95)
    mastery[points.index(["A1"])] = 0.2
    mask = unmastered_mask(items, mastery, threshold=0.8)
    assert mask.any()
    assert (items.point_weights[mask][:, points.index(["A1"])[0]] > 0).all()


def test_active_points_stay_open_despite_mastery(tables):
    items, points = tables
    mastery = np.full(len(points.codes), 0.99)
    active = np.zeros(len(points.codes), dtype=bool)
    active[points.index(["B2"])] = True
    assert not unmastered_mask(items, mastery, 0.9).any()
    mask = unmastered_mask(items, mastery, 0.9, active)
    assert mask.any() and (items.point_weights[mask][:, points.index(["B2"])[0]] > 0).all()


def test_exclude_and_only_points(tables):
    items, points = tables
    assert not exclude_mask(items, ["CRS-0001"])[0]
    mask = only_points_mask(items, points, ["B3"])
    assert (items.point_weights[mask][:, points.index(["B3"])[0]] > 0).all()
    with pytest.raises(NotFoundError, match="Z9"):
        only_points_mask(items, points, ["Z9"])


def test_apply_filters_reports_what_each_rule_removed(tables):
    items, points = tables
    allowed, removed = apply_filters(
        items,
        points,
        PolicyRules.default(),
        "course",
        0,
        np.zeros(len(points.codes)),
        completed_columns=[0],
        exclude=["CRS-0002"],
    )
    assert not allowed[0] and not allowed[1]
    assert removed["completed"] == 1 and removed["exclude"] == 1 and removed["environment"] > 0
