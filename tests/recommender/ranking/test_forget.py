"""Erasure from a fitted recommender: the teacher's own rows go, everyone else stays."""

from __future__ import annotations

import numpy as np
import pytest

from competency_model.catalog import load_catalog
from competency_model.errors import NotFoundError
from competency_model.framework import default_framework
from recommender.ranking import HybridRecommender


@pytest.fixture()
def fitted(small_province) -> HybridRecommender:  # type: ignore[no-untyped-def]
    return HybridRecommender(factors=8, iterations=3, random_state=0).fit(
        small_province, small_province.mastery, load_catalog(), default_framework()
    )


def test_forget_removes_the_teacher_and_their_rows(fitted: HybridRecommender) -> None:
    state = fitted.state_
    teacher = str(state.teachers.teacher_ids[5])
    other = str(state.teachers.teacher_ids[6])
    before_other = fitted.recommend(other, 10, "course", True)
    row = fitted.row_of(teacher)
    assert state.took[row].nnz > 0
    revision = fitted.revision

    assert fitted.forget(teacher) is True

    with pytest.raises(NotFoundError):
        fitted.row_of(teacher)
    assert teacher not in state.teachers.teacher_ids.tolist()
    assert state.took[row].nnz == 0 and state.completed[row].nnz == 0
    assert state.als.user_items_[row].nnz == 0
    factors = np.asarray(state.als.model_.user_factors)
    assert not factors[row].any()
    np.testing.assert_allclose(state.mastery[row], state.mastery_prior)
    assert fitted.revision == revision + 1
    after_other = fitted.recommend(other, 10, "course", True)
    assert [r.item_id for r in after_other] == [r.item_id for r in before_other]


def test_forget_an_unknown_teacher_changes_nothing(fitted: HybridRecommender) -> None:
    revision = fitted.revision
    assert fitted.forget("T-never-seen") is False
    assert fitted.revision == revision
