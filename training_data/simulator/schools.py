"""Schools: where they are, how equipped, how large, which points they chose (整校推进).

Everything here is drawn once per province from the province-level random stream, so the school
table does not depend on how teachers are later split into chunks.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from competency_model.errors import InfeasibleError
from competency_model.framework import Framework
from training_data.simulator.config import SimulatorConfig
from training_data.simulator.geography import CITIES, SCHOOL_TYPES, urban_probability
from training_data.simulator.ids import format_ids

__all__ = ["allocate_school_sizes", "point_environment_ranks", "simulate_schools"]


def point_environment_ranks(framework: Framework) -> NDArray[np.int64]:
    """0/1/2 for each point's environment (multimedia/blended/smart), in ``framework.codes`` order."""
    order = {"multimedia": 0, "blended": 1, "smart": 2}
    return np.array([order[framework.point(c).environment] for c in framework.codes])


def allocate_school_sizes(
    n_teachers: int, n_schools: int, rng: np.random.Generator, config: SimulatorConfig
) -> NDArray[np.int64]:
    """Draw school sizes within [min, max] that add up to exactly ``n_teachers``.

    Sizes are log-normal, rescaled towards the requested total with the bounds enforced at each
    step, then rounded by largest remainder; the last few teachers go to schools not yet at a
    bound.

    Raises
    ------
    InfeasibleError
        If ``n_teachers / n_schools`` lies outside the allowed school sizes.
    """
    low, high = config.min_school_size, config.max_school_size
    if n_schools < 1 or not low * n_schools <= n_teachers <= high * n_schools:
        raise InfeasibleError(
            f"{n_teachers} teachers cannot fill {n_schools} schools of {low}–{high} teachers; "
            f"use between {max(1, -(-n_teachers // high))} and {n_teachers // low} schools"
        )
    raw = rng.lognormal(config.school_size_log_mean, config.school_size_log_sd, n_schools)
    sizes = np.clip(raw, low, high)
    for _ in range(50):
        free = (sizes > low) & (sizes < high)
        gap = n_teachers - sizes.sum()
        if abs(gap) < 0.5 or not free.any():
            break
        sizes[free] *= 1 + gap / sizes[free].sum()
        sizes = np.clip(sizes, low, high)
    whole = np.floor(sizes).astype(np.int64)
    remainder = n_teachers - int(whole.sum())
    order = np.argsort(-(sizes - whole), kind="stable")
    step = 1 if remainder > 0 else -1
    position = 0
    while remainder != 0:
        index = order[position % n_schools]
        if low <= whole[index] + step <= high:
            whole[index] += step
            remainder -= step
        position += 1
    return whole


def _choose_points(
    environment: NDArray[np.int64],
    point_env: NDArray[np.int64],
    rng: np.random.Generator,
    config: SimulatorConfig,
) -> NDArray[np.bool_]:
    """Each school's 3–5 points: feasible for its environment, favouring its newest equipment."""
    n_schools, n_points = environment.size, point_env.size
    feasible = point_env[None, :] <= environment[:, None]
    appeal = 0.8 * (point_env[None, :] == environment[:, None]) + rng.gumbel(
        size=(n_schools, n_points)
    )
    appeal = np.where(feasible, appeal, -np.inf)
    count = rng.integers(config.school_points_min, config.school_points_max + 1, n_schools)
    rank = np.argsort(np.argsort(-appeal, axis=1, kind="stable"), axis=1, kind="stable")
    return (rank < count[:, None]) & feasible


def simulate_schools(
    n_teachers: int,
    n_schools: int,
    rng: np.random.Generator,
    config: SimulatorConfig,
    framework: Framework,
) -> pd.DataFrame:
    """The ``schools`` table plus helper columns ``school_type`` and ``development``.

    Environment depends on urban/rural and the city's development; early rollout batches take
    the better-equipped schools first, as provinces did with their pilot schools.
    """
    sizes = allocate_school_sizes(n_teachers, n_schools, rng, config)
    city_names = list(CITIES)
    development = np.array([CITIES[c][0] for c in city_names])
    city_weight = 0.5 + development
    city = rng.choice(len(city_names), n_schools, p=city_weight / city_weight.sum())
    district = np.empty(n_schools, dtype=object)
    urban = np.zeros(n_schools, dtype=bool)
    for index, name in enumerate(city_names):  # 13 cities: a loop over cities, not schools
        members = np.flatnonzero(city == index)
        districts = CITIES[name][1]
        picked = rng.integers(0, len(districts), members.size)
        district[members] = [districts[p] for p in picked]
        p_urban = np.array([urban_probability(d, development[index]) for d in districts])[picked]
        urban[members] = rng.random(members.size) < p_urban
    dev = development[city]
    probs = np.where(urban[:, None], config.environment_probs_urban, config.environment_probs_rural)
    tilt = np.stack([1 - 0.6 * (dev - 0.5), np.ones(n_schools), 1 + 1.2 * (dev - 0.5)], axis=1)
    probs = probs * tilt
    probs /= probs.sum(axis=1, keepdims=True)
    environment = (rng.random(n_schools)[:, None] > np.cumsum(probs, axis=1)).sum(axis=1)
    environment = np.minimum(environment, 2)
    type_names = list(SCHOOL_TYPES)
    type_share = np.array([SCHOOL_TYPES[t][0] for t in type_names])
    school_type = rng.choice(len(type_names), n_schools, p=type_share / type_share.sum())
    # pilot batch 1 leans to equipped schools: sort a noisy readiness score into 20/40/40
    readiness = environment + 0.5 * urban + rng.normal(0, 0.8, n_schools)
    cut = np.cumsum(config.rollout_shares)[:-1] * n_schools
    rank = np.argsort(np.argsort(-readiness, kind="stable"), kind="stable")
    batch = 1 + (rank[:, None] >= cut[None, :]).sum(axis=1)
    point_env = point_environment_ranks(framework)
    chosen = _choose_points(environment, point_env, rng, config)
    codes = np.array(framework.codes, dtype=object)
    chosen_text = [";".join(codes[row]) for row in chosen]
    return pd.DataFrame(
        {
            "school_id": format_ids("S", np.arange(1, n_schools + 1), 6),
            "region": config.region,
            "city": np.array(city_names, dtype=object)[city],
            "district": district,
            "urban_rural": np.where(urban, "urban", "rural"),
            "environment": np.array(config.environments, dtype=object)[environment],
            "n_teachers": sizes,
            "chosen_points": chosen_text,
            "rollout_batch": batch.astype(np.int64),
            "school_type": np.array(type_names, dtype=object)[school_type],
            "development": dev,
        }
    )
