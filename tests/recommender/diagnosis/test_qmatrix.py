"""Q-matrix identifiability: distinguishable classes and jointly measured attributes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from competency_model.errors import NengliError
from recommender.diagnosis.qmatrix import (
    analyse_q_matrix,
    count_distinguishable_brute_force,
    count_distinguishable_classes,
)


@pytest.mark.realdata
def test_frcsub_has_58_distinguishable_classes(frcsub):
    _, q = frcsub
    assert count_distinguishable_brute_force(q) == 58
    assert count_distinguishable_classes(q) == 58


@pytest.mark.realdata
def test_frcsub_attribute_7_is_in_every_joint_group(frcsub):
    _, q = frcsub
    report = analyse_q_matrix(q, names=[f"a{i + 1}" for i in range(8)])
    assert report.n_profiles == 256
    assert not report.complete
    # Attribute 7 (subtract numerators) has a single-attribute item; 1, 3, 4, 5, 6, 8 do not.
    assert sorted(report.only_jointly_measured) == ["a1", "a3", "a4", "a5", "a6", "a8"]
    assert all("a7" in others for others in report.only_jointly_measured.values())


@st.composite
def q_matrices(draw: st.DrawFn) -> np.ndarray:
    k = draw(st.integers(1, 7))
    rows = draw(
        st.lists(
            st.lists(st.integers(0, 1), min_size=k, max_size=k).filter(any),
            min_size=1,
            max_size=10,
        )
    )
    return np.array(rows, dtype=np.int8)


@settings(max_examples=60, deadline=None)
@given(q_matrices())
def test_component_count_equals_brute_force(q):
    assert count_distinguishable_classes(q) == count_distinguishable_brute_force(q)


def test_complete_30_point_matrix_counts_all_profiles():
    q = np.vstack(
        [
            np.eye(30, dtype=np.int8),
            np.eye(30, dtype=np.int8)[:10] + np.roll(np.eye(30, dtype=np.int8), 1, axis=1)[:10],
        ]
    )
    assert count_distinguishable_classes(q) == 2**30


def test_unmeasured_and_joint_points_are_reported():
    q = np.array([[1, 1, 0], [1, 0, 0]])
    report = analyse_q_matrix(q, names=["A1", "A2", "A3"])
    assert report.unmeasured == ["A3"]
    assert report.only_jointly_measured == {"A2": ["A1"]}
    assert report.n_distinguishable == 3  # {}, {A1}, {A1, A2}


def test_names_must_match_columns():
    with pytest.raises(NengliError, match="2 names"):
        analyse_q_matrix(np.eye(3, dtype=int), names=["a", "b"])
