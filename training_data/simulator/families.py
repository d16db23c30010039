"""Simulator families: the same province skeleton under different generative assumptions.

A method that only wins under the assumptions it was built on has not shown much. Each family
keeps schools, teachers, the questionnaire, timing and the truth tables of the ``graph`` family
(the original simulator) and changes one assumption that a recommender or a diagnosis could
silently rely on (see ``docs/simulator.md``):

``graph``
    Abilities co-vary along the framework's competency graph, learning spills over to graph
    neighbours, teachers choose courses mostly by need.
``latent``
    Abilities come from a few latent skills with random loadings: no graph structure in the
    correlation and no spill-over along graph edges.
``mandate``
    Each school mandates a short list of courses; teachers follow the mandate and their 教研组
    far more than their own needs, and finish mandated courses more often.
``quality``
    Choice and completion depend on a course's unobserved quality and on its position in the
    platform's course list (position bias); the hidden popularity draw plays no part.
``in_progress``
    The export is taken mid-cycle: enrolments still running on the export day are 学习中
    (progress without completion), later events do not exist, truth is the state on that day.

Family-specific draws use their own stream ``default_rng([seed, 2])`` so the ``graph`` family
is byte-identical to the simulator before families existed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from training_data.simulator.config import FAMILIES, SimulatorConfig

__all__ = ["FAMILIES", "FamilyEffects", "build_family", "latent_correlation"]


@dataclass(frozen=True)
class FamilyEffects:
    """What a family changes, resolved once per province.

    Attributes
    ----------
    choice_config
        The config the choice model sees (the family's weights in place of the defaults).
    correlation
        Correlation matrix of the point-specific ability noise (points × points).
    spill_over
        Whether learning transfers to graph neighbours.
    mandated
        Schools × catalog items, the school's mandated courses (``mandate`` only).
    item_utility, item_completion
        Per catalog item, added to the course utility and to the completion logit.
    export_day
        Day (after ``cycle_start``) the data were exported; ``None`` = after the cycle.
    display_rank
        Per catalog item, its position in the platform's course list (``quality`` only; −1 for
        practice tasks).
    """

    choice_config: SimulatorConfig
    correlation: NDArray[np.float64]
    spill_over: bool
    mandated: NDArray[np.bool_] | None
    item_utility: NDArray[np.float64] | None
    item_completion: NDArray[np.float64] | None
    export_day: float | None
    display_rank: NDArray[np.int64] | None = None


def latent_correlation(
    n_points: int, rank: int, uniqueness: float, rng: np.random.Generator
) -> NDArray[np.float64]:
    """R = (1 − u)·Λ Λᵀ + u·I with unit-norm random rows of Λ (points × rank): a correlation.

    Loadings are |N(0, 1)| on one skill the point mostly belongs to plus N(0, 0.5²) on the
    others, so points cluster into ``rank`` skills that have nothing to do with the graph.
    """
    loadings = rng.normal(0.0, 0.5, (n_points, rank))
    home = rng.integers(0, rank, n_points)
    loadings[np.arange(n_points), home] = np.abs(rng.normal(1.5, 0.5, n_points))
    loadings /= np.linalg.norm(loadings, axis=1, keepdims=True)
    return (1.0 - uniqueness) * loadings @ loadings.T + uniqueness * np.eye(n_points)


def _mandated_courses(
    schools: pd.DataFrame,
    codes: list[str],
    online: NDArray[np.bool_],
    environment: NDArray[np.int64],
    primary: NDArray[np.int64],
    popularity: NDArray[np.float64],
    n_courses: int,
    environments: tuple[str, str, str],
    rng: np.random.Generator,
) -> NDArray[np.bool_]:
    """Schools × items: the ``n_courses`` hosted online courses each school mandates.

    A school favours courses on its chosen points (+2) and popular ones, with Gumbel noise.
    """
    column = {c: j for j, c in enumerate(codes)}
    chosen = np.zeros((len(schools), len(codes)), dtype=bool)
    for row, text in enumerate(schools["chosen_points"]):  # one pass over schools
        chosen[row, [column[c] for c in text.split(";") if c]] = True
    env_rank = {e: i for i, e in enumerate(environments)}
    school_env = schools["environment"].map(env_rank).to_numpy().astype(np.int64)
    hosted = (environment[None, :] <= school_env[:, None]) & online[None, :]
    score = (
        2.0 * chosen[:, primary]
        + popularity[None, :]
        + rng.gumbel(size=(len(schools), online.size))
    )
    score = np.where(hosted, score, -np.inf)
    k = min(n_courses, int(online.sum()))
    if k == 0:
        return np.zeros(score.shape, dtype=bool)
    top = np.argpartition(-score, k - 1, axis=1)[:, :k]
    mandated = np.zeros(score.shape, dtype=bool)
    np.put_along_axis(mandated, top, True, axis=1)
    return mandated & np.isfinite(score)


def build_family(
    config: SimulatorConfig,
    seed: int,
    graph_correlation: NDArray[np.float64],
    schools: pd.DataFrame,
    codes: list[str],
    catalog: object,
) -> FamilyEffects:
    """Resolve ``config.family`` into the switches the engine applies.

    ``catalog`` is the engine's :class:`~training_data.simulator.choices.CatalogArrays` (typed
    loosely to keep this module free of the choice model).
    """
    rng = np.random.default_rng([seed, 2])
    family = config.family
    effects = FamilyEffects(config, graph_correlation, True, None, None, None, None)
    if family == "latent":
        correlation = latent_correlation(
            len(codes), config.latent_rank, config.latent_uniqueness, rng
        )
        return FamilyEffects(config, correlation, False, None, None, None, None)
    if family == "mandate":
        mandated = _mandated_courses(
            schools,
            codes,
            catalog.online,  # type: ignore[attr-defined]
            catalog.environment,  # type: ignore[attr-defined]
            catalog.primary,  # type: ignore[attr-defined]
            catalog.popularity,  # type: ignore[attr-defined]
            config.mandate_courses,
            config.environments,
            rng,
        )
        choice = config.model_copy(
            update={
                "weight_need": config.mandate_need_weight,
                "weight_school_recommended": config.mandate_weight,
                "weight_peer_group": config.mandate_peer_group_weight,
                "weight_peer_school": config.mandate_peer_school_weight,
            }
        )
        return FamilyEffects(choice, graph_correlation, True, mandated, None, None, None)
    if family == "quality":
        quality = catalog.quality  # type: ignore[attr-defined]
        online = catalog.online  # type: ignore[attr-defined]
        # the platform's list order (upload date, say): the same for every teacher
        display_rank = np.full(online.size, -1, dtype=np.int64)
        display_rank[online] = rng.permutation(int(online.sum()))
        utility = config.quality_choice_weight * quality - config.position_bias * np.log2(
            2.0 + np.maximum(display_rank, 0) / 10.0
        )
        choice = config.model_copy(update={"weight_popularity": 0.0})
        return FamilyEffects(
            choice,
            graph_correlation,
            True,
            None,
            np.where(online, utility, 0.0),
            config.quality_completion_weight * quality,
            None,
            display_rank,
        )
    if family == "in_progress":
        return FamilyEffects(config, graph_correlation, True, None, None, None, config.export_day)
    return effects
