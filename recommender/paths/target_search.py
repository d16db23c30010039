"""Search for a target set the catalog can serve: targets and items chosen together by one MILP.

The builder's first target set is the teacher's largest gaps. When the catalog cannot fill the
policy's hours on those points (a 幼儿园 teacher in a multimedia school has fewer items per
point), widening to every point is the wrong fix: it makes the plan longer and less focused,
and it still fails when the problem is a dimension or a kind of hours. Instead this module asks
HiGHS for the best *set* of points that satisfies the point and dimension rules and admits a
selection meeting every hour rule, keeping the school's chosen points (一校一策) in the set.

Variables: ``y_p`` (point ``p`` is a target) and ``x_i`` (item ``i`` is taken). Constraints:

* an item enters only when its catalog weight on the chosen targets is at least
  ``min_target_weight`` (``sum_p w_ip y_p >= min_target_weight * x_i``), the builder's rule;
* each target is practised: ``sum_{i practice, w_ip > 0} x_i >= y_p``;
* ``sum_p y_p >= min_points``, at least ``min_dimensions`` dimensions have a target, the
  school's chosen points are fixed to 1, at most ``max_targets`` points;
* the policy's total (with the slack), practice hours, practice share and online hours.

The objective prefers few targets, then large gaps: ``sum_p (gap_p - 2) y_p`` minus a tiny
hours cost, so a three-point set always beats a four-point one and the gaps break ties.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import csr_matrix

from competency_model.catalog import CatalogItem
from competency_model.framework import Framework
from competency_model.policy import Policy

__all__ = ["TargetSearch", "search_target_set"]

#: Per-target cost that makes fewer targets win over any gap difference (gaps lie in [0, 1]).
_TARGET_COST = 2.0
_HOURS_COST = 1e-4


@dataclass(frozen=True)
class TargetSearch:
    """The outcome of one search: a target set in framework order, or ``None`` with the status."""

    codes: list[str] | None
    status: str


def search_target_set(
    pool: Sequence[CatalogItem],
    points: Sequence[str],
    gaps: Mapping[str, float],
    policy: Policy,
    framework: Framework,
    *,
    required: Collection[str] = (),
    excluded_sets: Sequence[Collection[str]] = (),
    max_targets: int | None = None,
    hours_slack: float = 0.0,
    min_target_weight: float = 0.5,
    time_limit: float = 10.0,
) -> TargetSearch:
    """Best target set among ``points`` that admits a compliant selection from ``pool``.

    Parameters
    ----------
    pool
        Items the teacher can take (environment, gating, stage, subject, weekly limit applied).
    points
        Points that may become targets (allowed in the school environment).
    gaps
        Diagnosed gap ``1 - mastery`` per point (missing points count as 0.5).
    policy, framework
        Rules (hours, points, dimensions, practice and online kinds) and point dimensions.
    required
        Points that must be in the set (the school's chosen points).
    excluded_sets
        Sets already tried and refused later (no-good cuts: each one is excluded exactly).
    max_targets
        Upper bound on the set size (default: every point in ``points``).
    hours_slack
        Hours the total may exceed the policy's total by.

    Returns
    -------
    TargetSearch
        ``codes`` is ``None`` when no set satisfies every rule (``status`` says why HiGHS
        stopped).
    """
    codes = [c for c in framework.codes if c in set(points)]
    if not codes:
        return TargetSearch(None, "no allowed point")
    column = {c: j for j, c in enumerate(codes)}
    items = [it for it in pool if any(c in column for c in it.points)]
    n, t = len(items), len(codes)
    if n == 0:
        return TargetSearch(None, "no item on the allowed points")
    weight = np.zeros((n, t))
    for i, item in enumerate(items):
        for code, value in item.points.items():
            if code in column:
                weight[i, column[code]] = value
    hours = np.array([it.hours for it in items], dtype=np.float64)
    practice = np.array([it.kind in policy.practice_kinds for it in items], dtype=bool)
    online = np.array([it.kind in policy.online_kinds for it in items], dtype=bool)
    dimensions = sorted({framework.point(c).dimension for c in codes})
    d = len(dimensions)
    size = n + t + d  # x, y, z (z_k: dimension k has a target)
    rows: list[np.ndarray] = []
    lower: list[float] = []
    upper: list[float] = []

    def add(coefficients: np.ndarray, lo: float, hi: float) -> None:
        rows.append(coefficients)
        lower.append(lo)
        upper.append(hi)

    def vector(x: np.ndarray | None = None, y: np.ndarray | None = None) -> np.ndarray:
        out = np.zeros(size)
        if x is not None:
            out[:n] = x
        if y is not None:
            out[n : n + t] = y
        return out

    practice_hours = np.where(practice, hours, 0.0)
    add(vector(hours), policy.total_hours, policy.total_hours + hours_slack)
    add(vector(practice_hours), policy.min_practice_hours, np.inf)
    add(vector(practice_hours - policy.min_practice_share * hours), 0.0, np.inf)
    add(vector(np.where(online, hours, 0.0)), policy.min_online_hours, np.inf)
    for i in range(n):  # eligibility: enough of the item's weight lies on the targets
        row = vector(y=weight[i])
        row[i] = -min_target_weight
        add(row, -1e-9, np.inf)
    for j in range(t):  # every target is practised by a chosen task
        row = vector(x=((weight[:, j] > 0) & practice).astype(float))
        row[n + j] = -1.0
        add(row, 0.0, np.inf)
    for k, dimension in enumerate(dimensions):  # z_k <= number of targets in dimension k
        row = vector(y=np.array([framework.point(c).dimension == dimension for c in codes]))
        row[n + t + k] = -1.0
        add(row, 0.0, np.inf)
    z_row = np.zeros(size)
    z_row[n + t :] = 1.0
    add(z_row, float(policy.min_dimensions), np.inf)
    cap = float(max_targets) if max_targets is not None else float(t)
    add(vector(y=np.ones(t)), float(policy.min_points), cap)
    for tried in excluded_sets:  # no-good cut: not exactly this set again
        members = np.array([c in set(tried) for c in codes], dtype=float)
        add(vector(y=2 * members - 1), -np.inf, float(members.sum()) - 1.0)
    lower_bounds = np.zeros(size)
    for code in required:
        if code in column:
            lower_bounds[n + column[code]] = 1.0
    cost = np.zeros(size)
    cost[:n] = _HOURS_COST * hours
    cost[n : n + t] = [_TARGET_COST - float(gaps.get(c, 0.5)) for c in codes]
    result = milp(
        cost,
        constraints=LinearConstraint(csr_matrix(np.vstack(rows)), np.array(lower), np.array(upper)),
        bounds=Bounds(lower_bounds, np.ones(size)),
        integrality=np.ones(size, dtype=int),
        options={"time_limit": time_limit, "disp": False},
    )
    if result.x is None:
        return TargetSearch(None, str(result.message))
    chosen = {c for j, c in enumerate(codes) if result.x[n + j] > 0.5}
    return TargetSearch([c for c in codes if c in chosen], str(result.message))
