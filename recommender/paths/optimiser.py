"""Choose the courses and practice tasks of one learning path by mixed-integer optimisation.

The selection problem is small (tens to a few hundred candidate items, three to six target
points) but it has hard rules that a ranked list cannot honour at the same time: the policy's
total 学时, a practice minimum (hours and share), an online minimum, and "every target point is
developed by at least one item and practised in at least one task". We therefore solve it
exactly with HiGHS (through :func:`scipy.optimize.milp`, which wraps the HiGHS branch-and-cut
solver shipped as ``highspy``) and keep two reference methods beside it:

* :func:`solve_greedy`, a two-phase cost-benefit greedy with a stated bound (see below), used
  to show what the solver buys and as a fallback when no MILP solver is wanted;
* :func:`solve_exact`, brute-force enumeration of every subset, only for tiny cases, used by
  the tests to measure the solver's gap against the true optimum.

Objective
---------
For a target point ``t`` the raw expected gain of a selection ``x`` is
``r_t(x) = sum_i gain[i, t] * x_i``. Learning has diminishing returns and cannot exceed the
gap ``g_t = 1 - mastery_t``, so the credited gain is the concave, piecewise-linear
``phi_t(r) = min(r, g_t/2) + 0.5 * min(max(r - g_t/2, 0), g_t/2)``: the first half of the gap
counts fully, the second half at half rate, nothing beyond the gap. The objective is
``sum_t importance_t * phi_t(r_t(x)) - hours_penalty * sum_i hours_i * x_i``; the small hours
penalty prefers the shorter of two equally useful plans. Because ``phi_t`` is concave and we
maximise, it is exact as two bounded continuous variables per target — the model stays linear.

Greedy bound
------------
Phase 1 buys feasibility (coverage, practice and online minima) and phase 2 spends the rest of
the hour budget by marginal gain per hour, also run by plain marginal gain, keeping the better.
Ignoring the tiny hours penalty, the phase-2 objective is monotone submodular (a sum of concave
functions of modular sums), so this is the budgeted-greedy of Khuller, Moss & Naor (1999) /
Leskovec et al. (2007): its phase-2 gain is at least ``(1 - 1/e) / 2 ≈ 0.316`` of the best
phase-2 gain any selection could add to the phase-1 set within the remaining budget. The bound
says nothing about phase 1, nor about the steps where phase 2 must insert a practice item to
keep the practice share, so every result also carries an *a posteriori* certificate: the LP
relaxation of the MILP is an upper bound on the optimum, and ``Selection.bound`` reports it.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import csr_matrix

__all__ = [
    "GREEDY_PHASE2_BOUND",
    "PathProblem",
    "Selection",
    "credited_gain",
    "evaluate",
    "lp_upper_bound",
    "problem_violations",
    "solve_exact",
    "solve_greedy",
    "solve_milp",
]

#: Worst-case ratio of the greedy's phase-2 gain to the best phase-2 gain (see module docstring).
GREEDY_PHASE2_BOUND = (1.0 - 1.0 / np.e) / 2.0
_TOLERANCE = 1e-6


@dataclass(frozen=True)
class PathProblem:
    """One teacher's item-selection problem as plain arrays (no catalog or policy objects).

    Parameters
    ----------
    item_ids, kinds
        Candidate items, already filtered by environment, stage and completion.
    hours
        学时 of each candidate.
    is_online, is_practice
        Which hour pool an item counts towards (policy ``online_kinds`` / ``practice_kinds``).
    gain
        ``(n_items, n_targets)`` expected raw mastery gain of each item on each target.
    covers
        ``(n_items, n_targets)`` boolean: the item develops the target (its catalog weight > 0).
    gaps, importance
        Per target: the diagnosed gap ``1 - mastery`` (gain cap) and the objective weight.
    targets
        Target point codes, in column order.
    min_total_hours, max_total_hours
        The policy total and the total plus the allowed slack.
    min_practice_hours, min_practice_share, min_online_hours
        Policy minima; the share is taken of the plan's own total.
    fixed
        Items that must be selected (already completed this cycle), or ``None``.
    hours_penalty
        Objective cost per hour; keeps the plan short when gain is tied.
    """

    item_ids: list[str]
    kinds: list[str]
    hours: NDArray[np.float64]
    is_online: NDArray[np.bool_]
    is_practice: NDArray[np.bool_]
    gain: NDArray[np.float64]
    covers: NDArray[np.bool_]
    gaps: NDArray[np.float64]
    importance: NDArray[np.float64]
    targets: list[str]
    min_total_hours: float
    max_total_hours: float
    min_practice_hours: float = 0.0
    min_practice_share: float = 0.0
    min_online_hours: float = 0.0
    fixed: NDArray[np.bool_] | None = None
    hours_penalty: float = 1e-4

    @property
    def n_items(self) -> int:
        """Number of candidate items."""
        return len(self.item_ids)

    @property
    def n_targets(self) -> int:
        """Number of target points."""
        return len(self.targets)

    def fixed_mask(self) -> NDArray[np.bool_]:
        """Boolean mask of forced items (all ``False`` when none are fixed)."""
        if self.fixed is None:
            return np.zeros(self.n_items, dtype=bool)
        return np.asarray(self.fixed, dtype=bool)


@dataclass
class Selection:
    """A solver's answer: chosen items, objective value, method and optimality information."""

    chosen: NDArray[np.bool_]
    objective: float
    method: str
    feasible: bool
    bound: float | None = None
    status: str = ""
    credited: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))

    @property
    def gap(self) -> float | None:
        """Relative gap to the upper bound, ``(bound - objective) / max(|bound|, eps)``."""
        if self.bound is None or not self.feasible:
            return None
        return max(0.0, self.bound - self.objective) / max(abs(self.bound), 1e-9)


