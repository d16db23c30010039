"""The selection MILP against brute force, and the greedy heuristic against both."""

from __future__ import annotations

import numpy as np
import pytest

from recommender.paths.optimiser import (
    GREEDY_PHASE2_BOUND,
    PathProblem,
    credited_gain,
    evaluate,
    problem_violations,
    solve_exact,
    solve_greedy,
    solve_milp,
)
from recommender.paths.synthetic import random_problem


def test_credited_gain_is_concave_and_capped_at_the_gap() -> None:
    gaps = np.array([0.6])
    raw = np.array([[0.0], [0.3], [0.6], [0.9], [2.0]])
    assert credited_gain(raw, gaps)[:, 0].tolist() == pytest.approx([0, 0.3, 0.45, 0.45, 0.45])


@pytest.mark.parametrize("seed", range(8))
def test_milp_matches_brute_force_optimum(seed: int) -> None:
    problem = random_problem(seed)
    exact, milp = solve_exact(problem), solve_milp(problem)
    assert exact.feasible and milp.feasible
    assert milp.objective == pytest.approx(exact.objective, rel=1e-6, abs=1e-9)
    assert problem_violations(problem, milp.chosen) == []


@pytest.mark.parametrize("seed", range(8))
def test_greedy_is_feasible_and_within_its_bound(seed: int) -> None:
    problem = random_problem(seed)
    exact, greedy = solve_exact(problem), solve_greedy(problem)
    assert greedy.feasible
    assert greedy.objective <= exact.objective + 1e-9
    assert greedy.objective >= GREEDY_PHASE2_BOUND * exact.objective
    # the LP relaxation really bounds the optimum from above
    assert greedy.bound is not None and greedy.bound >= exact.objective - 1e-9


def test_mean_greedy_gap_is_small_on_small_cases() -> None:
    """Measured, not assumed: the mean relative gap of greedy vs the exact optimum."""
    gaps = []
    for seed in range(20):
        problem = random_problem(seed, n_items=12)
        exact, greedy = solve_exact(problem), solve_greedy(problem)
        gaps.append((exact.objective - greedy.objective) / exact.objective)
    assert 0.0 <= float(np.mean(gaps)) < 0.10


def test_infeasible_problem_returns_an_infeasible_selection() -> None:
    base = random_problem(0)
    problem = PathProblem(**{**base.__dict__, "min_online_hours": 1000.0})
    assert not solve_milp(problem).feasible
    assert not solve_exact(problem).feasible
    assert "min_online_hours" in problem_violations(problem, np.ones(problem.n_items, bool))


def test_fixed_items_are_always_selected() -> None:
    base = random_problem(3)
    fixed = np.zeros(base.n_items, dtype=bool)
    fixed[[0, 1]] = True
    problem = PathProblem(**{**base.__dict__, "fixed": fixed})
    for selection in (solve_milp(problem), solve_greedy(problem), solve_exact(problem)):
        assert selection.chosen[[0, 1]].all()


def test_evaluate_penalises_hours() -> None:
    problem = random_problem(1)
    nothing = np.zeros(problem.n_items, dtype=bool)
    assert evaluate(problem, nothing) == 0.0


def test_exact_refuses_large_instances() -> None:
    with pytest.raises(ValueError, match="2\\*\\*30"):
        solve_exact(random_problem(0, n_items=30))
