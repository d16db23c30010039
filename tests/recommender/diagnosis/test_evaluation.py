"""Metrics: calibration error, accuracy/AUC, sum-score baseline."""

from __future__ import annotations

import numpy as np
import pytest

from competency_model.errors import NengliError
from recommender.diagnosis.evaluation import (
    expected_calibration_error,
    mastery_metrics,
    sum_score_mastery,
)


def test_calibrated_probabilities_have_small_ece(rng):
    p = rng.random(200_000)
    y = rng.random(p.size) < p
    assert expected_calibration_error(y, p) < 0.01


def test_overconfident_probabilities_have_large_ece(rng):
    y = rng.random(10_000) < 0.5
    assert expected_calibration_error(y, np.full(y.size, 0.95)) > 0.4


def test_perfect_prediction_metrics():
    truth = np.array([[1, 0], [0, 1], [1, 1], [0, 0]])
    m = mastery_metrics(truth, truth * 0.9 + 0.05)
    assert m["accuracy"] == 1.0 and m["auc"] == 1.0


def test_shape_mismatch_raises():
    with pytest.raises(NengliError, match="shape"):
        mastery_metrics(np.zeros((2, 2)), np.zeros((2, 3)))


def test_sum_score_rescales_ratings():
    codes = np.array([[1, 3, -1], [-1, -1, -1]], dtype=np.int8)
    q = np.array([[1, 0], [1, 0], [0, 1]])
    score = sum_score_mastery(codes, q, np.array([2, 4, 2]))
    np.testing.assert_allclose(score, [[1.0, 0.5], [0.5, 0.5]])
