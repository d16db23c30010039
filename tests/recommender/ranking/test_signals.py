"""Signals: feasibility and expected mastery gain follow their definitions."""

from __future__ import annotations

import numpy as np
import pytest

from competency_model.catalog import load_catalog
from competency_model.framework import default_framework
from recommender.ranking.signals import ItemTable, PointTable, feasibility


@pytest.fixture(scope="module")
def tables():
    framework = default_framework()
    return ItemTable.from_catalog(load_catalog(), framework.codes), PointTable.from_framework(
        framework
    )


def test_points_a_school_cannot_host_are_infeasible(tables):
    _, points = tables
    mastery = np.full((1, len(points.codes)), 0.5)
    for rank in range(3):
        feasible = feasibility(mastery, np.array([rank]), points)[0]
        assert (feasible[points.environment_rank > rank] == 0).all()
        assert (feasible[points.environment_rank <= rank] > 0).all()


def test_feasibility_is_the_weakest_prerequisite(tables):
    _, points = tables
    source, target = int(points.prereq_source[0]), int(points.prereq_target[0])
    mastery = np.full((1, len(points.codes)), 0.9)
    mastery[0, source] = 0.2
    assert feasibility(mastery, np.array([2]), points)[0, target] == pytest.approx(0.2)


def test_expected_gain_matches_its_formula(tables, rng):
    items, points = tables
    mastery = rng.random((1, len(points.codes)))
    gain = ((1 - mastery) * feasibility(mastery, np.array([2]), points)) @ items.point_weights.T
    row = int(np.flatnonzero(items.point_weights[:, 0] > 0)[0])
    expected = sum(
        items.point_weights[row, c]
        * (1 - mastery[0, c])
        * feasibility(mastery, np.array([2]), points)[0, c]
        for c in np.flatnonzero(items.point_weights[row] > 0)
    )
    assert gain[0, row] == pytest.approx(expected)


@pytest.mark.parametrize(
    ("subject", "expected"), [("数学", {1.0, 0.5}), ("不存在的学科", {0.0, 0.5})]
)
def test_subject_fit_separates_own_subject_from_general(tables, subject, expected):
    items, _ = tables
    assert set(np.unique(items.subject_fit(subject)).tolist()) <= expected | {0.0}