def credited_gain(raw: NDArray[np.float64], gaps: NDArray[np.float64]) -> NDArray[np.float64]:
    """Concave credited gain ``phi`` of raw gains (works on ``(..., n_targets)`` arrays)."""
    half = gaps / 2.0
    first = np.minimum(raw, half)
    second = np.clip(raw - half, 0.0, half)
    return first + 0.5 * second


def evaluate(problem: PathProblem, chosen: NDArray[np.bool_]) -> float:
    """Objective value of a selection (the same function every solver maximises)."""
    x = np.asarray(chosen, dtype=np.float64)
    credited = credited_gain(x @ problem.gain, problem.gaps)
    return float(credited @ problem.importance - problem.hours_penalty * (x @ problem.hours))


def problem_violations(problem: PathProblem, chosen: NDArray[np.bool_]) -> list[str]:
    """Names of the hard constraints a selection breaks (empty when feasible)."""
    x = np.asarray(chosen, dtype=bool)
    hours = float(problem.hours[x].sum())
    practice = float(problem.hours[x & problem.is_practice].sum())
    online = float(problem.hours[x & problem.is_online].sum())
    broken: list[str] = []
    if hours < problem.min_total_hours - _TOLERANCE:
        broken.append("total_hours")
    if hours > problem.max_total_hours + _TOLERANCE:
        broken.append("max_total_hours")
    if practice < problem.min_practice_hours - _TOLERANCE:
        broken.append("min_practice_hours")
    if practice < problem.min_practice_share * hours - _TOLERANCE:
        broken.append("min_practice_share")
    if online < problem.min_online_hours - _TOLERANCE:
        broken.append("min_online_hours")
    covered = problem.covers[x].any(axis=0) if x.any() else np.zeros(problem.n_targets, bool)
    practised = (
        problem.covers[x & problem.is_practice].any(axis=0)
        if (x & problem.is_practice).any()
        else np.zeros(problem.n_targets, bool)
    )
    if not covered.all():
        broken.append("target_coverage")
    if not practised.all():
        broken.append("practice_coverage")
    if (problem.fixed_mask() & ~x).any():
        broken.append("completed_items")
    return broken


