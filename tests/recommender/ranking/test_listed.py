"""A stored list explained later gives the same items, scores and reasons as ranking again."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("kind", ["course", "task"])
def test_explained_list_equals_the_live_ranking(fitted_hybrid, kind: str) -> None:  # type: ignore[no-untyped-def]
    teacher_id = fitted_hybrid.state_.teachers.teacher_ids[3]
    live = fitted_hybrid.recommend(str(teacher_id), k=10, kind=kind)
    listed = fitted_hybrid.explain_listed(
        str(teacher_id), [item.item_id for item in live], [item.score for item in live]
    )
    assert [item.model_dump(exclude={"signals"}) for item in listed] == [
        item.model_dump(exclude={"signals"}) for item in live
    ]
    assert all(item.signals == {} for item in listed)


def test_retired_items_are_skipped(fitted_hybrid) -> None:  # type: ignore[no-untyped-def]
    teacher_id = str(fitted_hybrid.state_.teachers.teacher_ids[0])
    live = fitted_hybrid.recommend(teacher_id, k=3)
    ids = [live[0].item_id, "CRS-RETIRED", live[1].item_id]
    listed = fitted_hybrid.explain_listed(teacher_id, ids, [3.0, 2.0, 1.0])
    assert [item.item_id for item in listed] == [live[0].item_id, live[1].item_id]
    assert [item.score for item in listed] == [3.0, 1.0]
