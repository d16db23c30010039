"""Put the selected items in a learning order and spread them over weeks.

Order: target points in the graph's topological order (a prerequisite or the lower step of a
progression first), and within a point the online courses before the practice tasks (learn,
then try it in class), easier levels first. Weeks: items are packed in that order under the
policy's weekly load limit (an item is done within one week, so the builder drops items longer
than the limit from the candidates); and a point whose prerequisite is also a target starts only in the week after that prerequisite's
last item ends, so "prerequisites first" holds for weeks as well as for list order. Items the
teacher already completed come first, in the earliest weeks, so no finished item is scheduled
after work still to do.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from competency_model.errors import InfeasibleError
from competency_model.graph import CompetencyGraph

__all__ = ["ScheduledItem", "item_order", "schedule_items"]

_LEVEL_RANK = {"入门": 0, "进阶": 1, "高阶": 2}


@dataclass(frozen=True)
class ScheduledItem:
    """An item of the plan with its primary target, first week and last week."""

    item_id: str
    kind: str
    hours: float
    points: tuple[str, ...]
    primary: str
    level: str
    is_online: bool
    week: int = 0
    last_week: int = 0
    #: Completed already this cycle: scheduled before every pending item (its 学时 count, it is
    #: not work ahead of the teacher).
    done: bool = False


def item_order(
    items: Sequence[ScheduledItem], targets: Sequence[str], graph: CompetencyGraph
) -> list[ScheduledItem]:
    """Items in learning order: by the latest-ranked target they serve, online first, level, id.

    Keying on the *latest* target an item serves means an item never precedes the items of a
    point it depends on. A final repair pass moves the first item of a prerequisite ahead of
    its dependant's first item in the rare case where every item of the prerequisite also
    serves a later point.
    """
    rank = {code: i for i, code in enumerate(graph.topological_order(targets))}

    def key(it: ScheduledItem) -> tuple[int, bool, int, str]:
        latest = max((rank.get(p, len(rank)) for p in it.points), default=len(rank))
        return (latest, not it.is_online, _LEVEL_RANK.get(it.level, 1), it.item_id)

    ordered = sorted(items, key=key)
    edges = [
        (source, target)
        for source in targets
        for target in graph.descendants(source, kinds=("prerequisite",))
        if target in rank
    ]
    for _ in range(len(ordered)):
        moved = False
        for source, target in edges:
            first_s = next((i for i, it in enumerate(ordered) if source in it.points), None)
            first_t = next((i for i, it in enumerate(ordered) if target in it.points), None)
            if first_s is not None and first_t is not None and first_s > first_t:
                ordered.insert(first_t, ordered.pop(first_s))
                moved = True
        if not moved:
            break
    return ordered


def schedule_items(
    items: Sequence[ScheduledItem],
    targets: Sequence[str],
    graph: CompetencyGraph,
    max_weekly_hours: float,
    max_weeks: int | None = None,
) -> list[ScheduledItem]:
    """Order items and assign weeks (1-based) under a weekly load limit.

    Parameters
    ----------
    items
        Selected items with their primary target point.
    targets
        The plan's target points (ordering uses the graph restricted to them).
    graph
        Supplies the prerequisite/progression order.
    max_weekly_hours
        Hours a teacher may be asked to study in one week (policy ``max_weekly_hours``).
    max_weeks
        Length of the cycle in weeks; ``None`` means unbounded.

    Raises
    ------
    InfeasibleError
        If the schedule needs more weeks than the cycle has (rule ``max_weekly_hours``).
    """
    if max_weekly_hours <= 0:
        raise InfeasibleError(
            f"max_weekly_hours must be positive, got {max_weekly_hours}; fix the policy",
            details={"rule": "max_weekly_hours"},
        )
    # what the teacher already finished fills the first weeks, never a week after pending work
    ordered = item_order([i for i in items if i.done], targets, graph) + item_order(
        [i for i in items if not i.done], targets, graph
    )
    target_set = set(targets)
    ancestors = {
        code: {
            a
            for a in graph.ancestors(code, kinds=("prerequisite", "progression"))
            if a in target_set
        }
        for code in targets
    }
    last_week_of: dict[str, int] = {}
    week, load = 1, 0.0
    placed: list[ScheduledItem] = []
    for item in ordered:
        before = set().union(*(ancestors.get(p, set()) for p in item.points)) - set(item.points)
        earliest = 1 + max((last_week_of.get(a, 0) for a in before), default=0)
        if earliest > week:
            week, load = earliest, 0.0
        if item.hours > max_weekly_hours + 1e-9:
            raise InfeasibleError(
                f"item {item.item_id} takes {item.hours:g} h, more than the weekly limit "
                f"{max_weekly_hours:g}; drop it from the candidates or raise max_weekly_hours",
                details={"rule": "weekly_load", "subject": item.item_id},
            )
        if load + item.hours > max_weekly_hours + 1e-9:
            week, load = week + 1, 0.0
        load += item.hours
        placed.append(replace(item, week=week, last_week=week))
        for p in item.points:
            last_week_of[p] = max(last_week_of.get(p, 0), week)
    needed = max((it.last_week for it in placed), default=0)
    if max_weeks is not None and needed > max_weeks:
        raise InfeasibleError(
            f"the plan needs {needed} weeks at ≤{max_weekly_hours:g} h/week but the cycle has "
            f"{max_weeks}; raise max_weekly_hours or lengthen the cycle",
            details={"rule": "max_weekly_hours", "expected": max_weeks, "actual": needed},
        )
    return placed