def _milp_arrays(
    problem: PathProblem,
) -> tuple[NDArray[np.float64], LinearConstraint, Bounds, NDArray[np.int_]]:
    """Objective, constraints, bounds and integrality of the MILP (variables: x, y1, y2)."""
    n, t = problem.n_items, problem.n_targets
    hours = problem.hours.astype(np.float64)
    practice = np.where(problem.is_practice, hours, 0.0)
    online = np.where(problem.is_online, hours, 0.0)
    zeros_t = np.zeros(2 * t)
    rows: list[NDArray[np.float64]] = []
    lower: list[float] = []
    upper: list[float] = []

    def add(coefficients: NDArray[np.float64], lo: float, hi: float) -> None:
        rows.append(coefficients)
        lower.append(lo)
        upper.append(hi)

    add(np.concatenate([hours, zeros_t]), problem.min_total_hours, problem.max_total_hours)
    add(np.concatenate([practice, zeros_t]), problem.min_practice_hours, np.inf)
    add(np.concatenate([practice - problem.min_practice_share * hours, zeros_t]), 0.0, np.inf)
    add(np.concatenate([online, zeros_t]), problem.min_online_hours, np.inf)
    for j in range(t):
        add(np.concatenate([problem.covers[:, j].astype(float), zeros_t]), 1.0, np.inf)
        practised = (problem.covers[:, j] & problem.is_practice).astype(float)
        add(np.concatenate([practised, zeros_t]), 1.0, np.inf)
        # y1_j + y2_j <= sum_i gain_ij x_i  (credited gain cannot exceed raw gain)
        link = np.zeros(n + 2 * t)
        link[:n] = -problem.gain[:, j]
        link[n + j] = 1.0
        link[n + t + j] = 1.0
        add(link, -np.inf, 0.0)
    matrix = csr_matrix(np.vstack(rows))
    constraints = LinearConstraint(matrix, np.array(lower), np.array(upper))
    half = problem.gaps / 2.0
    x_lower = problem.fixed_mask().astype(float)
    bounds = Bounds(
        np.concatenate([x_lower, np.zeros(2 * t)]),
        np.concatenate([np.ones(n), half, half]),
    )
    cost = np.concatenate(
        [problem.hours_penalty * hours, -problem.importance, -0.5 * problem.importance]
    )
    integrality = np.concatenate([np.ones(n, dtype=int), np.zeros(2 * t, dtype=int)])
    return cost, constraints, bounds, integrality


def lp_upper_bound(problem: PathProblem) -> float | None:
    """Optimum of the LP relaxation: an upper bound on any feasible selection's objective."""
    cost, constraints, bounds, integrality = _milp_arrays(problem)
    result = milp(cost, constraints=constraints, bounds=bounds, integrality=0 * integrality)
    if result.status != 0 or result.fun is None:
        return None
    return float(-result.fun)


def solve_milp(
    problem: PathProblem, time_limit: float = 10.0, mip_rel_gap: float = 1e-6
) -> Selection:
    """Solve the selection exactly (up to ``mip_rel_gap``) with HiGHS branch-and-cut.

    Returns an infeasible :class:`Selection` (``feasible=False``) instead of raising, so the
    caller can explain which rule failed.
    """
    cost, constraints, bounds, integrality = _milp_arrays(problem)
    result = milp(
        cost,
        constraints=constraints,
        bounds=bounds,
        integrality=integrality,
        options={"time_limit": time_limit, "mip_rel_gap": mip_rel_gap, "disp": False},
    )
    if result.x is None:
        return Selection(
            chosen=np.zeros(problem.n_items, dtype=bool),
            objective=float("-inf"),
            method="milp",
            feasible=False,
            status=str(result.message),
        )
    chosen = result.x[: problem.n_items] > 0.5
    bound = getattr(result, "mip_dual_bound", None)
    return _finish(problem, chosen, "milp", str(result.message), None if bound is None else -bound)


def _finish(
    problem: PathProblem, chosen: NDArray[np.bool_], method: str, status: str, bound: float | None
) -> Selection:
    feasible = not problem_violations(problem, chosen)
    raw = chosen.astype(float) @ problem.gain
    return Selection(
        chosen=chosen,
        objective=evaluate(problem, chosen) if feasible else float("-inf"),
        method=method,
        feasible=feasible,
        bound=bound,
        status=status,
        credited=credited_gain(raw, problem.gaps),
    )


def _marginal(problem: PathProblem, raw: NDArray[np.float64]) -> NDArray[np.float64]:
    """Marginal objective of adding each item to a selection with raw gains ``raw``."""
    before = credited_gain(raw, problem.gaps) @ problem.importance
    after = credited_gain(raw[None, :] + problem.gain, problem.gaps) @ problem.importance
    return after - before - problem.hours_penalty * problem.hours


