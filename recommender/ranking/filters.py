"""Hard filters: items a teacher must never be shown, whatever their score.

Scores rank; filters decide eligibility. Keeping them apart, each as one small function returning
a boolean mask over the catalog (True = still allowed), makes every rule testable on its own and
lets an explanation say exactly which rule removed an item. The rules:

- :func:`kind_mask` — courses (online kinds) or practice tasks, as the policy classifies them;
- :func:`completed_mask` — already completed;
- :func:`environment_mask` — needs an environment the school lacks, or develops a point the
  policy's environment gating does not open to this school;
- :func:`unmastered_mask` — covers only points the teacher has already mastered (points the
  school chose or the teacher is studying stay open until assessed);
- :func:`exclude_mask` / :func:`only_points_mask` — the caller's own restrictions.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from competency_model.catalog import RECOMMENDABLE_KINDS, Kind
from competency_model.errors import NotFoundError
from competency_model.policy import Policy
from recommender.ranking.signals import ItemTable, PointTable

__all__ = [
    "LIST_KINDS",
    "Kind",
    "ListKind",
    "PolicyRules",
    "apply_filters",
    "completed_mask",
    "environment_mask",
    "exclude_mask",
    "kind_mask",
    "only_points_mask",
    "unmastered_mask",
]

_ENVIRONMENTS = ("multimedia", "blended", "smart")
#: What a list may hold: online courses, practice tasks, or both in one ranking.
ListKind = Kind | Literal["all"]
LIST_KINDS: tuple[str, ...] = ("course", "task", "all")


@dataclass(frozen=True)
class PolicyRules:
    """The parts of a regional :class:`~competency_model.policy.Policy` that gate items."""

    name: str
    online_kinds: tuple[str, ...]
    practice_kinds: tuple[str, ...]
    #: ``gating[school_rank, point_rank]`` is True when a school of that environment may work on
    #: points of that environment.
    gating: NDArray[np.bool_]

    @classmethod
    def from_policy(cls, policy: Policy) -> PolicyRules:
        gating = np.zeros((3, 3), dtype=bool)
        for school_env, allowed in policy.environment_gating.items():
            for env in allowed:
                gating[_ENVIRONMENTS.index(school_env), _ENVIRONMENTS.index(env)] = True
        return cls(policy.name, tuple(policy.online_kinds), tuple(policy.practice_kinds), gating)

    @classmethod
    def default(cls) -> PolicyRules:
        """Cumulative gating A ⊂ A+B ⊂ A+B+C and the contract's online/practice kinds."""
        return cls(
            "default",
            ("online_video", "live"),
            ("practice", "school_research"),
            np.tri(3, dtype=bool),
        )


def kind_mask(items: ItemTable, kind: ListKind, rules: PolicyRules) -> NDArray[np.bool_]:
    """Items of the requested kind: online courses, practice tasks (per the policy), or all.

    Only :data:`~competency_model.catalog.RECOMMENDABLE_KINDS` are ever listed: the regional
    practice kinds count towards a region's hours but are activities the school records.
    """
    if kind == "course":
        allowed = rules.online_kinds
    elif kind == "task":
        allowed = rules.practice_kinds
    elif kind == "all":
        allowed = (*rules.online_kinds, *rules.practice_kinds)
    else:
        raise ValueError(f"kind={kind!r}; use 'course', 'task' or 'all'")
    return np.isin(items.kinds, [k for k in allowed if k in RECOMMENDABLE_KINDS])


def completed_mask(n_items: int, completed_columns: Iterable[int]) -> NDArray[np.bool_]:
    """False for items the teacher has completed."""
    mask = np.ones(n_items, dtype=bool)
    mask[np.fromiter(completed_columns, dtype=np.int64)] = False
    return mask


def environment_mask(
    items: ItemTable, points: PointTable, school_environment_rank: int, rules: PolicyRules
) -> NDArray[np.bool_]:
    """False for items the school cannot run or whose points the policy keeps closed to it."""
    runnable = items.environment_rank <= school_environment_rank
    open_points = rules.gating[school_environment_rank][points.environment_rank]
    uses_closed = (items.point_weights[:, ~open_points] > 0).any(axis=1)
    return runnable & ~uses_closed


def unmastered_mask(
    items: ItemTable,
    mastery: NDArray[np.float64],
    threshold: float,
    active_points: NDArray[np.bool_] | None = None,
) -> NDArray[np.bool_]:
    """False for items whose every point the teacher has mastered (probability ≥ ``threshold``).

    ``active_points`` marks points that stay open whatever the diagnosis says: the school chose
    them for 整校推进 or the teacher is already studying them, and a point is only finished
    once it has been assessed, so courses on it remain useful. Works on one teacher (vectors
    over points) or a batch (teachers × points, giving teachers × items).
    """
    gaps = np.asarray(mastery) < threshold
    if active_points is not None:
        gaps = gaps | np.asarray(active_points, dtype=bool)
    develops = (items.point_weights > 0).astype(np.int32)
    return (gaps.astype(np.int32) @ develops.T) > 0


def exclude_mask(items: ItemTable, exclude: Iterable[str]) -> NDArray[np.bool_]:
    """False for the item ids the caller excluded (unknown ids are ignored: nothing to drop)."""
    return np.asarray(~np.isin(items.item_ids, list(exclude)), dtype=bool)


def only_points_mask(
    items: ItemTable, points: PointTable, only_points: Sequence[str]
) -> NDArray[np.bool_]:
    """Items that develop at least one of ``only_points`` (all items when it is empty)."""
    if not only_points:
        return np.ones(len(items.item_ids), dtype=bool)
    try:
        columns = points.index(list(only_points))
    except KeyError as error:
        raise NotFoundError(
            str(error.args[0]), details={"only_points": list(only_points)}
        ) from None
    return np.asarray((items.point_weights[:, columns] > 0).any(axis=1), dtype=bool)


def apply_filters(
    items: ItemTable,
    points: PointTable,
    rules: PolicyRules,
    kind: ListKind,
    school_environment_rank: int,
    mastery: NDArray[np.float64] | None,
    completed_columns: Iterable[int] = (),
    exclude: Iterable[str] = (),
    only_points: Sequence[str] = (),
    mastered_threshold: float = 0.9,
    active_points: NDArray[np.bool_] | None = None,
    mastered_filter: bool = True,
) -> tuple[NDArray[np.bool_], dict[str, int]]:
    """Combine every hard filter; also return how many items each rule removed.

    ``mastery=None`` (the non-personalised list) skips the mastered-points rule, which would
    otherwise need the teacher's profile; so does ``mastered_filter=False`` (the fit's model
    selection found the rule removes items teachers do finish: the ranker then weighs the
    ``max_gap`` signal instead).
    """
    masks = {
        "kind": kind_mask(items, kind, rules),
        "completed": completed_mask(len(items.item_ids), completed_columns),
        "environment": environment_mask(items, points, school_environment_rank, rules),
        "exclude": exclude_mask(items, exclude),
        "only_points": only_points_mask(items, points, only_points),
    }
    if mastery is not None and mastered_filter:
        masks["mastered"] = unmastered_mask(items, mastery, mastered_threshold, active_points)
    allowed = np.logical_and.reduce(list(masks.values()))
    removed = {
        name: int((~mask & masks["kind"]).sum()) for name, mask in masks.items() if name != "kind"
    }
    return allowed, removed
