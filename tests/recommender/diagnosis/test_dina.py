"""DINA: maximum-likelihood fit on FrcSub/ECPE, brute-force agreement, NaN handling, recovery."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from competency_model.errors import NengliError, NotFittedError
from recommender.diagnosis.dina import DINA, all_profiles, ideal_responses


def brute_force_log_likelihood(x, q, guess, slip, weights) -> float:
    """Direct evaluation: sum over examinees of log sum over all 2**K profiles."""
    total = 0.0
    profiles = list(itertools.product((0, 1), repeat=q.shape[1]))
    lookup = {tuple(p): w for p, w in zip(all_profiles(q.shape[1]).tolist(), weights, strict=True)}
    for row in x:
        likelihood = 0.0
        for profile in profiles:
            eta = np.all(np.asarray(profile)[None, :] >= q, axis=1)
            p = np.where(eta, 1 - slip, guess)
            seen = ~np.isnan(row)
            terms = np.where(row[seen] == 1, p[seen], 1 - p[seen])
            likelihood += lookup[profile] * float(np.prod(terms))
        total += np.log(likelihood)
    return total


@pytest.mark.realdata
def test_frcsub_log_likelihood_matches_brute_force(frcsub, frcsub_dina):
    x, q = frcsub
    m = frcsub_dina
    reference = brute_force_log_likelihood(
        x[:120].astype(float), q, m.guess_, m.slip_, m.class_weights_
    )
    assert m.score(x[:120]) == pytest.approx(reference, rel=1e-10)


@pytest.mark.realdata
def test_frcsub_reaches_the_maximum(frcsub, frcsub_dina):
    """No small move of any item parameter increases the likelihood (first-order optimality)."""
    x, q = frcsub
    m = frcsub_dina
    base = m.log_likelihood_
    step = 1e-4
    for attr in ("guess_", "slip_"):
        values = getattr(m, attr)
        for j in np.flatnonzero((values > 1e-3) & (values < 0.999)):
            for sign in (-1, 1):
                values[j] += sign * step
                assert m.score(x) <= base + 1e-6, (attr, j, sign)
                values[j] -= sign * step


@pytest.mark.realdata
@pytest.mark.parametrize("seed", [1, 2])
def test_frcsub_random_starts_reach_same_log_likelihood(frcsub, frcsub_dina, seed):
    x, q = frcsub
    other = DINA(init="random", random_state=seed).fit(x, q)
    assert other.log_likelihood_ == pytest.approx(frcsub_dina.log_likelihood_, abs=1e-3)


@pytest.mark.realdata
def test_frcsub_fit_values(frcsub_dina):
    # Recorded in docs/diagnosis.md; guards against regressions of the estimator.
    assert frcsub_dina.log_likelihood_ == pytest.approx(-4402.288, abs=0.01)
    assert frcsub_dina.class_weights_.sum() == pytest.approx(1.0)


@pytest.mark.realdata
def test_ecpe_fit(ecpe):
    x, q = ecpe
    m = DINA(random_state=0).fit(x, q)
    assert m.log_likelihood_ == pytest.approx(m.score(x))
    assert np.all((m.guess_ > 0) & (m.guess_ < 1) & (m.slip_ > 0) & (m.slip_ < 1))
    assert m.class_weights_.shape == (8,)


def test_recovers_simulated_guess_and_slip(rng):
    q = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0], [0, 1, 1], [1, 0, 1]] * 2)
    guess = rng.uniform(0.1, 0.3, len(q))
    slip = rng.uniform(0.05, 0.25, len(q))
    weights = rng.dirichlet(np.ones(8) * 3)
    profiles = all_profiles(3)
    drawn = rng.choice(8, size=4000, p=weights)
    eta = ideal_responses(q, profiles)[:, drawn].T
    x = (rng.random(eta.shape) < np.where(eta, 1 - slip, guess)).astype(float)
    m = DINA(random_state=0).fit(x, q)
    assert np.abs(m.guess_ - guess).max() < 0.05
    assert np.abs(m.slip_ - slip).max() < 0.05
    assert np.abs(m.class_weights_ - weights).max() < 0.05


def test_nan_responses_are_ignored(rng):
    q = np.eye(3, dtype=int).repeat(2, axis=0)
    x = rng.integers(0, 2, size=(200, 6)).astype(float)
    x[rng.random(x.shape) < 0.2] = np.nan
    m = DINA(random_state=0).fit(x, q)
    empty = np.full((1, 6), np.nan)
    prior_marginal = m.class_weights_ @ m.profiles_
    np.testing.assert_allclose(m.predict_proba(empty)[0], prior_marginal)
    # A NaN cell contributes nothing: same as dropping that item from the likelihood.
    row = x[:1].copy()
    row[0, 0] = np.nan
    assert np.isfinite(m.score(row))


def test_transform_is_a_profile(rng):
    q = np.eye(2, dtype=int).repeat(3, axis=0)
    x = rng.integers(0, 2, size=(60, 6)).astype(float)
    m = DINA(random_state=0).fit(x, q)
    assert set(np.unique(m.transform(x))) <= {0, 1}
    assert m.transform(x).shape == (60, 2)


def test_uniform_prior_keeps_weights_uniform(rng):
    q = np.eye(2, dtype=int).repeat(3, axis=0)
    x = rng.integers(0, 2, size=(60, 6)).astype(float)
    m = DINA(profile_prior="uniform").fit(x, q)
    np.testing.assert_allclose(m.class_weights_, 0.25)


@pytest.mark.parametrize(
    ("x", "q", "fragment"),
    [
        ([[0, 2]], [[1]], "responses[0, 1] = "),
        ([[0, 1]], [[1], [0]], "row 1 measures no attribute"),
        ([[0, 1]], [[1]], "q_matrix has 1 rows"),
    ],
)
def test_bad_input_names_the_value(x, q, fragment):
    with pytest.raises(NengliError, match=fragment.replace("[", r"\[").replace("]", r"\]")):
        DINA().fit(np.asarray(x, dtype=float), np.asarray(q))


def test_too_many_attributes_refused():
    with pytest.raises(NengliError, match="HigherOrderDINA"):
        DINA(max_attributes=4).fit(np.zeros((3, 5)), np.eye(5, dtype=int))


def test_not_fitted_raises():
    with pytest.raises(NotFittedError):
        DINA().predict_proba(np.zeros((1, 2)))