def _greedy_run(problem: PathProblem, by_ratio: bool) -> NDArray[np.bool_]:
    chosen = problem.fixed_mask().copy()
    hours = problem.hours

    def raw() -> NDArray[np.float64]:
        return chosen.astype(float) @ problem.gain

    def pick(candidates: NDArray[np.bool_]) -> int | None:
        candidates = candidates & ~chosen
        candidates &= hours[chosen].sum() + hours <= problem.max_total_hours + _TOLERANCE
        if not candidates.any():
            return None
        score = _marginal(problem, raw())
        if by_ratio:
            score = score / np.maximum(hours, 1e-9)
        score = np.where(candidates, score, -np.inf)
        return int(np.argmax(score))

    def take(mask: NDArray[np.bool_]) -> bool:
        index = pick(mask)
        if index is None:
            return False
        chosen[index] = True
        return True

    # Phase 1: feasibility first — practice coverage implies coverage, then the hour minima.
    for j in range(problem.n_targets):
        if not (chosen & problem.covers[:, j] & problem.is_practice).any():
            take(problem.covers[:, j] & problem.is_practice)
    target_practice = max(
        problem.min_practice_hours, problem.min_practice_share * problem.min_total_hours
    )
    while hours[chosen & problem.is_online].sum() < problem.min_online_hours - _TOLERANCE:
        if not take(problem.is_online.copy()):
            break
    while hours[chosen & problem.is_practice].sum() < target_practice - _TOLERANCE:
        if not take(problem.is_practice.copy()):
            break
    # Phase 2: spend the remaining budget while it helps (or until the total is reached),
    # never letting the practice share fall below the policy share of the final total.
    everything = np.ones(problem.n_items, dtype=bool)
    while True:
        index = pick(everything)
        if index is None:
            break
        total = hours[chosen].sum()
        gain = _marginal(problem, raw())[index]
        if gain <= 0 and total >= problem.min_total_hours - _TOLERANCE:
            break
        trial = chosen.copy()
        trial[index] = True
        practice = hours[trial & problem.is_practice].sum()
        if practice < problem.min_practice_share * hours[trial].sum() - _TOLERANCE:
            practice_only = problem.is_practice & ~chosen
            if not take(practice_only):
                break
            continue
        chosen[index] = True
    return chosen


def solve_greedy(problem: PathProblem) -> Selection:
    """Two-phase greedy (cost-benefit and plain-gain runs, the better kept); see module bound."""
    best: Selection | None = None
    for by_ratio in (True, False):
        candidate = _finish(problem, _greedy_run(problem, by_ratio), "greedy", "", None)
        if best is None or (candidate.feasible, candidate.objective) > (
            best.feasible,
            best.objective,
        ):
            best = candidate
    assert best is not None
    best.bound = lp_upper_bound(problem)
    return best


def solve_exact(problem: PathProblem, max_items: int = 18) -> Selection:
    """Enumerate every subset (``2**n_items``) and return the true optimum; tiny cases only."""
    n = problem.n_items
    if n > max_items:
        raise ValueError(f"solve_exact enumerates 2**{n} subsets; use at most {max_items} items")
    best_objective, best_mask = float("-inf"), np.zeros(n, dtype=bool)
    chunk = 1 << min(n, 14)
    codes = np.arange(1 << n, dtype=np.int64)
    bits = 1 << np.arange(n, dtype=np.int64)
    for start in itertools.count(0, chunk):
        if start >= len(codes):
            break
        masks = (codes[start : start + chunk, None] & bits) > 0
        masks = masks[_feasible_rows(problem, masks)]
        if not len(masks):
            continue
        x = masks.astype(np.float64)
        values = credited_gain(x @ problem.gain, problem.gaps) @ problem.importance
        values -= problem.hours_penalty * (x @ problem.hours)
        best = int(np.argmax(values))
        if values[best] > best_objective:
            best_objective, best_mask = float(values[best]), masks[best].copy()
    return _finish(problem, best_mask, "exact", "enumerated", best_objective)


def _feasible_rows(problem: PathProblem, masks: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """Vectorised feasibility of many selections at once (rows of ``masks``)."""
    x = masks.astype(np.float64)
    hours = x @ problem.hours
    practice = x @ np.where(problem.is_practice, problem.hours, 0.0)
    online = x @ np.where(problem.is_online, problem.hours, 0.0)
    covered = (x @ problem.covers.astype(float)) >= 1
    practised = (x @ (problem.covers & problem.is_practice[:, None]).astype(float)) >= 1
    ok = (hours >= problem.min_total_hours - _TOLERANCE) & (
        hours <= problem.max_total_hours + _TOLERANCE
    )
    ok &= practice >= problem.min_practice_hours - _TOLERANCE
    ok &= practice >= problem.min_practice_share * hours - _TOLERANCE
    ok &= online >= problem.min_online_hours - _TOLERANCE
    ok &= covered.all(axis=1) & practised.all(axis=1)
    ok &= ~(problem.fixed_mask()[None, :] & ~masks).any(axis=1)
    return ok
