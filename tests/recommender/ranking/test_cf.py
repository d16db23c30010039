"""Collaborative filtering: implicit's checkerboard behaviour, determinism, fold-in, persistence."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from recommender.ranking.cf import CollaborativeFilter, confidence_matrix, replace_csr_row

MODELS = {
    "als": {"factors": 4, "iterations": 15, "regularization": 0.01},
    "bpr": {"factors": 4, "iterations": 300, "learning_rate": 0.05, "regularization": 0.001},
    "item_knn": {"neighbours": 30},
}


def checkerboard(n: int = 30) -> sp.csr_matrix:
    """Users like items of their own parity; the diagonal (one such item each) is held out."""
    users, items = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    liked = ((users + items) % 2 == 0) & (users != items)
    return sp.csr_matrix(liked.astype(np.float32))


@pytest.mark.parametrize("algorithm", sorted(MODELS))
def test_held_out_item_ranks_first(algorithm):
    matrix = checkerboard()
    model = CollaborativeFilter(algorithm, random_state=0, **MODELS[algorithm]).fit(matrix)
    firsts = [model.recommend(user, k=1)[0][0] for user in range(matrix.shape[0])]
    assert firsts == list(range(matrix.shape[0]))


@pytest.mark.parametrize("algorithm", sorted(MODELS))
def test_same_seed_gives_same_scores(algorithm):
    matrix = checkerboard(12)
    a = CollaborativeFilter(algorithm, random_state=3, **MODELS[algorithm]).fit(matrix)
    b = CollaborativeFilter(algorithm, random_state=3, **MODELS[algorithm]).fit(matrix)
    np.testing.assert_array_equal(a.score(range(12)), b.score(range(12)))


@pytest.mark.parametrize("algorithm", sorted(MODELS))
def test_fold_in_moves_user_towards_new_items(algorithm):
    matrix = checkerboard()
    model = CollaborativeFilter(algorithm, random_state=0, **MODELS[algorithm]).fit(matrix)
    # User 0 liked even items; after fold-in they like odd items instead.
    odd = np.zeros((1, matrix.shape[1]), dtype=np.float32)
    odd[0, 1:20:2] = 1.0
    model.fold_in(0, sp.csr_matrix(odd))
    top = model.recommend(0, k=3)[0]
    assert all(item % 2 == 1 for item in top)


@pytest.mark.parametrize("algorithm", sorted(MODELS))
def test_arrays_round_trip_keeps_scores(algorithm):
    matrix = checkerboard(12)
    model = CollaborativeFilter(algorithm, random_state=0, **MODELS[algorithm]).fit(matrix)
    rebuilt = CollaborativeFilter.from_arrays(model.get_arrays())
    np.testing.assert_allclose(rebuilt.score(range(12)), model.score(range(12)), rtol=1e-6)


def test_confidence_adds_weighted_events():
    events = pd.DataFrame(
        {
            "teacher_id": ["a", "a", "a", "a", "b"],
            "item_id": ["x", "x", "x", "x", "y"],
            "event": ["enrol", "progress", "complete", "rate", "enrol"],
            "value": [np.nan, 0.5, np.nan, 5.0, np.nan],
        }
    )
    matrix = confidence_matrix(events, pd.Index(["a", "b"]), pd.Index(["x", "y"]))
    np.testing.assert_allclose(matrix.toarray(), [[1 + 0.5 + 2 + 1, 0], [0, 1]])


def test_unknown_event_kind_is_rejected():
    events = pd.DataFrame(
        {"teacher_id": ["a"], "item_id": ["x"], "event": ["like"], "value": [np.nan]}
    )
    with pytest.raises(ValueError, match="like"):
        confidence_matrix(events, pd.Index(["a"]), pd.Index(["x"]))


def test_replace_row_changes_only_that_row(rng):
    matrix = sp.random(6, 5, density=0.5, format="csr", random_state=1, dtype=np.float32)
    new = sp.csr_matrix(np.array([[0, 2, 0, 0, 3]], dtype=np.float32))
    replaced = replace_csr_row(matrix, 2, new)
    expected = matrix.toarray()
    expected[2] = new.toarray()
    np.testing.assert_array_equal(replaced.toarray(), expected)
