"""The simple baselines on tiny hand-computed cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from recommender.evaluation.baselines import (
    SimpleBaselines,
    gap_coverage,
    group_popularity,
    popularity_plus_gap,
    recency_popularity,
)


def test_group_popularity_counts_completions_of_the_row_group():
    # teachers 0, 1 in group 0; teacher 2 in group 1; items a, b, c
    completed = sp.csr_matrix(np.array([[1, 0, 1], [1, 1, 0], [0, 0, 1]], dtype=float))
    scores = group_popularity(completed, np.array([0, 0, 1]), np.array([1, 2, 0]))
    np.testing.assert_array_equal(scores, [[2, 1, 1], [0, 0, 1], [2, 1, 1]])


def test_group_popularity_counts_a_teacher_once_per_item():
    completed = sp.csr_matrix(np.array([[3.0, 0.0]]))  # duplicates summed into 3
    np.testing.assert_array_equal(
        group_popularity(completed, np.array([0]), np.array([0])), [[1, 0]]
    )


def test_recency_popularity_halves_per_half_life_and_ignores_the_future():
    item = np.array([0, 0, 1, 1])
    day = np.array([0.0, 10.0, 10.0, 40.0])
    now = np.array([10.0, 20.0, 40.0])
    scores = recency_popularity(item, day, now, n_items=2, half_life_days=10.0)
    # now 10: only day 0 counts (day 10 is not before now) → item 0: 0.5
    # now 20: item 0: 0.25 + 0.5; item 1: 0.5
    # now 40: item 0: 2^-4 + 2^-3; item 1: 2^-3 (day 40 not before now)
    expected = [[0.5, 0.0], [0.75, 0.5], [0.0625 + 0.125, 0.125]]
    np.testing.assert_allclose(scores, expected)


def test_recency_popularity_refuses_a_non_positive_half_life():
    with pytest.raises(ValueError, match="half_life_days"):
        recency_popularity(np.array([0]), np.array([0.0]), np.array([1.0]), 1, half_life_days=0)


def test_gap_coverage_is_the_weight_share_on_gaps():
    mastery = np.array([[1.0, 0.0], [0.5, 0.5]])
    weights = np.array([[1.0, 0.0], [0.0, 2.0], [1.0, 3.0]])
    np.testing.assert_allclose(gap_coverage(mastery, weights), [[0.0, 1.0, 0.75], [0.5, 0.5, 0.5]])


def test_popularity_plus_gap_scales_popularity_per_row():
    popularity = np.array([[4.0, 2.0, 0.0], [0.0, 0.0, 0.0]])
    gap = np.array([[0.0, 1.0, 1.0], [0.2, 0.0, 1.0]])
    np.testing.assert_allclose(
        popularity_plus_gap(popularity, gap, weight=0.5), [[1.0, 1.0, 0.5], [0.1, 0.0, 0.5]]
    )


@pytest.fixture()
def tiny():
    teachers = pd.DataFrame(
        {
            "teacher_id": ["T1", "T2", "T3", "T4"],
            "school_id": ["S1", "S1", "S1", "S2"],
            "research_group": ["数学组", "数学组", "语文组", "数学组"],
        }
    )
    rows = [
        ("T1", "a", "complete", "2021-01-01"),
        ("T2", "a", "complete", "2021-01-11"),
        ("T2", "b", "enrol", "2021-01-12"),  # not a completion: never counts
        ("T3", "b", "complete", "2021-01-21"),
        ("T4", "c", "complete", "2021-01-01"),
        ("T4", "zzz", "complete", "2021-01-01"),  # not in the catalog: ignored
    ]
    events = pd.DataFrame(rows, columns=["teacher_id", "item_id", "event", "timestamp"])
    events["timestamp"] = pd.to_datetime(events["timestamp"])
    return SimpleBaselines(events, teachers, ["a", "b", "c"], half_life_days=10.0)


def test_simple_baselines_by_hand(tiny):
    now = np.array(["2021-01-21", "2021-01-21"], dtype="datetime64[s]")
    mastery = np.array([[0.0, 1.0], [1.0, 1.0]])
    weights = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    scores = tiny.scores(["T1", "T4"], now, mastery, weights)
    assert set(scores) == set(SimpleBaselines.NAMES)
    np.testing.assert_array_equal(scores["school_popularity"], [[2, 1, 0], [0, 0, 1]])
    np.testing.assert_array_equal(scores["group_popularity"], [[2, 0, 0], [0, 0, 1]])
    # a: completed 20 and 10 days before now → 0.25 + 0.5; c: 20 days before → 0.25
    np.testing.assert_allclose(scores["recency_popularity"][0], [0.75, 0.0, 0.25])
    # T1: popularity / 2 + 0.5 · gap, gap = (1, 0, 0.5)
    np.testing.assert_allclose(scores["school_popularity_gap"][0], [1.5, 0.5, 0.25])
    np.testing.assert_allclose(scores["school_popularity_gap"][1], [0.0, 0.0, 1.0])


def test_simple_baselines_refuse_unknown_teachers(tiny):
    with pytest.raises(ValueError, match="T9"):
        tiny.scores(
            ["T9"], np.array(["2021-01-01"], dtype="datetime64[s]"), np.zeros((1, 2)), np.eye(3, 2)
        )
