"""Ranking metrics: hand-computed values and invariants."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recommender.evaluation.metrics import (
    catalog_coverage,
    gap_hit_at_k,
    map_at_k,
    mean_average_precision,
    ndcg_at_k,
    precision_at_k,
    recall_at_k,
)

RANKED = [["a", "b", "c", "d"]]
RELEVANT = [{"b", "d", "z"}]


def test_values_match_hand_computation():
    assert precision_at_k(RANKED, RELEVANT, 4) == pytest.approx(2 / 4)
    assert recall_at_k(RANKED, RELEVANT, 4) == pytest.approx(2 / 3)
    dcg = 1 / math.log2(3) + 1 / math.log2(5)
    ideal = 1 + 1 / math.log2(3) + 1 / math.log2(4)
    assert ndcg_at_k(RANKED, RELEVANT, 4) == pytest.approx(dcg / ideal)
    assert mean_average_precision(RANKED, RELEVANT, 4) == pytest.approx((1 / 2 + 2 / 4) / 3)
    assert map_at_k(RANKED, RELEVANT, 2) == pytest.approx((1 / 2) / 2)


def test_users_without_relevant_items_are_skipped():
    assert recall_at_k([["a"], ["b"]], [{"a"}, set()], 1) == 1.0


def test_mismatched_lengths_raise():
    with pytest.raises(ValueError, match="one ranked list"):
        ndcg_at_k([["a"]], [{"a"}, {"b"}], 1)


def test_coverage_and_gap_hit():
    assert catalog_coverage([["a", "b"], ["b", "c"]], 10, k=2) == pytest.approx(0.3)
    assert gap_hit_at_k([["a", "b"]], [{"a"}], k=2) == pytest.approx(0.5)


@settings(max_examples=60, deadline=None)
@given(
    ranked=st.lists(
        st.lists(st.integers(0, 20), min_size=1, max_size=12, unique=True), min_size=1, max_size=5
    ),
    data=st.data(),
)
def test_metrics_lie_in_unit_interval_and_perfect_list_scores_one(ranked, data):
    relevant = [set(data.draw(st.lists(st.integers(0, 20), max_size=6))) for _ in ranked]
    for metric in (precision_at_k, recall_at_k, ndcg_at_k, map_at_k, mean_average_precision):
        assert 0.0 <= metric(ranked, relevant, 10) <= 1.0
    perfect = [sorted(r) for r in relevant if r]
    if perfect:
        assert ndcg_at_k(perfect, [set(p) for p in perfect], 10) == pytest.approx(1.0)
