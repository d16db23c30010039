"""Adaptive questionnaire: informative choices, stopping, accuracy with fewer items."""

from __future__ import annotations

import numpy as np
import pytest

from recommender.diagnosis.adaptive import (
    AdaptiveQuestionnaire,
    expected_information_gain,
    simulate_adaptive,
)
from recommender.diagnosis.evaluation import mastery_metrics
from recommender.diagnosis.higher_order import HigherOrderDINA, encode_responses


@pytest.fixture(scope="module")
def adaptive_setup(ho_data):
    d = ho_data
    model = HigherOrderDINA(random_state=0, max_iter=80, rating_centring=False).fit(
        d["x"], d["q"], n_categories=d["cats"]
    )
    return model, encode_responses(d["x"], d["cats"]), d


def test_gain_is_non_negative(adaptive_setup, rng):
    model, _, _ = adaptive_setup
    mastery = rng.random((50, model.q_matrix_.shape[1]))
    assert (expected_information_gain(model, mastery) >= -1e-12).all()


def test_gain_is_zero_for_known_points(adaptive_setup):
    model, _, _ = adaptive_setup
    known = np.full((1, model.q_matrix_.shape[1]), 1 - 1e-12)
    assert np.allclose(expected_information_gain(model, known), 0.0, atol=1e-6)


def test_next_item_is_unanswered_and_stops_at_max(adaptive_setup):
    model, codes, _ = adaptive_setup
    session = AdaptiveQuestionnaire(model, sd_threshold=0.0, max_items=3)
    answers = np.full(codes.shape[1], -1, dtype=np.int8)
    for _ in range(3):
        item = session.next_item(answers)
        assert item is not None and answers[item] == -1
        answers[item] = codes[0, item]
    assert session.next_item(answers) is None


def test_stops_when_certain(adaptive_setup):
    model, codes, _ = adaptive_setup
    session = AdaptiveQuestionnaire(model, sd_threshold=0.5, max_items=30)
    assert session.next_item(np.full(codes.shape[1], -1, dtype=np.int8)) is None


def test_reaches_accuracy_with_far_fewer_items(adaptive_setup):
    """Stated target: within 0.03 of the full bank's accuracy with at most half its items."""
    model, codes, d = adaptive_setup
    rows = slice(0, 600)
    full = mastery_metrics(d["alpha"][rows], model.predict_proba_codes(codes[rows]))
    half = codes.shape[1] // 2
    mastery, asked = simulate_adaptive(model, codes[rows], max_items=half, sd_threshold=0.0)
    adaptive = mastery_metrics(d["alpha"][rows], mastery)
    assert asked.max() <= half
    assert adaptive["accuracy"] >= full["accuracy"] - 0.03


def test_adaptive_beats_random_order(adaptive_setup, rng):
    model, codes, d = adaptive_setup
    rows = slice(0, 600)
    k = 8
    mastery, _ = simulate_adaptive(model, codes[rows], max_items=k, sd_threshold=0.0)
    order = rng.permutation(codes.shape[1])[:k]
    random_codes = np.full_like(codes[rows], -1)
    random_codes[:, order] = codes[rows][:, order]
    random_mastery = model.predict_proba_codes(random_codes)
    assert (
        mastery_metrics(d["alpha"][rows], mastery)["accuracy"]
        > mastery_metrics(d["alpha"][rows], random_mastery)["accuracy"]
    )
