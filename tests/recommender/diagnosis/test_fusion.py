"""Evidence fusion: grades and completions move the posterior the right way, with decay."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from competency_model.errors import NengliError
from recommender.diagnosis.fusion import FusionConfig, evidence_log_odds, fuse

CODES = ["A1", "B1", "C1"]
ADJACENCY = np.array([[0, 1.0, 0], [1.0, 0, 1.0], [0, 1.0, 0]])
AS_OF = pd.Timestamp("2026-06-30")


def _grades(*rows):
    return pd.DataFrame(rows, columns=["teacher_id", "point", "grade", "assessed_at"])


def _none():
    return pd.DataFrame(columns=["teacher_id", "item_id", "timestamp"])


def _posterior(grades, config=None, prior=0.5):
    config = config or FusionConfig()
    log_odds, counts = evidence_log_odds({"T1": 0}, CODES, grades, _none(), None, config, AS_OF)
    return fuse(np.full((1, 3), prior), log_odds, counts, ADJACENCY, config)


@pytest.mark.parametrize(("grade", "direction"), [("优秀", 1), ("合格", 1), ("不合格", -1)])
def test_grade_moves_posterior(grade, direction):
    result = _posterior(_grades(("T1", "A1", grade, AS_OF)))
    assert np.sign(result["mastery_probability"][0, 0] - 0.5) == direction


def test_excellent_raises_more_than_pass():
    good = _posterior(_grades(("T1", "A1", "优秀", AS_OF)))["mastery_probability"][0, 0]
    ok = _posterior(_grades(("T1", "A1", "合格", AS_OF)))["mastery_probability"][0, 0]
    assert good > ok


def test_old_grade_counts_less():
    fresh = _posterior(_grades(("T1", "A1", "优秀", AS_OF)))["mastery_probability"][0, 0]
    old_date = AS_OF - pd.Timedelta(days=730)
    old = _posterior(_grades(("T1", "A1", "优秀", old_date)))["mastery_probability"][0, 0]
    assert 0.5 < old < fresh


def test_neighbour_borrows_a_share():
    p = _posterior(_grades(("T1", "A1", "优秀", AS_OF)))["mastery_probability"][0]
    assert p[0] > p[1] > 0.5  # B1 is A1's neighbour
    assert p[2] == pytest.approx(0.5)  # C1 is not


def test_insufficient_evidence_without_evidence():
    result = _posterior(_grades(), prior=0.97)
    assert result["insufficient_evidence"].all()
    assert (result["evidence_count"] == 0).all()


def test_decisive_evidence_clears_flag():
    rows = [("T1", "A1", "优秀", AS_OF)] * 3
    result = _posterior(_grades(*rows))
    assert not result["insufficient_evidence"][0, 0]
    assert result["evidence_count"][0, 0] == 3


def test_completion_weighted_by_catalog():
    weights = pd.DataFrame(
        {
            "item_id": ["TSK-0001", "TSK-0001"],
            "point": ["A1", "B1"],
            "weight": [0.75, 0.25],
            "kind": ["practice", "practice"],
        }
    )
    done = pd.DataFrame({"teacher_id": ["T1"], "item_id": ["TSK-0001"], "timestamp": [AS_OF]})
    log_odds, counts = evidence_log_odds(
        {"T1": 0}, CODES, _grades(), done, weights, FusionConfig(), AS_OF
    )
    assert log_odds[0, 0] == pytest.approx(0.75) and log_odds[0, 1] == pytest.approx(0.25)
    assert counts[0].tolist() == [1, 1, 0]


def test_bad_grade_names_row():
    with pytest.raises(NengliError, match="grades row 0: grade '良好'"):
        _posterior(_grades(("T1", "A1", "良好", AS_OF)))


@settings(max_examples=40, deadline=None)
@given(
    st.floats(0.01, 0.99),
    st.lists(st.sampled_from(["优秀", "合格", "不合格"]), max_size=5),
)
def test_outputs_are_valid_probabilities(prior, grades):
    rows = [("T1", "B1", g, AS_OF) for g in grades]
    result = _posterior(_grades(*rows), prior=prior)
    p = result["mastery_probability"]
    assert np.all((p > 0) & (p < 1))
    np.testing.assert_allclose(result["sd"], np.sqrt(p * (1 - p)))


def test_grade_likelihood_em_recovers_truth(rng):
    from recommender.diagnosis.fusion import GRADES, estimate_grade_likelihood

    truth = {"优秀": (0.5, 0.05), "合格": (0.45, 0.45), "不合格": (0.05, 0.5)}
    prior = rng.uniform(0.05, 0.95, 20_000)
    mastered = rng.random(prior.size) < prior
    grades = np.empty(prior.size, dtype=object)
    for flag, column in ((True, 0), (False, 1)):
        probs = [truth[g][column] for g in GRADES]
        grades[mastered == flag] = rng.choice(GRADES, (mastered == flag).sum(), p=probs)
    learned = estimate_grade_likelihood(prior, grades.astype(str), FusionConfig())
    for grade in GRADES:
        assert learned.grade_likelihood[grade] == pytest.approx(truth[grade], abs=0.03)


def test_model_can_learn_grades(small_province):
    from competency_model.framework import default_framework
    from competency_model.item_bank import load_item_bank
    from recommender.diagnosis.model import DiagnosisModel

    model = DiagnosisModel(learn_grades=True, max_iter=5).fit(
        small_province, load_item_bank(), default_framework()
    )
    assert model.fusion_.grade_likelihood != FusionConfig().grade_likelihood
