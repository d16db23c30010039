"""The batch's lists carry each item's reasons, and they are the reasons of the live list."""

from __future__ import annotations

import pytest

from recommender.batch.scoring import LIST_COLUMNS, top_lists


@pytest.fixture(scope="module")
def lists(fitted_hybrid):  # type: ignore[no-untyped-def]
    return top_lists(fitted_hybrid, 6)


def test_every_row_has_reasons_in_both_languages(lists) -> None:  # type: ignore[no-untyped-def]
    assert tuple(lists.columns) == LIST_COLUMNS
    assert all(zh and en for zh, en in zip(lists["reasons_zh"], lists["reasons_en"], strict=True))


@pytest.mark.parametrize("kind", ["course", "task", "all"])
def test_stored_reasons_are_the_live_reasons(fitted_hybrid, lists, kind: str) -> None:  # type: ignore[no-untyped-def]
    for teacher in fitted_hybrid.state_.teachers.teacher_ids[:5].tolist():
        rows = lists[(lists["teacher_id"] == teacher) & (lists["kind"] == kind)]
        live = fitted_hybrid.recommend(teacher, k=6, kind=kind)
        assert list(zip(rows["item_id"], rows["reasons_zh"], rows["reasons_en"], strict=True)) == [
            (item.item_id, item.reasons_zh, item.reasons_en) for item in live
        ]
