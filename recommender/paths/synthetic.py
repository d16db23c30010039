"""Small random selection problems for checking the solvers against brute force.

The tests and ``bench/bench_paths.py`` draw the same instances, so the gap the benchmark reports
is measured on exactly the kind of problem the tests prove the MILP optimal on.
"""

from __future__ import annotations

import numpy as np

from recommender.paths.optimiser import PathProblem

__all__ = ["random_problem"]


def random_problem(seed: int, n_items: int = 14, n_targets: int = 3) -> PathProblem:
    """A random instance with overlapping items, feasible by construction.

    Every item covers its own target (``item % n_targets``) and maybe others; half the items are
    practice tasks, and the hour bounds (20–24 h, ≥10 h practice, ≥6 h online) leave room for
    several optimal-looking selections, which is what separates the greedy from the MILP.

    Parameters
    ----------
    seed
        Seed of the instance; the same seed gives the same problem.
    n_items, n_targets
        Candidate items (even, so kinds split evenly) and target points.

    Examples
    --------
    >>> random_problem(0).n_items
    14
    """
    rng = np.random.default_rng(seed)
    kinds = np.array(["online_video", "practice"] * (n_items // 2))
    rng.shuffle(kinds)
    practice = kinds == "practice"
    hours = rng.choice([2.0, 3.0, 4.0, 5.0, 6.0], n_items)
    covers = rng.random((n_items, n_targets)) < 0.3
    covers[np.arange(n_items), np.arange(n_items) % n_targets] = True
    weights = covers * rng.random((n_items, n_targets))
    weights /= weights.sum(axis=1, keepdims=True)
    gain = weights * (np.where(practice, 0.06, 0.04) * hours)[:, None]
    gaps = rng.uniform(0.2, 0.9, n_targets)
    return PathProblem(
        item_ids=[f"I{i}" for i in range(n_items)],
        kinds=list(kinds),
        hours=hours,
        is_online=~practice,
        is_practice=practice,
        gain=gain,
        covers=covers,
        gaps=gaps,
        importance=gaps.copy(),
        targets=[f"P{j}" for j in range(n_targets)],
        min_total_hours=20.0,
        max_total_hours=24.0,
        min_practice_hours=10.0,
        min_practice_share=0.5,
        min_online_hours=6.0,
    )
