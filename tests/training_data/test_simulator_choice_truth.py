"""The simulator's choice truth: the same province, and a truth that explains the choices made."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from training_data.simulator import SimulatorConfig, simulate_province
from training_data.simulator.config import FAMILIES
from training_data.simulator.engine import simulate_province_with_choice_truth

N_TEACHERS, N_SCHOOLS, SEED = 240, 3, 4
TABLES = ("teachers", "responses", "grades", "events", "truth_mastery", "truth_preferences")


@pytest.fixture(scope="module", params=FAMILIES)
def simulated(request):
    config = SimulatorConfig(family=request.param)
    plain = simulate_province(N_TEACHERS, N_SCHOOLS, seed=SEED, config=config)
    with_truth, truth = simulate_province_with_choice_truth(
        N_TEACHERS, N_SCHOOLS, seed=SEED, config=config
    )
    return plain, with_truth, truth


def test_keeping_the_truth_does_not_change_the_province(simulated):
    plain, with_truth, _ = simulated
    for name in TABLES:
        pd.testing.assert_frame_equal(getattr(plain, name), getattr(with_truth, name))


def test_truth_covers_every_teacher_and_online_course(simulated):
    plain, _, truth = simulated
    assert truth.teacher_ids.tolist() == plain.teachers["teacher_id"].tolist()
    assert truth.systematic_utility.shape == (N_TEACHERS, truth.item_ids.size)
    assert truth.completion_probability.shape == truth.systematic_utility.shape
    assert np.all((truth.completion_probability > 0) & (truth.completion_probability < 1))
    assert all(item.startswith("CRS-") for item in truth.item_ids.tolist())  # online courses only


def test_courses_taken_have_higher_systematic_utility_than_the_rest(simulated):
    # the choice is the top of V + Gumbel, so the courses a teacher enrolled in must sit well
    # above the hosted courses she did not (a truth detached from the draws would not)
    plain, _, truth = simulated
    enrolled = plain.events[plain.events["event"] == "enrol"]
    row = {t: i for i, t in enumerate(truth.teacher_ids)}
    column = {c: j for j, c in enumerate(truth.item_ids)}
    pairs = enrolled[enrolled["item_id"].isin(column)]
    taken = np.zeros(truth.systematic_utility.shape, dtype=bool)
    taken[pairs["teacher_id"].map(row).to_numpy(), pairs["item_id"].map(column).to_numpy()] = True
    hosted = np.isfinite(truth.systematic_utility)
    gap = truth.systematic_utility[taken].mean() - truth.systematic_utility[hosted & ~taken].mean()
    assert gap > 1.0
