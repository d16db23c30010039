"""Cross-fitted emissions: what a measurement says about mastery, learned out of fold.

Why: the factor model learns its emission tables (``P(grade | mastered)``, ``P(grade | not)``)
by EM with the posterior ``σ(η + L)`` of each measured cell, where ``η`` comes from teacher
factors and global weights that were fitted *to that same grade*. The cell's own grade is
then counted twice in the E-step, the tables sharpen (on the simulated ``graph`` province the
learned 合格 came out at +2.5 log-odds towards mastery) and graded cells are over-confident
(docs/diagnosis.md §7).

The cure here is cross-fitting over teachers. The teachers are split into ``K`` seeded folds;
for each fold a model is fitted on the other ``K − 1`` folds only, and the held-out teachers'
prior log-odds ``η⁻`` are computed from it, each measured cell with teacher factors solved
from that teacher's *other* measurements (:meth:`FactorMastery.prior_log_odds_loo`). A cell's
``η⁻`` has therefore seen neither its own measurement nor anything else of its fold. The
emission tables are then re-estimated by EM with these priors held fixed (scaled by the
calibration slope α, as at prediction time):

    q = σ(α η⁻ + Σ_kinds L_kind(category)),   e(c | state) ∝ Σ w q_state [category = c] + prior

Only observed categories are targets: no simulator truth is read. The tables are used at
prediction time for the measured cells' log-likelihood ratio; cells without a measurement are
not touched (their probability is ``σ(α η)`` as before).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from competency_model.errors import NengliError
from recommender.diagnosis.factor_model import FactorData, FactorMastery

__all__ = [
    "CROSSFIT_FOLDS",
    "MeasuredCalibration",
    "fit_crossfit_emissions",
    "fit_emissions_given_prior",
    "out_of_fold_prior",
    "teacher_folds",
]

#: Folds over teachers of the cross-fit.
CROSSFIT_FOLDS = 3
_EM_STEPS = 200


@dataclass(frozen=True)
class MeasuredCalibration:
    """Cross-fitted emission table per measurement kind (empty: use the model's own tables).

    ``emission[kind]`` is categories x 2 (not mastered, mastered), columns summing to one;
    ``n_folds`` and ``cells`` say how it was learned (0 = not cross-fitted).
    """

    emission: dict[str, NDArray[np.float64]] = field(default_factory=dict)
    n_folds: int = 0
    cells: int = 0

    def log_odds(self, model: FactorMastery, data: FactorData) -> NDArray[np.float64]:
        """The cells' measurement log-likelihood ratio, cross-fitted tables first.

        Kinds without a cross-fitted table keep the model's learned one.
        """
        out = model.measurement_log_odds(_only(data, set(data.measurements) - set(self.emission)))
        for kind, (obs, weight) in data.measurements.items():
            if kind in self.emission:
                ratio = _ratio(self.emission[kind])
                out += np.where(obs >= 0, ratio[np.clip(obs, 0, None)] * weight, 0.0)
        return out


def teacher_folds(n_teachers: int, n_folds: int, seed: int | None) -> NDArray[np.int64]:
    """A seeded fold index per teacher, folds as equal as possible."""
    if n_folds < 2 or n_teachers < n_folds:
        raise NengliError(
            f"{n_teachers} teachers cannot be split into {n_folds} folds; need n_folds >= 2 "
            "and at least one teacher per fold"
        )
    order = np.random.default_rng(seed).permutation(n_teachers)
    folds = np.empty(n_teachers, dtype=np.int64)
    folds[order] = np.arange(n_teachers) % n_folds
    return folds


def out_of_fold_prior(
    data: FactorData,
    folds: NDArray[np.int64],
    fit_fold: Callable[[FactorData], FactorMastery],
) -> NDArray[np.float64]:
    """``η⁻`` per cell: from a model fitted without the cell's fold, leave-one-out factors.

    ``fit_fold`` fits a model on the teachers it is given (the other folds).
    """
    eta = np.zeros(data.shape)
    for fold in np.unique(folds):
        train, held = np.flatnonzero(folds != fold), np.flatnonzero(folds == fold)
        model = fit_fold(data.take(train))
        eta[held] = model.prior_log_odds_loo(data.take(held))
    return eta


def fit_emissions_given_prior(
    prior_log_odds: NDArray[np.float64],
    data: FactorData,
    start: Mapping[str, NDArray[np.float64]],
    prior_tables: Mapping[str, NDArray[np.float64]],
    prior_strength: float,
) -> dict[str, NDArray[np.float64]]:
    """EM of every measurement kind's emission table with the cells' prior log-odds fixed.

    The Dirichlet prior (``prior_strength`` pseudo-observations per state of
    ``prior_tables``) is the factor model's own, so with few measurements the tables stay
    near the stated likelihoods.
    """
    tables = {kind: np.asarray(start[kind], dtype=np.float64).copy() for kind in data.measurements}
    for _ in range(_EM_STEPS):
        llr = np.zeros(data.shape)
        for kind, (obs, weight) in data.measurements.items():
            llr += np.where(obs >= 0, _ratio(tables[kind])[np.clip(obs, 0, None)] * weight, 0.0)
        q = 0.5 * (1.0 + np.tanh(0.5 * (prior_log_odds + llr)))
        previous = tables
        tables = {}
        for kind, (obs, weight) in data.measurements.items():
            seen = obs >= 0
            index, w, qs = obs[seen].astype(np.int64), weight[seen], q[seen]
            size = prior_tables[kind].shape[0]
            counts = np.stack(
                [np.bincount(index, w * (1 - qs), size), np.bincount(index, w * qs, size)], axis=1
            )
            table = counts + prior_strength * _normalise(np.asarray(prior_tables[kind]))
            tables[kind] = _normalise(table)
        if max(np.abs(tables[k] - previous[k]).max() for k in tables) < 1e-9:
            break
    return tables


def fit_crossfit_emissions(
    data: FactorData,
    fit_fold: Callable[[FactorData], FactorMastery],
    final: FactorMastery,
    slope: float,
    *,
    n_folds: int = CROSSFIT_FOLDS,
    seed: int | None = 0,
) -> MeasuredCalibration:
    """Cross-fit ``η⁻`` over ``n_folds`` teacher folds and learn the emission tables on it.

    ``final`` supplies the starting tables, their Dirichlet prior and its strength; ``slope``
    is the calibration α applied to ``η⁻`` exactly as at prediction time.
    """
    measured = np.zeros(data.shape, dtype=bool)
    for obs, _ in data.measurements.values():
        measured |= obs >= 0
    folds = teacher_folds(data.shape[0], n_folds, seed)
    eta = out_of_fold_prior(data, folds, fit_fold)
    tables = fit_emissions_given_prior(
        slope * eta, data, final.emission_, final.prior_tables_, final.prior_strength
    )
    return MeasuredCalibration(tables, n_folds, int(measured.sum()))


def _only(data: FactorData, kinds: set[str]) -> FactorData:
    """``data`` with only the measurement kinds ``kinds``."""
    return FactorData(
        {k: v for k, v in data.measurements.items() if k in kinds},
        data.activity,
        data.covariates,
        data.schools,
        data.environment_gap,
    )


def _ratio(table: NDArray[np.float64]) -> NDArray[np.float64]:
    clipped = np.clip(table, 1e-6, 1.0)
    return np.log(clipped[:, 1]) - np.log(clipped[:, 0])


def _normalise(table: NDArray[np.float64]) -> NDArray[np.float64]:
    return table / np.clip(table.sum(axis=0, keepdims=True), 1e-300, None)
