"""Fixtures for the diagnosis tests: real datasets (skipped when absent) and a small province."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from scipy.special import expit

from competency_model.errors import DatasetError


def _load(name: str) -> tuple[np.ndarray, np.ndarray]:
    from training_data import datasets

    try:
        return getattr(datasets, f"load_{name}")()
    except DatasetError as error:
        pytest.skip(f"{name} not available ({error.message})")


@pytest.fixture(scope="session")
def frcsub() -> tuple[np.ndarray, np.ndarray]:
    """FrcSub responses (536 x 20) and Q-matrix (20 x 8)."""
    return _load("frcsub")


@pytest.fixture(scope="session")
def ecpe() -> tuple[np.ndarray, np.ndarray]:
    """ECPE responses (2922 x 28) and Q-matrix (28 x 3)."""
    return _load("ecpe")


@pytest.fixture(scope="session")
def frcsub_dina(frcsub: tuple[np.ndarray, np.ndarray]) -> Any:
    """DINA fitted on FrcSub (fixed start)."""
    from recommender.diagnosis.dina import DINA

    x, q = frcsub
    return DINA(random_state=0).fit(x, q)


def simulate_higher_order(
    n: int, seed: int, n_points: int = 8, n_multi: int = 6
) -> dict[str, np.ndarray]:
    """Responses from a known higher-order DINA: one binary and one 4-category item per point
    plus ``n_multi`` binary items on 2 points."""
    rng = np.random.default_rng(seed)
    single = np.eye(n_points, dtype=np.int8)
    multi = np.zeros((n_multi, n_points), dtype=np.int8)
    for row in multi:
        row[rng.choice(n_points, 2, replace=False)] = 1
    q = np.vstack([single, single, multi])
    cats = np.array([2] * n_points + [4] * n_points + [2] * n_multi)
    theta = rng.standard_normal(n)
    slope = rng.uniform(1.0, 2.0, n_points)
    intercept = rng.uniform(-1.0, 1.0, n_points)
    alpha = (rng.random((n, n_points)) < expit(theta[:, None] * slope + intercept)).astype(np.int8)
    eta = (alpha.astype(int) @ q.T) == q.sum(axis=1)
    guess = rng.uniform(0.1, 0.25, len(q))
    slip = rng.uniform(0.05, 0.2, len(q))
    rating_master = np.array([0.05, 0.15, 0.4, 0.4])
    rating_other = np.array([0.35, 0.4, 0.2, 0.05])
    x = np.empty((n, len(q)))
    for j in range(len(q)):
        if cats[j] == 2:
            x[:, j] = rng.random(n) < np.where(eta[:, j], 1 - slip[j], guess[j])
        else:
            draw_m = rng.choice(4, n, p=rating_master)
            draw_o = rng.choice(4, n, p=rating_other)
            x[:, j] = np.where(eta[:, j], draw_m, draw_o)
    return {
        "x": x,
        "q": q,
        "cats": cats,
        "alpha": alpha,
        "guess": guess,
        "slip": slip,
        "slope": slope,
        "intercept": intercept,
    }


@pytest.fixture(scope="session")
def ho_data() -> dict[str, np.ndarray]:
    """A seeded higher-order DINA sample (2000 teachers, 8 points)."""
    return simulate_higher_order(2000, seed=11)


@pytest.fixture(scope="session")
def small_province() -> Any:
    """A simulated province of 600 teachers with truth."""
    from training_data.simulator import simulate_province

    return simulate_province(600, 8, seed=3)


@pytest.fixture(scope="session")
def fitted_diagnosis(small_province: Any) -> Any:
    """DiagnosisModel fitted on :func:`small_province` with the shipped bank and catalog."""
    from competency_model.catalog import load_catalog
    from competency_model.framework import default_framework
    from competency_model.item_bank import load_item_bank
    from recommender.diagnosis.model import DiagnosisModel

    framework = default_framework()
    return DiagnosisModel(random_state=0, max_iter=60).fit(
        small_province, load_item_bank(framework=framework), framework, load_catalog()
    )


@pytest.fixture(autouse=True, scope="session")
def _single_blas_thread() -> Any:
    """The matrices here are small; on a shared 2-core machine BLAS threads only contend."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        yield
