"""HigherOrderDINA: recovery of item parameters, beating weaker priors, input checks."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from competency_model.errors import NengliError, NotFittedError
from recommender.diagnosis.higher_order import HigherOrderDINA, encode_responses


@pytest.fixture(scope="module")
def ho_model(ho_data):
    d = ho_data
    # The sample has no response style, so the style correction would only add noise.
    return HigherOrderDINA(random_state=0, max_iter=80, rating_centring=False).fit(
        d["x"], d["q"], n_categories=d["cats"]
    )


def test_recovers_guess_and_slip_of_single_point_items(ho_model, ho_data):
    binary = ho_data["cats"] == 2
    assert np.abs(ho_model.guess_[binary] - ho_data["guess"][binary]).max() < 0.06
    assert np.abs(ho_model.slip_[binary] - ho_data["slip"][binary]).max() < 0.06


def test_recovers_slopes_order(ho_model, ho_data):
    assert np.corrcoef(ho_model.slope_, ho_data["slope"])[0, 1] > 0.5


@pytest.mark.parametrize("weaker", ["uniform", "independent"])
def test_higher_order_prior_beats_weaker_priors(ho_model, ho_data, weaker):
    d = ho_data
    x = d["x"].copy()
    x[:, : len(d["q"]) // 2] = np.nan  # half the items unanswered: the prior matters
    other = HigherOrderDINA(prior=weaker, max_iter=80, rating_centring=False).fit(
        d["x"], d["q"], n_categories=d["cats"]
    )
    auc = roc_auc_score(d["alpha"].ravel(), ho_model.predict_proba(x).ravel())
    auc_other = roc_auc_score(d["alpha"].ravel(), other.predict_proba(x).ravel())
    assert auc > auc_other


def test_unanswered_teacher_gets_prior(ho_model, ho_data):
    empty = np.full((1, ho_data["x"].shape[1]), np.nan)
    p = ho_model.predict_proba(empty)[0]
    assert np.all((p > 0.05) & (p < 0.95))


def test_sample_round_trip(ho_model):
    x, profiles = ho_model.sample(300, random_state=1)
    assert x.shape == (300, ho_model.q_matrix_.shape[0])
    assert set(np.unique(profiles)) <= {0, 1}
    p = ho_model.predict_proba(x)
    assert roc_auc_score(profiles.ravel(), p.ravel()) > 0.85


def test_encode_names_bad_value():
    with pytest.raises(NengliError, match=r"responses\[0, 1\] = 4.0.*categories 0..3"):
        encode_responses(np.array([[0.0, 4.0]]), np.array([2, 4]))


def test_groups_validated(ho_data):
    with pytest.raises(NengliError, match="groups must be"):
        HigherOrderDINA().fit(
            ho_data["x"][:10], ho_data["q"], n_categories=ho_data["cats"], groups=np.zeros(3)
        )


def test_not_fitted():
    with pytest.raises(NotFittedError):
        HigherOrderDINA().predict_proba(np.zeros((1, 2)))
