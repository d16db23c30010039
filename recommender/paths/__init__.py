"""Learning paths: target points, optimal item selection, weekly schedule and evidence.

Public entry point: :func:`build_learning_path` (see ``docs/paths.md`` for the formulation).
"""

from recommender.paths.builder import PreparedPath, build_learning_path, prepare_path
from recommender.paths.evidence import evidence_for
from recommender.paths.gain import GainModel
from recommender.paths.optimiser import (
    GREEDY_PHASE2_BOUND,
    PathProblem,
    Selection,
    solve_exact,
    solve_greedy,
    solve_milp,
)
from recommender.paths.schedule import ScheduledItem, schedule_items
from recommender.paths.targets import TargetChoice, choose_targets

__all__ = [
    "GREEDY_PHASE2_BOUND",
    "GainModel",
    "PathProblem",
    "PreparedPath",
    "ScheduledItem",
    "Selection",
    "TargetChoice",
    "build_learning_path",
    "choose_targets",
    "evidence_for",
    "prepare_path",
    "schedule_items",
    "solve_exact",
    "solve_greedy",
    "solve_milp",
]
