"""Latent ability over the points, mastery, and how learning moves it.

For teacher *t* in school *s* and research group *g*, the ability on point *k* is

    θ_tk = E[s, env(k)] + urban·u + Stage[stage_t, env(k)] + Y[env(k)]·(years_t − 15)/10
           + ict·[ICT teacher] + a_s + c_g + ε_tk,

    ε_t = √λ · z_t · 1 + √(1−λ) · L η_t,   η_t ~ N(0, I),   L Lᵀ = R,

where R is the correlation matrix of the Gaussian Markov random field with precision
(Laplacian(A) + ρ I), A the framework graph's weighted adjacency: points joined by an edge
(A1–B1–C1, A11–A12, …) co-vary more than unrelated ones. Mastery is θ_tk > b_k.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from competency_model.framework import Framework
from competency_model.graph import CompetencyGraph
from training_data.simulator.config import SimulatorConfig

__all__ = [
    "ICT_SUBJECTS",
    "graph_correlation",
    "learning_gain",
    "point_difficulty",
    "sample_latent",
]

ICT_SUBJECTS = frozenset({"信息科技", "信息技术", "计算机应用"})


def graph_correlation(framework: Framework, ridge: float) -> NDArray[np.float64]:
    """Correlation matrix of the GMRF with precision Laplacian(adjacency) + ridge·I."""
    adjacency = CompetencyGraph(framework).adjacency_matrix()
    laplacian = np.diag(adjacency.sum(axis=1)) - adjacency
    covariance = np.linalg.inv(laplacian + ridge * np.eye(adjacency.shape[0]))
    scale = 1.0 / np.sqrt(np.diag(covariance))
    return covariance * scale[:, None] * scale[None, :]


def point_difficulty(
    point_env: NDArray[np.int64], rng: np.random.Generator, config: SimulatorConfig
) -> NDArray[np.float64]:
    """Threshold b_k: an environment baseline plus a small per-point jitter."""
    base = np.asarray(config.difficulty_by_environment)[point_env]
    return base + rng.normal(0.0, config.difficulty_jitter_sd, point_env.size)


def sample_latent(
    fixed_effects: NDArray[np.float64],
    school_of: NDArray[np.int64],
    group_of: NDArray[np.int64],
    n_groups: int,
    correlation_factor: NDArray[np.float64],
    rng: np.random.Generator,
    config: SimulatorConfig,
) -> NDArray[np.float64]:
    """Add school, research-group and correlated teacher noise to the covariate part.

    Parameters
    ----------
    fixed_effects
        teachers × points covariate contribution.
    school_of, group_of
        Chunk-local school and research-group index per teacher.
    correlation_factor
        Cholesky factor of :func:`graph_correlation`.
    """
    n_teachers, n_points = fixed_effects.shape
    n_schools = int(school_of.max()) + 1 if school_of.size else 0
    school_effect = rng.normal(0.0, config.school_effect_sd, n_schools)
    group_effect = rng.normal(0.0, config.research_group_effect_sd, n_groups)
    general = np.asarray(rng.standard_normal(n_teachers), dtype=np.float64)
    specific = rng.standard_normal((n_teachers, n_points)) @ correlation_factor.T
    share = config.general_factor_share
    noise = np.sqrt(share) * general[:, None] + np.sqrt(1.0 - share) * specific
    return (
        fixed_effects + school_effect[school_of][:, None] + group_effect[group_of][:, None] + noise
    )


def learning_gain(
    dose_hours: NDArray[np.float64],
    learning_rate: NDArray[np.float64],
    transfer: NDArray[np.float64],
    config: SimulatorConfig,
) -> NDArray[np.float64]:
    """Rise in ability from study: saturating in 学时, plus spill-over to graph neighbours.

    Δθ_tk = G · r_t · (1 − exp(−D_tk / h0)) and then Δθ ← Δθ + τ · Δθ · T, with T the
    row-normalised adjacency. Δθ ≥ 0, so mastery at the end is never below the initial mastery.
    """
    direct = (
        config.gain_max
        * learning_rate[:, None]
        * (1.0 - np.exp(-dose_hours / config.gain_scale_hours))
    )
    return direct + config.neighbour_transfer * direct @ transfer
