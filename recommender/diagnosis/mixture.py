"""Learned cross-point structure: a latent-class model of mastery fitted by EM on all evidence.

Why this model
--------------
A teacher's mastery of the 30 points is correlated (a general ICT proficiency, related points,
the school's environment), and the province's own data show how. A finite mixture captures that
without a hand-drawn graph: teacher *t* belongs to one of ``C`` latent classes, class *c* masters
point *k* at the start of the cycle with probability ``initial[c, k]``, and given the class the
points are independent. The posterior is exact — a sum over ``C`` classes, no mean field — and
calibrated when the model fits.

Each cell has three states: not mastered, *learned* (not mastered at the start, mastered now)
and mastered from the start; mastery never drops within a cycle. The questionnaire measures the
start (it is answered before the training), grades measure now, and the learning records decide
how likely the middle state is: ``P(learned | not mastered at the start, activity) =
transition[activity]`` with activity none / enrolled / completed course / completed practice.
That transition is the learned evidence weight of a completion. Records are deliberately not a
*measurement* of mastery: tried that way, the EM made "mastered" mean "has activity", because a
teacher studies what she lacks (selection) and studying raises mastery (cause).

Grades and questionnaire bins are categorical observations with learned emission tables
(``emission[kind][category, state]``, the stated likelihoods as a Dirichlet prior).

Class weights depend on the teacher's peer group and school, shrunk towards the province
(``w_school = (n_school + s * w_group) / (n_school + s)``), so similar teachers lend strength.

Cost: an E-step is ``O(teachers x classes x points)`` in chunks of ``batch_size`` teachers, and
the M-step uses only per-class and per-category sums; fitting uses at most
``max_fit_teachers`` (a seeded subsample), scoring is linear in teachers.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import NDArray
from scipy.special import logsumexp

from competency_model.errors import NengliError
from recommender.diagnosis._checks import check_is_fitted
from recommender.diagnosis.evidence import ACTIVITY_LABELS, N_CATEGORIES, Evidence

__all__ = ["STATED_TRANSITION", "LatentClassMastery"]

_FITTED = ("class_mastery_", "emission_", "group_weights_", "cluster_counts_", "transition_")
_EPS = 1e-6
#: P(learned | activity) before learning from data, for none / enrolled / course / practice;
#: the last entry is used where the province has no records.
STATED_TRANSITION = np.array([0.02, 0.05, 0.2, 0.4, 0.02])
#: Which state each measurement sees: the questionnaire the start, grades the present.
_MEASURES_START = {"questionnaire"}


class LatentClassMastery:
    """Latent-class model of point mastery with learned emissions and learning transitions.

    Parameters
    ----------
    n_classes
        Latent classes ``C``.
    max_iter, tol
        EM iterations and the stopping rule on the relative change of the log-likelihood.
    prior_strength
        Pseudo-observations per state given to each emission table's prior (the stated
        likelihoods), so a small province refines rather than replaces them.
    transition_strength
        Pseudo-cells of the Beta prior of each transition around :data:`STATED_TRANSITION`;
        with no grade to anchor the present the stated values are all the model has.
    point_smoothing
        Pseudo-teachers pulling each class's mastery of a point towards the province's rate.
    group_smoothing, cluster_smoothing
        Pseudo-teachers pulling a peer group's class weights towards the province's and a
        school's towards its peer group's.
    max_fit_teachers, batch_size
        Fit on a seeded subsample of at most this many teachers; score in chunks of this size.
    random_state
        Seed of the subsample and of the starting responsibilities.
    """

    def __init__(
        self,
        *,
        n_classes: int = 12,
        max_iter: int = 200,
        tol: float = 1e-5,
        prior_strength: float = 20.0,
        transition_strength: float = 20.0,
        point_smoothing: float = 2.0,
        group_smoothing: float = 20.0,
        cluster_smoothing: float = 20.0,
        max_fit_teachers: int = 20_000,
        batch_size: int = 5_000,
        random_state: int | None = 0,
    ) -> None:
        self.n_classes = n_classes
        self.max_iter = max_iter
        self.tol = tol
        self.prior_strength = prior_strength
        self.transition_strength = transition_strength
        self.point_smoothing = point_smoothing
        self.group_smoothing = group_smoothing
        self.cluster_smoothing = cluster_smoothing
        self.max_fit_teachers = max_fit_teachers
        self.batch_size = batch_size
        self.random_state = random_state

    # ------------------------------------------------------------------ fitting
    def fit(
        self,
        evidence: Evidence,
        prior_tables: Mapping[str, NDArray[np.float64]],
        groups: NDArray[np.int64],
        clusters: NDArray[np.int64],
    ) -> LatentClassMastery:
        """Fit class mastery, class weights, emission tables and transitions by EM.

        Parameters
        ----------
        evidence
            Observations per kind (teachers x points, -1 = none); the kind ``"activity"`` sets
            the transition, every other kind is a measurement.
        prior_tables
            Per measurement kind, (categories x 2) probabilities; column 0 = not mastered,
            1 = mastered.
        groups, clusters
            Peer-group and school index per teacher (0..n-1, -1 = unknown); every school lies
            in one peer group.

        Returns
        -------
        LatentClassMastery
            ``self``.
        """
        if self.n_classes < 1 or self.max_iter < 1:
            raise NengliError(f"n_classes={self.n_classes}, max_iter={self.max_iter}; need >= 1")
        missing = set(evidence.observations) - set(prior_tables) - {"activity"}
        if missing:
            raise NengliError(f"no prior table for evidence kind(s) {sorted(missing)}")
        n = evidence.n_teachers
        if n == 0:
            raise NengliError("no teachers to fit the mastery model on")
        rng = np.random.default_rng(self.random_state)
        rows = np.arange(n)
        if n > self.max_fit_teachers:
            rows = np.sort(rng.choice(n, self.max_fit_teachers, replace=False))
        sample = evidence.take(rows)
        groups, clusters = np.asarray(groups)[rows], np.asarray(clusters)[rows]
        self.n_groups_ = int(groups.max(initial=-1)) + 1
        self.n_clusters_ = int(clusters.max(initial=-1)) + 1
        self.prior_tables_ = {
            k: _normalise(np.asarray(v, dtype=np.float64))
            for k, v in prior_tables.items()
            if k in evidence.observations
        }
        self.emission_ = {k: v.copy() for k, v in self.prior_tables_.items()}
        self.transition_ = STATED_TRANSITION.copy()
        self.class_mastery_ = np.full((self.n_classes, sample.n_points), 0.5)
        self.cluster_counts_ = np.zeros((self.n_clusters_, self.n_classes))
        self.province_weights_ = np.full(self.n_classes, 1.0 / self.n_classes)
        self.group_weights_ = np.tile(self.province_weights_, (self.n_groups_, 1))
        # start: classes ordered along the overall evidence (a crude general proficiency)
        _, cell, _ = self._e_step(sample, groups, clusters)
        score = cell[:, 0, :, 2].mean(axis=1) + 1e-3 * rng.standard_normal(len(rows))
        rank = np.argsort(np.argsort(score)) * self.n_classes // max(len(rows), 1)
        resp = 0.7 * np.eye(self.n_classes)[rank] + 0.3 * rng.dirichlet(
            np.ones(self.n_classes), len(rows)
        )
        spread = (np.arange(self.n_classes) + 0.5) / self.n_classes
        start = np.clip(cell[:, 0, :, 2][:, None, :] + (spread[None, :, None] - 0.5), 0.02, 0.98)
        cell = np.stack([1 - start, np.zeros_like(start), start], axis=3)
        self._m_step(sample, resp, cell, groups, clusters)
        self.log_likelihood_ = -np.inf
        self.n_iter_ = 0
        for iteration in range(1, self.max_iter + 1):
            resp, cell, total = self._e_step(sample, groups, clusters)
            self._m_step(sample, resp, cell, groups, clusters)
            change = (total - self.log_likelihood_) / max(abs(total), 1.0)
            self.log_likelihood_, self.n_iter_ = total, iteration
            if change < self.tol:
                break
        return self

    def _log_likelihoods(self, evidence: Evidence) -> NDArray[np.float64]:
        """Summed, weighted log P(measurements | state) per cell, shape (teachers, points, 3)."""
        out = np.zeros((evidence.n_teachers, evidence.n_points, 3))
        for kind, obs in evidence.observations.items():
            if kind == "activity":
                continue
            log_table = np.log(np.clip(self.emission_[kind], _EPS, 1.0))
            index = np.where(obs >= 0, obs, 0).astype(np.int64)
            scale = _scale(evidence, kind)
            off, on = log_table[index, 0] * scale, log_table[index, 1] * scale
            learned = off if kind in _MEASURES_START else on
            out += np.stack([off, learned, on], axis=2)
        return out

    def _transition(self, evidence: Evidence) -> NDArray[np.float64]:
        """P(learned | not mastered at the start) per cell from its activity category."""
        obs = evidence.observations.get("activity")
        if obs is None:
            return np.full((evidence.n_teachers, evidence.n_points), self.transition_[-1])
        return self.transition_[np.where(obs >= 0, obs, len(self.transition_) - 1)]

    def _class_log_weights(
        self, groups: NDArray[np.int64], clusters: NDArray[np.int64]
    ) -> NDArray[np.float64]:
        """Log class weights per teacher: school counts shrunk to the peer group's weights."""
        padded = np.vstack([self.group_weights_, self.province_weights_[None, :]])
        parent = padded[np.where((groups < 0) | (groups >= self.n_groups_), -1, groups)]
        counts = np.vstack([self.cluster_counts_, np.zeros((1, self.n_classes))])
        own = counts[np.where((clusters < 0) | (clusters >= self.n_clusters_), -1, clusters)]
        s = self.cluster_smoothing
        weights = (own + s * parent) / (own.sum(axis=1, keepdims=True) + s)
        return np.log(np.clip(weights, 1e-12, None))

    def _e_step(
        self, evidence: Evidence, groups: NDArray[np.int64], clusters: NDArray[np.int64]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], float]:
        """Responsibilities (t, c), state posteriors (t, c, k, 3) and the log-likelihood."""
        ll = self._log_likelihoods(evidence)
        tau = np.clip(self._transition(evidence), _EPS, 1 - _EPS)
        pi = np.clip(self.class_mastery_, _EPS, 1 - _EPS)[None, :, :]
        log_not = np.log1p(-pi)
        joint = np.stack(
            [
                log_not + np.log1p(-tau)[:, None, :] + ll[:, None, :, 0],
                log_not + np.log(tau)[:, None, :] + ll[:, None, :, 1],
                np.log(pi) + ll[:, None, :, 2],
            ],
            axis=3,
        )  # teachers x classes x points x states
        both = logsumexp(joint, axis=3)
        log_r = self._class_log_weights(groups, clusters) + both.sum(axis=2)
        total = logsumexp(log_r, axis=1)
        resp = np.exp(log_r - total[:, None])
        return resp, np.exp(joint - both[..., None]), float(total.sum())

    def _m_step(
        self,
        evidence: Evidence,
        resp: NDArray[np.float64],
        cell: NDArray[np.float64],
        groups: NDArray[np.int64],
        clusters: NDArray[np.int64],
    ) -> None:
        state = np.einsum("tc,tcks->tks", resp, cell)  # posterior per cell and state
        size = resp.sum(axis=0)
        self.province_weights_ = size / size.sum()
        self.group_weights_ = _shrunk_sums(
            resp, groups, self.n_groups_, self.province_weights_, self.group_smoothing
        )
        self.cluster_counts_ = np.zeros((self.n_clusters_, self.n_classes))
        known = clusters >= 0
        np.add.at(self.cluster_counts_, clusters[known], resp[known])
        a = self.point_smoothing
        rate = state[:, :, 2].mean(axis=0)
        self.class_mastery_ = (np.einsum("tc,tck->ck", resp, cell[..., 2]) + a * rate) / (
            size[:, None] + a
        )
        self._m_transition(evidence, state)
        for kind, obs in evidence.observations.items():
            if kind == "activity":
                continue
            mastered = state[:, :, 2] if kind in _MEASURES_START else state[:, :, 1:].sum(axis=2)
            seen = obs >= 0
            scale = _scale(evidence, kind)
            counts = np.zeros((N_CATEGORIES[kind], 2))
            index = obs[seen].astype(np.int64)
            np.add.at(counts[:, 1], index, (mastered * scale)[seen])
            np.add.at(counts[:, 0], index, ((1 - mastered) * scale)[seen])
            counts += self.prior_strength * self.prior_tables_[kind]
            self.emission_[kind] = _normalise(counts)

    def _m_transition(self, evidence: Evidence, state: NDArray[np.float64]) -> None:
        """Beta-smoothed share of the cells not mastered at the start that are learned now."""
        obs = evidence.observations.get("activity")
        if obs is None:
            return
        b = self.transition_strength
        for category in range(len(ACTIVITY_LABELS)):
            where = obs == category
            if not where.any():
                continue
            learned = state[:, :, 1][where].sum()
            at_risk = state[:, :, :2][where].sum()
            self.transition_[category] = (learned + b * STATED_TRANSITION[category]) / (at_risk + b)

    # ------------------------------------------------------------------ inference
    def predict_proba(
        self, evidence: Evidence, groups: NDArray[np.int64], clusters: NDArray[np.int64]
    ) -> NDArray[np.float64]:
        """Posterior probability of mastery now, per teacher x point, computed in chunks."""
        check_is_fitted(self, _FITTED)
        n = evidence.n_teachers
        out = np.empty((n, self.class_mastery_.shape[1]))
        for lo in range(0, n, self.batch_size):
            hi = min(n, lo + self.batch_size)
            chunk = evidence.take(slice(lo, hi))
            resp, cell, _ = self._e_step(chunk, groups[lo:hi], clusters[lo:hi])
            out[lo:hi] = np.einsum("tc,tck->tk", resp, cell[..., 1:].sum(axis=3))
        return out

    def prior_proba(
        self, groups: NDArray[np.int64], clusters: NDArray[np.int64]
    ) -> NDArray[np.float64]:
        """Mastery before the teacher's own evidence (peer group and school only, records
        unknown)."""
        check_is_fitted(self, _FITTED)
        start = np.exp(self._class_log_weights(groups, clusters)) @ self.class_mastery_
        return start + (1 - start) * self.transition_[-1]

    def evidence_log_odds(self, kind: str) -> NDArray[np.float64]:
        """Learned log-likelihood ratio of each category of ``kind`` (for ``"activity"``: the
        log-odds of having learned, per category, relative to no activity)."""
        check_is_fitted(self, _FITTED)
        if kind == "activity":
            t = np.clip(self.transition_[: len(ACTIVITY_LABELS)], _EPS, 1 - _EPS)
            odds = np.log(t) - np.log1p(-t)
            return odds - odds[0]
        table = np.clip(self.emission_[kind], _EPS, 1.0)
        return np.log(table[:, 1]) - np.log(table[:, 0])


def _scale(evidence: Evidence, kind: str) -> NDArray[np.float64]:
    """Per-cell weight of an observation: its decay weight where observed, 0 where missing."""
    obs = evidence.observations[kind]
    weight = evidence.weights.get(kind)
    seen = (obs >= 0).astype(np.float64)
    return seen if weight is None else seen * weight


def _normalise(table: NDArray[np.float64]) -> NDArray[np.float64]:
    """Columns summing to one (each state's distribution over categories)."""
    return table / np.clip(table.sum(axis=0, keepdims=True), 1e-300, None)


def _shrunk_sums(
    resp: NDArray[np.float64],
    index: NDArray[np.int64],
    n: int,
    parent: NDArray[np.float64],
    smoothing: float,
) -> NDArray[np.float64]:
    """Per index value, responsibilities summed and shrunk towards ``parent`` weights."""
    sums = np.zeros((n, resp.shape[1]))
    known = index >= 0
    np.add.at(sums, index[known], resp[known])
    return (sums + smoothing * parent) / (sums.sum(axis=1, keepdims=True) + smoothing)
