"""Whole-province lists equal the one-teacher path, chunk by chunk."""

from __future__ import annotations

import pandas as pd
import pytest

from recommender.ranking.batch import RECOMMENDATION_COLUMNS, recommend_all


@pytest.mark.parametrize("kind", ["course", "task", "all"])
def test_batch_lists_equal_one_teacher_lists(fitted_hybrid, kind):
    done: list[int] = []
    table = pd.concat(recommend_all(fitted_hybrid, kind, k=7, chunk_size=37, progress=done.append))
    assert tuple(table.columns) == RECOMMENDATION_COLUMNS
    assert sum(done) == len(fitted_hybrid.teachers_.teacher_ids)
    for teacher in ("T0000001", "T0000042", "T0000150"):
        rows = table[table["teacher_id"] == teacher]
        expected = fitted_hybrid.recommend(teacher, k=7, kind=kind)
        assert rows["item_id"].tolist() == [r.item_id for r in expected]
        assert rows["rank"].tolist() == list(range(1, len(expected) + 1))
        assert rows["score"].tolist() == pytest.approx([r.score for r in expected])


def test_batch_refuses_a_bad_k(fitted_hybrid):
    with pytest.raises(ValueError, match="k=0"):
        next(recommend_all(fitted_hybrid, "all", k=0))
