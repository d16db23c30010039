"""The oracle ceiling: ranks by the simulator's own propensities, on the evaluation's holdout."""

from __future__ import annotations

import numpy as np
import pytest

from competency_model.catalog import load_catalog
from competency_model.framework import default_framework
from recommender.evaluation.oracle import ChoiceOracle
from recommender.evaluation.province import evaluate_province, evaluate_recommend
from recommender.evaluation.splits import holdout_users, time_split
from training_data.simulator.choice_truth import ChoiceTruth

SMALL = {"factors": 8, "iterations": 5}


def _truth(utility: list[list[float]], completion: list[list[float]]) -> ChoiceTruth:
    v = np.array(utility, dtype=np.float64)
    return ChoiceTruth(
        teacher_ids=np.array([f"T{i}" for i in range(v.shape[0])]),
        item_ids=np.array([f"CRS-{j}" for j in range(v.shape[1])]),
        systematic_utility=v,
        completion_probability=np.array(completion, dtype=np.float64),
        target_hours=np.full(v.shape[0], 4.0),
        course_hours=np.full(v.shape[1], 2.0),
        max_courses=16,
    )


@pytest.fixture
def truth() -> ChoiceTruth:
    return _truth(
        [[3.0, 0.0, -2.0, 1.0], [-1.0, 2.0, 0.5, -np.inf]],
        [[0.9, 0.9, 0.9, 0.1], [0.5, 0.5, 0.5, 0.5]],
    )


@pytest.mark.parametrize("next_choice", [False, True])
@pytest.mark.parametrize("cold", [False, True])
def test_oracle_orders_by_utility_and_completion(truth, next_choice, cold):
    oracle = ChoiceOracle(truth, draws=2000, next_choice=next_choice, random_state=0)
    items = truth.item_ids
    score = (oracle.cold if cold else oracle.warm)(["T0"], items, np.ones((1, 4), dtype=bool))[0]
    # high utility first; the course a teacher would pick but rarely finish falls behind
    assert score[0] > score[1] > score[2]
    assert score[1] > score[3]


def test_oracle_never_lists_excluded_unhosted_or_unknown_items(truth):
    oracle = ChoiceOracle(truth, draws=50, random_state=0)
    items = np.array(["CRS-0", "CRS-1", "CRS-3", "TSK-9"])
    candidates = np.array([[False, True, True, True], [True, True, True, True]])
    score = oracle.warm(["T0", "T1"], items, candidates)
    assert np.isneginf(score[0, 0])  # excluded (already taken, say)
    assert np.isneginf(score[1, 2])  # the school cannot host it
    assert np.isneginf(score[:, 3]).all()  # not a course the simulator lets anyone choose
    assert np.isfinite(score[0, 1:3]).all()


def test_warm_oracle_spreads_the_held_out_completions(truth):
    # with every course likely finished, about `holdout_items` of them are held out per draw
    oracle = ChoiceOracle(truth, holdout_items=2, draws=4000, random_state=0)
    share = oracle.warm(["T0"], truth.item_ids[:3], np.ones((1, 3), dtype=bool))[0]
    # E[min(2, completed of 3)] with each completed at 0.9
    expected = 2 * (1 - 0.1**3 - 3 * 0.9 * 0.1**2) + 1 * 3 * 0.9 * 0.1**2
    assert share.sum() == pytest.approx(expected, abs=0.03)


def test_oracle_is_deterministic_per_seed(truth):
    args = (["T0", "T1"], truth.item_ids, np.ones((2, 4), dtype=bool))
    first = ChoiceOracle(truth, draws=30, random_state=3).warm(*args)
    again = ChoiceOracle(truth, draws=30, random_state=3).warm(*args)
    other = ChoiceOracle(truth, draws=30, random_state=4).warm(*args)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


class Clairvoyant:
    """Knows the documented holdout (the splits the protocol names) and ranks it first."""

    def __init__(self, province, seed: int, cold_share: float = 0.1) -> None:
        events = province.events
        cold = set(holdout_users(np.sort(events["teacher_id"].unique()), cold_share, seed))
        is_cold = events["teacher_id"].isin(cold)
        _, test_pairs = time_split(events[~is_cold], holdout_items=2, event="complete")
        self.held_out = test_pairs.groupby("teacher_id")["item_id"].agg(set).to_dict()
        done = events[is_cold & (events["event"] == "complete")]
        self.completed = done.groupby("teacher_id")["item_id"].agg(set).to_dict()
        self.asked: dict[str, list[str]] = {}

    def _score(self, truth, teacher_ids, item_ids, candidates):
        hits = np.array([[c in truth.get(t, set()) for c in item_ids] for t in teacher_ids])
        return np.where(candidates, hits.astype(np.float64), -np.inf)

    def warm(self, teacher_ids, item_ids, candidates):
        self.asked["warm"] = list(teacher_ids)
        return self._score(self.held_out, teacher_ids, item_ids, candidates)

    def cold(self, teacher_ids, item_ids, candidates):
        self.asked["cold"] = list(teacher_ids)
        return self._score(self.completed, teacher_ids, item_ids, candidates)


def test_extra_rankers_are_scored_on_the_protocols_own_holdout(small_province):
    # a ranker that knows the held-out completions of the documented split finds all of them:
    # the slot the oracle fills sees the evaluation's teachers, candidates and truth
    clairvoyant = Clairvoyant(small_province, seed=1)
    report = evaluate_province(
        small_province,
        load_catalog(),
        default_framework(),
        lambda province: small_province.mastery,
        params=SMALL,
        seed=1,
        extra_rankers={"clairvoyant": clairvoyant},
    )
    block = report["extra_rankers"]["clairvoyant"]
    assert block["warm"]["ndcg@10"] == pytest.approx(1.0)
    assert block["cold"]["ndcg@10"] == pytest.approx(1.0)
    assert set(clairvoyant.asked["warm"]) <= set(clairvoyant.held_out)
    assert len(clairvoyant.asked["warm"]) == report["protocol"]["warm_test_teachers"]
    assert set(clairvoyant.asked["cold"]) <= set(clairvoyant.completed)


@pytest.fixture(scope="module")
def with_oracle():
    """The protocol with the oracle on one tiny simulated province (the tables are those of
    ``simulate_province``: tests/training_data/test_simulator_choice_truth.py)."""
    return evaluate_recommend(240, 2, family="quality", oracle=True, params=SMALL)


@pytest.mark.slow
def test_oracle_scores_every_test_teacher(with_oracle):
    for block in with_oracle["extra_rankers"].values():
        assert block["warm"]["n_users"] == with_oracle["protocol"]["warm_test_teachers"]
        assert block["cold"]["n_users"] == with_oracle["protocol"]["cold_test_teachers"]


@pytest.mark.slow
def test_oracle_beats_popularity_warm_and_cold(with_oracle):
    oracle = with_oracle["extra_rankers"]["oracle"]
    assert oracle["warm"]["ndcg@10"] > with_oracle["baselines"]["popularity"]["ndcg@10"]
    assert oracle["cold"]["ndcg@10"] > with_oracle["cold_start"]["popularity"]["ndcg@10"]
