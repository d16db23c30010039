"""DINA (deterministic input, noisy "and" gate) with a saturated attribute-profile distribution.

An examinee answers item *j* correctly with probability ``1 - slip_j`` when they master every
attribute the Q-matrix row requires, and with probability ``guess_j`` otherwise. The latent
profile distribution is not fixed to uniform: EM estimates one weight per profile (the
"saturated" model), which is what marginal maximum likelihood means for small K. With K
attributes this enumerates 2**K profiles, so the estimator refuses K above ``max_attributes``;
the 30-point model lives in :mod:`recommender.diagnosis.higher_order`.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import logsumexp
from threadpoolctl import threadpool_limits

from competency_model.errors import NengliError
from recommender.diagnosis._checks import check_is_fitted, check_q_matrix, check_responses

__all__ = ["DINA", "all_profiles", "ideal_responses"]

_FITTED = ("guess_", "slip_", "class_weights_", "profiles_", "q_matrix_")
_PARAM_FLOOR = 1e-6


def all_profiles(n_attributes: int) -> NDArray[np.int8]:
    """Every 0/1 attribute profile, row *c* being the binary digits of *c* (attribute 0 = lowest bit).

    >>> all_profiles(2).tolist()
    [[0, 0], [1, 0], [0, 1], [1, 1]]
    """
    codes = np.arange(2**n_attributes, dtype=np.int64)
    bits = (codes[:, None] >> np.arange(n_attributes)) & 1
    return bits.astype(np.int8)


def ideal_responses(q_matrix: ArrayLike, profiles: ArrayLike) -> NDArray[np.bool_]:
    """Ideal (noise-free) DINA response of each profile to each item, shape (items, profiles)."""
    q = np.asarray(q_matrix, dtype=np.int64)
    a = np.asarray(profiles, dtype=np.int64)
    # An item is answered ideally iff no required attribute is missing.
    missing = q @ (1 - a).T
    return missing == 0


class DINA:
    """DINA model fitted by EM (marginal maximum likelihood).

    Parameters
    ----------
    max_iter
        Maximum EM iterations per start.
    tol
        Stop when the log-likelihood improves by less than ``tol``.
    n_init
        Number of EM starts; the best log-likelihood wins.
    init
        ``"fixed"``: the first start uses guess = slip = 0.2 and uniform profile weights, later
        ones are random; ``"random"``: every start draws guess, slip and weights from
        ``random_state`` (used to check that EM reaches the same maximum from anywhere).
    profile_prior
        ``"saturated"`` estimates one weight per profile; ``"uniform"`` keeps them all equal
        (the textbook shortcut, kept as a baseline).
    max_attributes
        Refuse Q-matrices with more attributes than this (2**K profiles are enumerated).
    random_state
        Seed for the random starts.

    Attributes
    ----------
    guess_, slip_ : ndarray of shape (n_items,)
    class_weights_ : ndarray of shape (2**K,)
        Estimated profile distribution, aligned with ``profiles_``.
    profiles_ : ndarray of shape (2**K, K)
    log_likelihood_ : float
        Marginal log-likelihood of the training responses at the solution.
    n_iter_ : int
        EM iterations of the winning start.

    Examples
    --------
    >>> import numpy as np
    >>> q = np.eye(2, dtype=int).repeat(3, axis=0)
    >>> x = np.random.default_rng(0).integers(0, 2, size=(50, 6)).astype(float)
    >>> model = DINA(random_state=0).fit(x, q)
    >>> model.predict_proba(x).shape
    (50, 2)
    """

    def __init__(
        self,
        *,
        max_iter: int = 2000,
        tol: float = 1e-7,
        n_init: int = 1,
        init: Literal["fixed", "random"] = "fixed",
        profile_prior: Literal["saturated", "uniform"] = "saturated",
        max_attributes: int = 14,
        random_state: int | None = None,
    ) -> None:
        self.max_iter = max_iter
        self.tol = tol
        self.n_init = n_init
        self.init = init
        self.profile_prior = profile_prior
        self.max_attributes = max_attributes
        self.random_state = random_state

    # ------------------------------------------------------------------ fitting
    def fit(self, responses: ArrayLike, q_matrix: ArrayLike) -> DINA:
        """Estimate guess, slip and the profile distribution by EM; returns ``self``."""
        # Small matrices: BLAS threads only contend for cores.
        with threadpool_limits(1):
            return self._fit(responses, q_matrix)

    def _fit(self, responses: ArrayLike, q_matrix: ArrayLike) -> DINA:
        x = check_responses(responses)
        q = check_q_matrix(q_matrix, x.shape[1])
        n_attributes = q.shape[1]
        if n_attributes > self.max_attributes:
            raise NengliError(
                f"q_matrix has {n_attributes} attributes; DINA enumerates 2**K profiles and is "
                f"limited to max_attributes={self.max_attributes}. Use HigherOrderDINA for "
                "larger K"
            )
        if self.profile_prior not in ("saturated", "uniform"):
            raise NengliError(
                f"profile_prior={self.profile_prior!r}; choose 'saturated' or 'uniform'"
            )
        if self.init not in ("fixed", "random"):
            raise NengliError(f"init={self.init!r}; choose 'fixed' or 'random'")
        if self.n_init < 1 or self.max_iter < 1:
            raise NengliError(f"n_init={self.n_init}, max_iter={self.max_iter}; both must be >= 1")
        if x.shape[0] == 0:
            raise NengliError("responses have no rows; fit needs at least one examinee")

        profiles = all_profiles(n_attributes)
        eta = ideal_responses(q, profiles).astype(np.float64)
        # Examinees with the same answers share a posterior: run EM on distinct patterns.
        patterns, counts = np.unique(np.nan_to_num(x, nan=2.0), axis=0, return_counts=True)
        observed = (patterns != 2.0).astype(np.float64)
        correct = (patterns == 1.0).astype(np.float64)
        self._pattern_counts = counts.astype(np.float64)
        rng = np.random.default_rng(self.random_state)

        best: tuple[float, NDArray, NDArray, NDArray, int] | None = None
        for start in range(self.n_init):
            if start == 0 and self.init == "fixed":
                guess: NDArray[np.float64] = np.full(q.shape[0], 0.2)
                slip: NDArray[np.float64] = np.full(q.shape[0], 0.2)
                weights = np.full(len(profiles), 1.0 / len(profiles))
            else:
                guess = np.asarray(rng.uniform(0.05, 0.35, size=(q.shape[0],)), dtype=np.float64)
                slip = np.asarray(rng.uniform(0.05, 0.35, size=(q.shape[0],)), dtype=np.float64)
                weights = (
                    rng.dirichlet(np.ones(len(profiles)))
                    if self.profile_prior == "saturated"
                    else np.full(len(profiles), 1.0 / len(profiles))
                )
            result = self._em(correct, observed, eta, guess, slip, weights)
            if best is None or result[0] > best[0]:
                best = result
        assert best is not None
        self.log_likelihood_, self.guess_, self.slip_, self.class_weights_, self.n_iter_ = best
        self.profiles_ = profiles
        self.q_matrix_ = q
        del self._pattern_counts
        return self

    def _em(
        self,
        correct: NDArray[np.float64],
        observed: NDArray[np.float64],
        eta: NDArray[np.float64],
        guess: NDArray[np.float64],
        slip: NDArray[np.float64],
        weights: NDArray[np.float64],
    ) -> tuple[float, NDArray, NDArray, NDArray, int]:
        previous = -np.inf
        log_likelihood = -np.inf
        iteration = 0
        for iteration in range(1, self.max_iter + 1):
            log_joint = _log_lik_by_class(correct, observed, eta, guess, slip) + np.log(
                np.maximum(weights, 1e-300)
            )
            norm = logsumexp(log_joint, axis=1, keepdims=True)
            counts = self._pattern_counts
            log_likelihood = float((norm[:, 0] * counts).sum())
            posterior = np.exp(log_joint - norm) * counts[:, None]
            # Expected counts: examinees (with an observed answer) in the eta=1 / eta=0 groups.
            seen_by_class = observed.T @ posterior  # items x classes
            right_by_class = correct.T @ posterior
            n_masters = (seen_by_class * eta).sum(axis=1)
            n_others = (seen_by_class * (1 - eta)).sum(axis=1)
            right_masters = (right_by_class * eta).sum(axis=1)
            right_others = (right_by_class * (1 - eta)).sum(axis=1)
            guess = _safe_ratio(right_others, n_others, guess)
            slip = 1.0 - _safe_ratio(right_masters, n_masters, 1.0 - slip)
            guess = np.clip(guess, _PARAM_FLOOR, 1 - _PARAM_FLOOR)
            slip = np.clip(slip, _PARAM_FLOOR, 1 - _PARAM_FLOOR)
            if self.profile_prior == "saturated":
                weights = posterior.sum(axis=0) / counts.sum()
            if log_likelihood - previous < self.tol and iteration > 1:
                break
            previous = log_likelihood
        # Report the likelihood at the returned parameters, not at the previous E-step.
        final = _log_lik_by_class(correct, observed, eta, guess, slip) + np.log(
            np.maximum(weights, 1e-300)
        )
        log_likelihood = float((logsumexp(final, axis=1) * self._pattern_counts).sum())
        return log_likelihood, guess, slip, weights, iteration

    # ------------------------------------------------------------------ inference
    def posterior(self, responses: ArrayLike) -> NDArray[np.float64]:
        """Posterior probability of every profile for every examinee, shape (n, 2**K)."""
        check_is_fitted(self, _FITTED)
        x = check_responses(responses, self.q_matrix_.shape[0])
        log_joint = self._log_joint(x)
        return np.exp(log_joint - logsumexp(log_joint, axis=1, keepdims=True))

    def predict_proba(self, responses: ArrayLike) -> NDArray[np.float64]:
        """Marginal posterior probability that each examinee masters each attribute, (n, K)."""
        return self.posterior(responses) @ self.profiles_.astype(np.float64)

    def transform(self, responses: ArrayLike) -> NDArray[np.int8]:
        """Maximum a posteriori profile of each examinee, shape (n, K)."""
        return self.profiles_[np.argmax(self.posterior(responses), axis=1)]

    def score(self, responses: ArrayLike) -> float:
        """Marginal log-likelihood of ``responses`` under the fitted model."""
        check_is_fitted(self, _FITTED)
        x = check_responses(responses, self.q_matrix_.shape[0])
        return float(logsumexp(self._log_joint(x), axis=1).sum())

    def _log_joint(self, x: NDArray[np.float64]) -> NDArray[np.float64]:
        eta = ideal_responses(self.q_matrix_, self.profiles_).astype(np.float64)
        observed = (~np.isnan(x)).astype(np.float64)
        correct = np.nan_to_num(x, nan=0.0)
        log_lik = _log_lik_by_class(correct, observed, eta, self.guess_, self.slip_)
        return log_lik + np.log(np.maximum(self.class_weights_, 1e-300))


def _log_lik_by_class(
    correct: NDArray[np.float64],
    observed: NDArray[np.float64],
    eta: NDArray[np.float64],
    guess: NDArray[np.float64],
    slip: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Log-likelihood of each examinee's observed answers under each profile, (n, classes)."""
    p_right = eta * (1 - slip)[:, None] + (1 - eta) * guess[:, None]  # items x classes
    return correct @ np.log(p_right) + (observed - correct) @ np.log1p(-p_right)


def _safe_ratio(
    numerator: NDArray[np.float64], denominator: NDArray[np.float64], fallback: NDArray[np.float64]
) -> NDArray[np.float64]:
    # An item no examinee of a group answered carries no information: keep its old value.
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = numerator / denominator
    return np.where(denominator > 1e-12, ratio, fallback)
