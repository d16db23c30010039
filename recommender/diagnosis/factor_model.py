"""Learned cross-point structure: a low-rank logistic model of mastery fitted by penalised likelihood.

Why this model
--------------
A point a teacher has no evidence on is guessed from three things the province's own data
show: what teachers like her master (stage, subject, school environment, years, school), how
her evidence on *other* points compares (a general proficiency and a few further latent skills)
and what her learning records mean. The prior log-odds of mastery of teacher *t* on point *k* is

    η_tk = b_k + x_t · W_k + s_school(t) + u_t · V_k + a[activity_tk] + e[gap_tk]

with covariates ``x_t`` (:mod:`teacher_features`), a school effect ``s``, a rank-``d`` factor
part ``u_t · V_k`` (``u_t ~ N(0, I)``: the cross-point structure, learned, no graph) and the
evidence weight ``a`` of a learning record on the point (none / enrolled / completed course /
completed practice; ``a[none] = 0``), learned with the stated weights as a Gaussian prior, and
the shift ``e`` of a point one or two environment levels above the teacher's school (``gap``,
:func:`~recommender.diagnosis.teacher_features.environment_gap`; ``e[0] = 0``), also with a
stated prior: grades never fall on such cells, so only a questionnaire can move it.

Measurements (a grade, a questionnaire bin) are categorical observations with learned
emission tables ``P(category | mastered)`` / ``P(category | not)`` (the stated likelihoods as a
Dirichlet prior). The marginal log-likelihood of a cell with measurement log-likelihood ratio
``L`` is ``log E0 + softplus(η + L) − softplus(η)``, whose gradient in η is ``q − p``
(posterior minus prior): cells without a measurement contribute nothing, so every parameter is
learned from what was measured. Fitting alternates L-BFGS on the penalised marginal likelihood
with an EM update of the emission tables.

Records are covariates, not measurements: a teacher studies what she lacks and studying raises
mastery, so "has activity" says nothing by itself about mastery; what a completion is worth is
what the grades show it is worth (``a``, learned; with no measurement at all it stays at the
stated prior).

Cost: one evaluation is ``O(teachers x points x (d + features))``; parameters are linear in
teachers (``u``); scoring solves ``u`` per teacher with a few vectorised MM steps.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import minimize

from competency_model.errors import NengliError
from recommender.diagnosis._checks import check_is_fitted

__all__ = [
    "STATED_ACTIVITY_LOG_ODDS",
    "STATED_GAP_LOG_ODDS",
    "FactorData",
    "FactorMastery",
    "softplus",
]

#: Stated log-odds of a record on a point (none, enrolled, course, practice), the prior of ``a``.
STATED_ACTIVITY_LOG_ODDS = np.array([0.0, 0.0, 0.5, 1.0])
#: Stated log-odds shift of a point 0 / 1 / 2 environment levels above the school's (prior of
#: ``e``): each missing level divides the odds by e² ≈ 7.4 (an assumption, docs/diagnosis.md §7).
STATED_GAP_LOG_ODDS = np.array([0.0, -2.0, -4.0])
_COURSE, _PRACTICE = 2, 3  # indices of a completed course / practice task in ``a``
_FITTED = ("intercept_", "weights_", "loadings_", "activity_", "emission_")


def softplus(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """log(1 + e^x), stable."""
    return np.logaddexp(0.0, x)


def _sigmoid(x: NDArray[np.float64]) -> NDArray[np.float64]:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


@dataclass
class FactorData:
    """The arrays one fit or one scoring reads (teachers x points unless stated).

    ``measurements`` maps a kind to (category or -1, weight); ``activity`` is the record
    category per cell (-1 = the province has no records); ``covariates`` is teachers x
    features; ``schools`` is the school index per teacher (-1 = unknown);
    ``environment_gap`` is the point's environment levels above the school's (0, 1, 2;
    None = all 0); ``course`` marks cells with a completed online course whatever their
    strongest record (None = unknown; read only by the held-out course weight,
    :mod:`emission_calibration`).
    """

    measurements: dict[str, tuple[NDArray[np.int8], NDArray[np.float64]]]
    activity: NDArray[np.int8]
    covariates: NDArray[np.float64]
    schools: NDArray[np.int64]
    environment_gap: NDArray[np.int8] | None = None
    course: NDArray[np.bool_] | None = None

    def gap(self) -> NDArray[np.int64]:
        """``environment_gap`` as an index array (zeros when absent)."""
        if self.environment_gap is None:
            return np.zeros(self.shape, dtype=np.int64)
        return np.clip(np.asarray(self.environment_gap, dtype=np.int64), 0, 2)

    @property
    def shape(self) -> tuple[int, int]:
        """(teachers, points)."""
        return self.activity.shape  # type: ignore[return-value]


class FactorMastery:
    """Low-rank logistic mastery model with learned emissions and completion weights.

    Parameters
    ----------
    n_factors
        Rank ``d`` of the teacher x point factor part.
    max_iter, inner_iter
        Outer (emission EM) iterations and L-BFGS iterations per outer step.
    weight_sd, school_sd, loading_sd, activity_sd
        Prior SDs of the covariate weights, school effects, loadings and completion weights.
    prior_strength
        Pseudo-observations per state of each emission table's Dirichlet prior.
    course_ratio
        None (default): the completed-course weight ``a[course]`` is its own parameter. A
        number ties it to the practice weight, ``a[course] = course_ratio · a[practice]``, so
        grades on practised cells also move it (they never fall on course-only cells); measured
        and not adopted as the default (docs/diagnosis.md §7).
    random_state
        Seed of the starting factors.
    """

    def __init__(
        self,
        *,
        n_factors: int = 2,
        max_iter: int = 6,
        inner_iter: int = 40,
        weight_sd: float = 1.0,
        school_sd: float = 0.5,
        loading_sd: float = 1.0,
        activity_sd: float = 1.0,
        prior_strength: float = 20.0,
        course_ratio: float | None = None,
        random_state: int | None = 0,
    ) -> None:
        self.n_factors = n_factors
        self.max_iter = max_iter
        self.inner_iter = inner_iter
        self.weight_sd = weight_sd
        self.school_sd = school_sd
        self.loading_sd = loading_sd
        self.activity_sd = activity_sd
        self.prior_strength = prior_strength
        self.course_ratio = course_ratio
        self.random_state = random_state

    # ------------------------------------------------------------------ fitting
    def fit(
        self,
        data: FactorData,
        prior_tables: Mapping[str, NDArray[np.float64]],
        n_schools: int,
        warm_start: FactorMastery | None = None,
    ) -> FactorMastery:
        """Fit by alternating penalised L-BFGS and emission EM; returns ``self``."""
        if self.n_factors < 0 or self.max_iter < 1:
            raise NengliError(f"n_factors={self.n_factors}, max_iter={self.max_iter}; invalid")
        missing = set(data.measurements) - set(prior_tables)
        if missing:
            raise NengliError(f"no prior table for evidence kind(s) {sorted(missing)}")
        n, k = data.shape
        if n == 0:
            raise NengliError("no teachers to fit the mastery model on")
        f, d = data.covariates.shape[1], self.n_factors
        rng = np.random.default_rng(self.random_state)
        self.prior_tables_ = {
            kind: _normalise(np.asarray(prior_tables[kind], dtype=np.float64))
            for kind in data.measurements
        }
        self.emission_: dict[str, NDArray[np.float64]]
        if warm_start is not None:
            self.emission_ = {kind: t.copy() for kind, t in warm_start.emission_.items()}
            start = [
                warm_start.intercept_,
                warm_start.weights_,
                warm_start.school_effect_,
                warm_start.solve_factors(data),
                warm_start.loadings_,
                warm_start.activity_,
                warm_start.gap_effect_,
            ]
        else:
            self.emission_ = {kind: t.copy() for kind, t in self.prior_tables_.items()}
            start = [
                np.zeros(k),
                np.zeros((f, k)),
                np.zeros(n_schools),
                0.1 * rng.standard_normal((n, d)),
                0.1 * rng.standard_normal((k, d)),
                STATED_ACTIVITY_LOG_ODDS.copy(),
                STATED_GAP_LOG_ODDS.copy(),
            ]
        shapes = [np.shape(x) for x in start]
        vector = np.concatenate([np.ravel(x) for x in start])
        self.n_iter_ = 0
        previous = -np.inf
        for _ in range(self.max_iter):
            llr = self._llr(data)
            result = minimize(
                self._objective,
                vector,
                args=(data, llr, shapes),
                jac=True,
                method="L-BFGS-B",
                options={"maxiter": self.inner_iter},
            )
            vector = result.x
            self._unpack(vector, shapes)
            self.n_iter_ += 1
            self._m_emissions(data, self._eta(data, self.factors_) + llr)
            value = -float(result.fun)
            if abs(value - previous) < 1e-4 * max(abs(value), 1.0):
                break
            previous = value
        self.log_likelihood_ = previous
        return self

    def _unpack(self, vector: NDArray[np.float64], shapes: list[tuple[int, ...]]) -> None:
        parts, at = [], 0
        for shape in shapes:
            size = int(np.prod(shape))
            parts.append(vector[at : at + size].reshape(shape))
            at += size
        (
            self.intercept_,
            self.weights_,
            self.school_effect_,
            self.factors_,
            self.loadings_,
            self.activity_,
            self.gap_effect_,
        ) = parts
        if self.course_ratio is not None:
            self.activity_ = self.activity_.copy()
            self.activity_[_COURSE] = self.course_ratio * self.activity_[_PRACTICE]

    def _objective(
        self,
        vector: NDArray[np.float64],
        data: FactorData,
        llr: NDArray[np.float64],
        shapes: list[tuple[int, ...]],
    ) -> tuple[float, NDArray[np.float64]]:
        """Negative penalised marginal log-likelihood and its gradient."""
        self._unpack(vector, shapes)
        eta = self._eta(data, self.factors_)
        value = float((softplus(eta + llr) - softplus(eta)).sum())
        g = _sigmoid(eta + llr) - _sigmoid(eta)  # d value / d eta
        known = data.schools >= 0
        g_school = np.zeros_like(self.school_effect_)
        np.add.at(g_school, data.schools[known], g[known].sum(axis=1))
        act = data.activity
        g_activity = np.zeros_like(self.activity_)
        seen = act >= 0
        np.add.at(g_activity, act[seen].astype(np.int64), g[seen])
        g_activity[0] = 0.0  # "no record" is the reference
        g_gap = np.bincount(data.gap().ravel(), g.ravel(), 3)
        g_gap[0] = 0.0  # "within the school's environment" is the reference
        ws, ss, ls, acs = self.weight_sd, self.school_sd, self.loading_sd, self.activity_sd
        stated = STATED_ACTIVITY_LOG_ODDS
        value -= 0.5 * (
            (self.weights_**2).sum() / ws**2
            + (self.school_effect_**2).sum() / ss**2
            + (self.factors_**2).sum()
            + (self.loadings_**2).sum() / ls**2
            + ((self.activity_ - stated) ** 2).sum() / acs**2
            + ((self.gap_effect_ - STATED_GAP_LOG_ODDS) ** 2).sum() / acs**2
            + (self.intercept_**2).sum() / 9.0
        )
        grads = [
            g.sum(axis=0) - self.intercept_ / 9.0,
            data.covariates.T @ g - self.weights_ / ws**2,
            g_school - self.school_effect_ / ss**2,
            g @ self.loadings_ - self.factors_,
            g.T @ self.factors_ - self.loadings_ / ls**2,
            g_activity - (self.activity_ - stated) / acs**2,
            g_gap - (self.gap_effect_ - STATED_GAP_LOG_ODDS) / acs**2,
        ]
        grads[-2][0] = 0.0
        if self.course_ratio is not None:
            # a[course] = ratio · a[practice]: its likelihood gradient flows to a[practice]
            # (and its penalty is dropped: only a[practice] is a free parameter)
            grads[-2][_PRACTICE] += self.course_ratio * grads[-2][_COURSE]
            grads[-2][_COURSE] = 0.0
        grads[-1][0] = 0.0
        return -value, -np.concatenate([np.ravel(x) for x in grads])

    def _eta(self, data: FactorData, factors: NDArray[np.float64]) -> NDArray[np.float64]:
        """Prior log-odds of mastery per cell (before measurements)."""
        eta = self._base(data) + factors @ self.loadings_.T
        act = data.activity
        eta = eta + np.where(act >= 0, self.activity_[np.clip(act, 0, None)], 0.0)
        return eta + self._gap_shift(data)

    def _gap_shift(self, data: FactorData) -> NDArray[np.float64]:
        effect = getattr(self, "gap_effect_", None)  # models saved before the term: none
        if effect is None or data.environment_gap is None:
            return np.zeros(data.shape)
        return np.asarray(effect, dtype=np.float64)[data.gap()]

    def _base(self, data: FactorData) -> NDArray[np.float64]:
        school = np.where(
            (data.schools >= 0) & (data.schools < self.school_effect_.size),
            self.school_effect_[np.clip(data.schools, 0, max(self.school_effect_.size - 1, 0))]
            if self.school_effect_.size
            else 0.0,
            0.0,
        )
        return self.intercept_[None, :] + data.covariates @ self.weights_ + school[:, None]

    def _llr(self, data: FactorData) -> NDArray[np.float64]:
        """Summed, weighted measurement log-likelihood ratio per cell (0 where unmeasured)."""
        out = np.zeros(data.shape)
        for kind, (obs, weight) in data.measurements.items():
            if kind not in self.emission_:
                continue
            table = np.clip(self.emission_[kind], 1e-6, 1.0)
            ratio = np.log(table[:, 1]) - np.log(table[:, 0])
            out += np.where(obs >= 0, ratio[np.clip(obs, 0, None)] * weight, 0.0)
        return out

    def _m_emissions(self, data: FactorData, posterior_log_odds: NDArray[np.float64]) -> None:
        """EM update of each emission table from the cells' posterior mastery."""
        q = _sigmoid(posterior_log_odds)
        for kind, (obs, weight) in data.measurements.items():
            seen = obs >= 0
            size = self.prior_tables_[kind].shape[0]
            index = obs[seen].astype(np.int64)
            w = weight[seen]
            counts = np.stack(
                [
                    np.bincount(index, w * (1 - q[seen]), size),
                    np.bincount(index, w * q[seen], size),
                ],
                axis=1,
            )
            self.emission_[kind] = _normalise(
                counts + self.prior_strength * self.prior_tables_[kind]
            )

    # ------------------------------------------------------------------ inference
    def solve_factors(self, data: FactorData, steps: int = 40) -> NDArray[np.float64]:
        """MAP teacher factors given the global parameters (vectorised MM ascent).

        The curvature of ``softplus(η + L) − softplus(η)`` is at least −1/4, so the constant
        matrix ``Vᵀ V / 4 + I`` bounds the Hessian and every step increases the objective.
        """
        check_is_fitted(self, _FITTED)
        d = self.loadings_.shape[1]
        if d == 0:
            return np.zeros((data.shape[0], 0))
        base = self._eta(data, np.zeros((data.shape[0], d)))
        return self._mm_factors(base, self._llr(data), steps)

    def _mm_factors(
        self, base: NDArray[np.float64], llr: NDArray[np.float64], steps: int
    ) -> NDArray[np.float64]:
        """MM ascent of the factors of each row of (``base``, ``llr``), rows x points."""
        d = self.loadings_.shape[1]
        u = np.zeros((base.shape[0], d))
        bound = np.linalg.inv(self.loadings_.T @ self.loadings_ / 4.0 + np.eye(d))
        for _ in range(steps):
            eta = base + u @ self.loadings_.T
            grad = (_sigmoid(eta + llr) - _sigmoid(eta)) @ self.loadings_ - u
            u = u + grad @ bound
        return u

    def prior_log_odds_loo(
        self, data: FactorData, steps: int = 40, chunk: int = 20_000
    ) -> NDArray[np.float64]:
        """η per cell with the factors solved from the teacher's evidence on *other* points.

        Why: a measured cell's posterior is ``σ(η + L)``. With ``η`` from MAP factors that
        already fitted the cell's own measurement, ``L`` counts twice and graded cells come out
        over-confident (docs/diagnosis.md §7). Here a measured cell's factors are solved with
        its own measurement removed (one MM solve per measured cell, ``chunk`` at a time);
        cells without a measurement keep the teacher's factors, which never read them.
        The calibration slope is learned on hidden grades whose ``η`` is leave-one-out by
        construction, so this is also the ``η`` it was calibrated for.
        """
        check_is_fitted(self, _FITTED)
        d = self.loadings_.shape[1]
        n = data.shape[0]
        base = self._eta(data, np.zeros((n, d)))
        if d == 0:
            return base
        llr = self._llr(data)
        eta = base + self._mm_factors(base, llr, steps) @ self.loadings_.T
        measured = np.zeros(data.shape, dtype=bool)
        for obs, _ in data.measurements.values():
            measured |= obs >= 0
        rows, cols = np.nonzero(measured)
        for start in range(0, rows.size, chunk):
            r, c = rows[start : start + chunk], cols[start : start + chunk]
            other = llr[r].copy()
            other[np.arange(r.size), c] = 0.0
            u = self._mm_factors(base[r], other, steps)
            eta[r, c] = base[r, c] + np.einsum("id,id->i", u, self.loadings_[c])
        return eta

    def prior_log_odds(self, data: FactorData) -> NDArray[np.float64]:
        """η per cell with the teacher's factors solved from her evidence."""
        return self._eta(data, self.solve_factors(data))

    def measurement_log_odds(self, data: FactorData) -> NDArray[np.float64]:
        """The cells' measurement log-likelihood ratio under the learned emissions."""
        check_is_fitted(self, _FITTED)
        return self._llr(data)

    def attribute_log_odds(self, data: FactorData) -> NDArray[np.float64]:
        """Log-odds from attributes and school alone (no own evidence; the prior-only baseline)."""
        check_is_fitted(self, _FITTED)
        return self._base(data) + self._gap_shift(data)

    def evidence_log_odds(self, kind: str) -> NDArray[np.float64]:
        """Learned log-likelihood ratio of each category of ``kind`` (``"activity"``: the learned
        log-odds shift of none / enrolled / course / practice; ``"environment_gap"``: the shift
        of a point 0 / 1 / 2 environment levels above the school's)."""
        check_is_fitted(self, _FITTED)
        if kind == "activity":
            return np.asarray(self.activity_, dtype=np.float64)
        if kind == "environment_gap":
            return np.asarray(getattr(self, "gap_effect_", np.zeros(3)), dtype=np.float64)
        table = np.clip(self.emission_[kind], 1e-6, 1.0)
        return np.log(table[:, 1]) - np.log(table[:, 0])


def _normalise(table: NDArray[np.float64]) -> NDArray[np.float64]:
    """Columns summing to one (each state's distribution over categories)."""
    return table / np.clip(table.sum(axis=0, keepdims=True), 1e-300, None)
