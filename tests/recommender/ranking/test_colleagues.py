"""Colleague signals: school co-completion and district counts follow their definitions."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from recommender.ranking.colleagues import (
    colleague_cocompletion,
    district_counts,
    district_rows,
)


def test_cocompletion_weights_colleagues_by_cosine_overlap():
    done = sp.csr_matrix(
        np.array([[1, 1, 0, 0], [1, 0, 1, 0], [1, 1, 0, 1], [1, 1, 1, 1]], dtype=np.float32)
    )
    school = np.array([0, 0, 0, 1])  # teacher 3 is in another school
    score = colleague_cocompletion(np.array([0]), done, school)[0]
    # colleague 1 shares 1 of 2×2 completions (cosine 1/2), colleague 2 shares 2 of 2×3
    w1, w2 = 1 / 2, 2 / np.sqrt(6)
    expected = np.log1p(10 * np.array([w1 + w2, w2, w1, w2]))
    assert score == pytest.approx(expected, rel=1e-5)


def test_cocompletion_is_zero_without_history_or_colleagues():
    done = sp.csr_matrix(np.array([[0, 0, 0], [1, 1, 0], [0, 1, 1]], dtype=np.float32))
    # teacher 0 completed nothing; teacher 2 is alone in her school
    scores = colleague_cocompletion(np.array([0, 2]), done, np.array([0, 0, 1]))
    assert (scores == 0).all()


def test_district_counts_sum_the_district_schools():
    school_completed = np.array([[1, 0], [2, 3], [4, 0]], dtype=np.float32)
    school_district = district_rows(np.array(["|a", "|b", "|a"]))
    sizes = np.array([10, 20, 30], dtype=np.float32)
    counts, teachers = district_counts(
        school_completed, school_district, sizes, np.array([1, 0, 2])
    )
    assert counts.tolist() == [[2, 3], [5, 0], [5, 0]]
    assert teachers.tolist() == [20, 40, 40]
