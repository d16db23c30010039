"""schedule_items: learning order, weekly load and prerequisite weeks."""

from __future__ import annotations

import pytest

from competency_model.errors import InfeasibleError
from recommender.paths.schedule import ScheduledItem, schedule_items


def _item(item_id: str, point: str, hours: float, online: bool = True) -> ScheduledItem:
    return ScheduledItem(
        item_id=item_id,
        kind="online_video" if online else "practice",
        hours=hours,
        points=(point,),
        primary=point,
        level="进阶",
        is_online=online,
    )


def test_prerequisite_items_come_in_earlier_weeks(graph) -> None:
    """A2 (资源获取与评价) is a prerequisite of A3 and A4 in the national graph."""
    items = [_item("X3", "A3", 2), _item("X4", "A4", 2), _item("X2", "A2", 2, online=False)]
    placed = schedule_items(items, ["A4", "A3", "A2"], graph, max_weekly_hours=6)
    assert placed[0].item_id == "X2"
    week = {it.primary: it.week for it in placed}
    assert week["A2"] < week["A3"] and week["A2"] < week["A4"]


@pytest.mark.parametrize("limit", [3.0, 4.0, 6.0])
def test_weekly_load_never_exceeds_the_limit(graph, limit) -> None:
    items = [_item(f"X{i}", "A1", 1.0 + 0.5 * (i % 4)) for i in range(10)]
    placed = schedule_items(items, ["A1"], graph, max_weekly_hours=limit)
    load: dict[int, float] = {}
    for it in placed:
        load[it.week] = load.get(it.week, 0.0) + it.hours
    assert max(load.values()) <= limit


def test_item_longer_than_a_week_is_refused(graph) -> None:
    with pytest.raises(InfeasibleError, match="weekly limit"):
        schedule_items([_item("X", "A1", 8)], ["A1"], graph, max_weekly_hours=6)


def test_cycle_too_short_is_refused(graph) -> None:
    items = [_item(f"X{i}", "A1", 4) for i in range(5)]
    with pytest.raises(InfeasibleError, match="cycle has 2"):
        schedule_items(items, ["A1"], graph, max_weekly_hours=4, max_weeks=2)
