"""The 30-point diagnostic model: higher-order DINA with peer groups, fitted by variational EM.

Why this model
--------------
With 30 competency points a saturated profile distribution has 2**30 - 1 weights and the
E-step would visit 10**9 profiles per teacher. Instead the prior on a teacher's profile is
structured as a higher-order model (de la Torre & Douglas 2004) with peer groups:

* a latent general proficiency ``theta ~ N(0, 1)`` per teacher, integrated on a fixed grid;
* ``logit P(alpha_k = 1 | theta) = slope_k * theta + intercept_k + group_offset[g, k]`` where
  ``g`` is the teacher's peer group (e.g. school environment x stage). The offsets are
  ridge-shrunk towards zero, so small groups borrow from the province.

Given ``theta`` and the group, points are independent a priori; the prior still correlates them
through ``theta``, which is how a point with few answered items borrows from the others.

Items may be binary (scenario, DINA guess/slip) or ordinal (self-rating: one categorical
distribution for teachers who master all of the item's points, another for those who do not).

The posterior is approximated by mean field, ``q(alpha, theta) = q(theta) * prod_k q(alpha_k)``,
updated coordinate-wise (Gauss-Seidel over points). A sweep costs O(teachers x (items + points
x grid)), so scoring is linear in the number of teachers. The prior's M-step depends on teachers
only through per-(group, node, point) sufficient statistics, so it costs nothing per teacher.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import expit, log_expit
from threadpoolctl import threadpool_limits

from competency_model.errors import NengliError
from recommender.diagnosis._checks import (
    check_is_fitted,
    check_q_matrix,
    check_responses,
    encode_responses,
)
from recommender.diagnosis._mstep import fit_prior, initial_emission, item_tables

__all__ = ["HigherOrderDINA", "encode_responses"]

_FITTED = ("emission_", "q_matrix_", "slope_", "intercept_", "group_offset_", "rating_mean_")
_EPS = 1e-9
#: Ratings count before a teacher's response style is trusted fully (n / (n + 3)).
_STYLE_SHRINK = 3.0


class HigherOrderDINA:
    """Higher-order DINA for many attributes, binary and ordinal items, variational EM.

    Parameters
    ----------
    prior
        ``"higher_order"`` (latent trait + peer groups, the default),
        ``"independent"`` (one base rate per point) or ``"uniform"`` (every point 50 %, the
        baseline that estimates nothing about the profile distribution).
    max_iter, tol
        EM iterations and the stopping threshold on the largest change of an item probability.
    n_sweeps
        Mean-field sweeps per E-step.
    n_quadrature
        Grid points for ``theta``.
    group_reg
        Ridge penalty on peer-group offsets (larger = more borrowing from the province).
    smoothing
        Dirichlet pseudo-count added to every item-category count (keeps probabilities off 0/1).
    rating_centring
        Correct self-ratings for each teacher's response style: shift all of a teacher's
        ratings by the rounded, shrunk difference between their mean rating and the province
        mean. Without it, general over- or under-confidence looks like general proficiency and
        the latent trait over-borrows (measured in docs/diagnosis.md).
    max_fit_teachers
        The prior's M-step uses at most this many teachers (a seeded subsample).
    batch_size
        Teachers per block when scoring; bounds memory at about ``batch_size * grid * K`` floats.
    random_state
        Seed for the subsample.
    """

    def __init__(
        self,
        *,
        prior: Literal["higher_order", "independent", "uniform"] = "higher_order",
        max_iter: int = 100,
        tol: float = 1e-3,
        n_sweeps: int = 3,
        n_quadrature: int = 11,
        group_reg: float = 1.0,
        smoothing: float = 0.5,
        rating_centring: bool = True,
        max_fit_teachers: int = 5_000,
        batch_size: int = 10_000,
        random_state: int | None = None,
    ) -> None:
        self.prior = prior
        self.max_iter = max_iter
        self.tol = tol
        self.n_sweeps = n_sweeps
        self.n_quadrature = n_quadrature
        self.group_reg = group_reg
        self.smoothing = smoothing
        self.rating_centring = rating_centring
        self.max_fit_teachers = max_fit_teachers
        self.batch_size = batch_size
        self.random_state = random_state

    # ------------------------------------------------------------------ fitting
    def fit(
        self,
        responses: ArrayLike,
        q_matrix: ArrayLike,
        *,
        n_categories: ArrayLike | None = None,
        groups: ArrayLike | None = None,
    ) -> HigherOrderDINA:
        """Fit item tables and the profile prior by variational EM; returns ``self``.

        Runs with one BLAS thread: the arrays are thin (teachers x items), so more threads
        only contend for cores.

        Parameters
        ----------
        responses
            (teachers x items) category codes 0..n_categories-1, NaN when unanswered.
        q_matrix
            (items x points) 0/1.
        n_categories
            Categories per item (2 for right/wrong); default 2 everywhere.
        groups
            Peer-group index per teacher (0..n_groups-1, -1 = unknown); default one group.
        """
        with threadpool_limits(1):
            return self._fit(responses, q_matrix, n_categories, groups)

    def _fit(
        self,
        responses: ArrayLike,
        q_matrix: ArrayLike,
        n_categories: ArrayLike | None,
        groups: ArrayLike | None,
    ) -> HigherOrderDINA:
        if self.prior not in ("higher_order", "independent", "uniform"):
            raise NengliError(
                f"prior={self.prior!r}; choose 'higher_order', 'independent' or 'uniform'"
            )
        if self.max_iter < 1 or self.n_sweeps < 1 or self.n_quadrature < 2:
            raise NengliError(
                f"max_iter={self.max_iter}, n_sweeps={self.n_sweeps}, "
                f"n_quadrature={self.n_quadrature}; need >= 1, >= 1, >= 2"
            )
        x = check_responses(responses, binary=False)
        q = check_q_matrix(q_matrix, x.shape[1])
        n_items, n_points = q.shape
        cats = self._check_categories(n_categories, n_items)
        codes = encode_responses(x, cats)
        group_index, n_groups = self._check_groups(groups, x.shape[0])
        self.n_categories_ = cats
        rating = cats > 2
        observed = codes[:, rating] >= 0
        self.rating_mean_ = float(codes[:, rating][observed].mean()) if observed.any() else 0.0
        codes = self._centre(codes)

        self.q_matrix_ = q
        self.emission_ = initial_emission(cats)
        self.slope_ = np.zeros(n_points)
        self.intercept_ = np.zeros(n_points)
        self.group_offset_ = np.zeros((n_groups, n_points))
        if self.prior == "higher_order":
            self.slope_[:] = 1.0

        rng = np.random.default_rng(self.random_state)
        fit_rows = np.arange(x.shape[0])
        if x.shape[0] > self.max_fit_teachers:
            fit_rows = np.sort(rng.choice(x.shape[0], self.max_fit_teachers, replace=False))
        self.n_iter_ = 0
        for iteration in range(1, self.max_iter + 1):
            mastery, theta_post, eta, node_mastery = self._e_step(
                codes, group_index, keep_nodes=fit_rows
            )
            old = self.emission_.copy()
            self.emission_ = item_tables(codes, eta, cats, self.smoothing)
            if self.prior != "uniform":
                self.slope_, self.intercept_, self.group_offset_ = fit_prior(
                    node_mastery,
                    theta_post[fit_rows],
                    group_index[fit_rows],
                    n_groups,
                    self._nodes(),
                    higher=self.prior == "higher_order",
                    group_reg=self.group_reg,
                    start=(self.slope_, self.intercept_, self.group_offset_),
                )
            self.n_iter_ = iteration
            if np.max(np.abs(self.emission_ - old)) < self.tol:
                break
        self.mastery_train_ = mastery
        return self

    @staticmethod
    def _check_categories(n_categories: ArrayLike | None, n_items: int) -> NDArray[np.int64]:
        if n_categories is None:
            return np.full(n_items, 2, dtype=np.int64)
        cats = np.asarray(n_categories, dtype=np.int64)
        if cats.shape != (n_items,) or (cats < 2).any():
            raise NengliError(
                f"n_categories must give one value >= 2 per item ({n_items} items); got {cats}"
            )
        return cats

    @staticmethod
    def _check_groups(groups: ArrayLike | None, n: int) -> tuple[NDArray[np.int64], int]:
        if groups is None:
            return np.zeros(n, dtype=np.int64), 1
        g = np.asarray(groups, dtype=np.int64)
        if g.shape != (n,) or (g < -1).any():
            raise NengliError(
                f"groups must be {n} integers >= -1 (one per teacher, -1 = no known group)"
            )
        return g, max(int(g.max()) + 1, 1) if n else 1

    # ------------------------------------------------------------------ inference
    def _centre(self, codes: NDArray[np.int8]) -> NDArray[np.int8]:
        """Shift each teacher's self-ratings by their (shrunk, rounded) response style."""
        rating = self.n_categories_ > 2
        if not self.rating_centring or not rating.any():
            return codes
        part = codes[:, rating].astype(np.int64)
        observed = part >= 0
        n = observed.sum(axis=1)
        mean = np.where(observed, part, 0).sum(axis=1) / np.maximum(n, 1)
        style = np.round(n / (n + _STYLE_SHRINK) * (mean - self.rating_mean_))
        shifted = np.clip(part - style[:, None], 0, self.n_categories_[rating][None, :] - 1)
        out = codes.copy()
        out[:, rating] = np.where(observed, shifted, -1).astype(np.int8)
        return out

    def _offsets(self, groups: NDArray[np.int64]) -> NDArray[np.float64]:
        """Peer-group offsets per teacher; -1 or an unseen group gets the province (zero)."""
        padded = np.vstack([self.group_offset_, np.zeros((1, self.group_offset_.shape[1]))])
        index = np.where((groups < 0) | (groups >= len(self.group_offset_)), -1, groups)
        return padded[index]

    def _nodes(self) -> NDArray[np.float64]:
        if self.prior != "higher_order":
            return np.zeros(1)  # no latent trait: a single node
        return np.linspace(-4.0, 4.0, self.n_quadrature)

    def _e_step(
        self,
        codes: NDArray[np.int8],
        groups: NDArray[np.int64],
        keep_nodes: NDArray[np.int64] | None = None,
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        """Posterior mastery, theta weights, expected eta and (for ``keep_nodes``) per-node mastery.

        Blocks of ``batch_size`` teachers bound the memory of the (teachers x nodes x points)
        arrays.
        """
        with threadpool_limits(1):
            return self._e_step_blocks(codes, groups, keep_nodes)

    def _e_step_blocks(
        self,
        codes: NDArray[np.int8],
        groups: NDArray[np.int64],
        keep_nodes: NDArray[np.int64] | None,
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        n, k = codes.shape[0], self.q_matrix_.shape[1]
        n_nodes = len(self._nodes())
        mastery = np.empty((n, k))
        theta = np.empty((n, n_nodes))
        eta = np.empty(codes.shape) if keep_nodes is not None else np.empty((0, 0))
        keep = np.zeros(n, dtype=bool)
        if keep_nodes is not None:
            keep[keep_nodes] = True
        kept: list[NDArray[np.float64]] = []
        for lo in range(0, n, self.batch_size):
            hi = min(n, lo + self.batch_size)
            block = self._e_step_block(codes[lo:hi], groups[lo:hi])
            mastery[lo:hi], theta[lo:hi], node_mastery = block
            if keep_nodes is not None:
                eta[lo:hi] = self._expected_eta(node_mastery, theta[lo:hi])
                kept.append(node_mastery[keep[lo:hi]])
        node_kept = np.concatenate(kept) if kept else np.empty((0, n_nodes, k))
        return mastery, theta, eta, node_kept

    def _expected_eta(
        self, node_mastery: NDArray[np.float64], theta: NDArray[np.float64]
    ) -> NDArray[np.float64]:
        """P(teacher masters every point an item needs), averaged over the theta nodes."""
        log_m = np.log(np.clip(node_mastery, _EPS, 1.0))
        return np.einsum("igj,ig->ij", np.exp(log_m @ self.q_matrix_.T.astype(np.float64)), theta)

    def _item_llr(self, codes: NDArray[np.int8]) -> NDArray[np.float64]:
        """Log-likelihood ratio (master vs not) of each observed answer; 0 when unanswered."""
        log_e = np.log(np.clip(self.emission_, 1e-300, None))
        table = np.concatenate([log_e[:, 1] - log_e[:, 0], np.zeros((len(log_e), 1))], axis=1)
        index = np.where(codes < 0, table.shape[1] - 1, codes)
        return np.take_along_axis(table, index.T.astype(np.int64), axis=1).T

    def _e_step_block(
        self, codes: NDArray[np.int8], groups: NDArray[np.int64]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        """Quadrature over theta; at each node, mean field over the points.

        Given theta the points are independent a priori, so for single-point items the node
        posterior is exact; only items measuring 2-3 points need the mean-field sweeps. The
        node weights come from each node's evidence lower bound.
        """
        q = self.q_matrix_
        llr = self._item_llr(codes)
        single = q.sum(axis=1) == 1
        evidence = llr[:, single] @ q[single].astype(np.float64)  # teachers x points
        by_point: list[list[tuple[int, NDArray[np.int64]]]] = [[] for _ in range(q.shape[1])]
        multi = [(j, np.flatnonzero(q[j])) for j in np.flatnonzero(~single)]
        for j, attrs in multi:
            for a in attrs:
                by_point[int(a)].append((int(j), attrs[attrs != a]))
        nodes = self._nodes()
        log_w = -0.5 * nodes**2
        prior = (self.intercept_[None, :] + self._offsets(groups))[:, None, :] + (
            nodes[None, :, None] * self.slope_[None, None, :]
        )  # teachers x nodes x points
        m = expit(prior + evidence[:, None, :])
        for _ in range(self.n_sweeps if multi else 0):
            for point, linked in enumerate(by_point):
                if not linked:
                    continue
                logit = prior[:, :, point] + evidence[:, None, point]
                for item, others in linked:
                    logit = logit + llr[:, item, None] * np.prod(m[:, :, others], axis=2)
                m[:, :, point] = expit(logit)
        mc = np.clip(m, _EPS, 1 - _EPS)
        elbo = (m * prior + log_expit(-prior)).sum(axis=2)
        elbo += (m * evidence[:, None, :]).sum(axis=2)
        for j, attrs in multi:
            elbo += llr[:, j, None] * np.prod(m[:, :, attrs], axis=2)
        elbo -= (mc * np.log(mc) + (1 - mc) * np.log1p(-mc)).sum(axis=2)
        log_r = log_w[None, :] + elbo
        log_r -= np.logaddexp.reduce(log_r, axis=1, keepdims=True)
        theta = np.exp(log_r)
        return np.einsum("ig,igk->ik", theta, m), theta, m

    def predict_proba(
        self, responses: ArrayLike, groups: ArrayLike | None = None
    ) -> NDArray[np.float64]:
        """Posterior probability that each teacher masters each point, shape (n, K)."""
        check_is_fitted(self, _FITTED)
        return self._posterior(encode_responses(responses, self.n_categories_), groups)[0]

    def predict_proba_codes(
        self, codes: NDArray[np.int8], groups: ArrayLike | None = None
    ) -> NDArray[np.float64]:
        """Like :meth:`predict_proba` for already encoded responses (-1 = unanswered)."""
        check_is_fitted(self, _FITTED)
        return self._posterior(np.asarray(codes, dtype=np.int8), groups)[0]

    def direct_log_odds_codes(self, codes: NDArray[np.int8]) -> NDArray[np.float64]:
        """Log-odds of mastery from the answers alone (flat 50 % prior, no borrowing).

        This is the questionnaire's own likelihood ratio per point (exact for single-point
        items, mean field for the 2-3-point ones); the learned cross-point model
        (:mod:`recommender.diagnosis.mixture`) adds the structure, so it must not be counted
        twice.
        """
        check_is_fitted(self, _FITTED)
        flat = HigherOrderDINA(
            prior="uniform",
            n_sweeps=self.n_sweeps,
            rating_centring=self.rating_centring,
            batch_size=self.batch_size,
        )
        flat.emission_, flat.q_matrix_ = self.emission_, self.q_matrix_
        flat.n_categories_, flat.rating_mean_ = self.n_categories_, self.rating_mean_
        k = self.q_matrix_.shape[1]
        flat.slope_, flat.intercept_ = np.zeros(k), np.zeros(k)
        flat.group_offset_ = np.zeros((1, k))
        p = np.clip(flat.predict_proba_codes(codes), _EPS, 1 - _EPS)
        return np.log(p) - np.log1p(-p)

    def predict_theta(
        self, responses: ArrayLike, groups: ArrayLike | None = None
    ) -> NDArray[np.float64]:
        """Posterior mean of the general proficiency ``theta`` per teacher."""
        check_is_fitted(self, _FITTED)
        codes = encode_responses(responses, self.n_categories_)
        return self._posterior(codes, groups)[1] @ self._nodes()

    def _posterior(
        self, codes: NDArray[np.int8], groups: ArrayLike | None
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        """:meth:`_e_step` for encoded answers (``-1`` = unanswered) and raw group labels."""
        group_index, _ = self._check_groups(groups, codes.shape[0])
        return self._e_step(self._centre(codes), group_index)

    def transform(self, responses: ArrayLike, groups: ArrayLike | None = None) -> NDArray[np.int8]:
        """Most probable mastery state per point (posterior >= 0.5), shape (n, K)."""
        return (self.predict_proba(responses, groups) >= 0.5).astype(np.int8)

    @property
    def guess_(self) -> NDArray[np.float64]:
        """P(top category | not all points mastered); for right/wrong items the guess rate."""
        check_is_fitted(self, _FITTED)
        return self.emission_[np.arange(len(self.emission_)), 0, self.n_categories_ - 1]

    @property
    def slip_(self) -> NDArray[np.float64]:
        """P(not top category | all points mastered); for right/wrong items the slip rate."""
        check_is_fitted(self, _FITTED)
        return 1.0 - self.emission_[np.arange(len(self.emission_)), 1, self.n_categories_ - 1]

    def sample(
        self, n: int, random_state: int | None = None, groups: ArrayLike | None = None
    ) -> tuple[NDArray[np.float64], NDArray[np.int8]]:
        """Draw ``n`` teachers' profiles and full responses from the fitted model.

        Used for benchmarks and recovery tests. Returns (responses as category codes, profiles).
        """
        check_is_fitted(self, _FITTED)
        rng = np.random.default_rng(random_state)
        group_index, _ = self._check_groups(groups, n)
        theta = rng.standard_normal(n)
        logit = (
            self.intercept_[None, :]
            + self._offsets(group_index)
            + theta[:, None] * self.slope_[None, :]
        )
        profiles = (rng.random(logit.shape) < expit(logit)).astype(np.int8)
        eta = (profiles.astype(np.int64) @ self.q_matrix_.T) == self.q_matrix_.sum(axis=1)
        probs = self.emission_[np.arange(len(self.emission_))[None, :], eta.astype(np.int64)]
        cumulative = np.cumsum(probs, axis=2)
        draws = (rng.random(eta.shape)[:, :, None] > cumulative).sum(axis=2)
        draws = np.minimum(draws, self.n_categories_[None, :] - 1)
        return draws.astype(np.float64), profiles
