"""Held-out emissions: what a measurement says about mastery, learned on grades a fit never saw.

Why: the factor model learns its emission tables (``P(grade | mastered)``, ``P(grade | not)``)
by EM with the posterior ``σ(η + L)`` of each measured cell, where ``η`` comes from teacher
factors and global weights that were fitted *to that same grade*. The cell's own grade is
then counted twice in the E-step, the tables sharpen (on the simulated ``graph`` province the
learned 合格 came out at +2.5 log-odds towards mastery) and graded cells are over-confident
(docs/diagnosis.md §7).

The calibration step already hides a seeded 20 % of the grades from a first fit
(:mod:`factor_fit`). For those hidden cells the first fit's prior log-odds ``η`` never saw
their grade, so they are out-of-sample pairs (prior, observed grade). The emission tables are
re-estimated by EM on exactly these pairs, with the prior held fixed and scaled by the
calibration slope α, as at prediction time:

    q = σ(α η + L_other),   e(c | state) ∝ Σ w q_state [grade = c] + prior pseudo-counts

Only observed grades are targets: no simulator truth is read. The tables replace the model's
own for the measured cells' log-likelihood ratio at prediction time; cells without a
measurement are not touched (their probability stays ``σ(α η)``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import numpy as np
from numpy.typing import NDArray

from recommender.diagnosis.course_calibration import CourseWeight
from recommender.diagnosis.factor_model import FactorData, FactorMastery

#: The activity category of a completed online course (evidence.ACTIVITY_LABELS).
COURSE_CATEGORY = 2

__all__ = ["MeasuredCalibration", "fit_emissions_given_prior"]

_EM_STEPS = 200


@dataclass(frozen=True)
class MeasuredCalibration:
    """Held-out emission table per measurement kind (empty: use the model's own tables).

    ``emission[kind]`` is categories x 2 (not mastered, mastered), columns summing to one;
    ``cells`` is the number of held-out measurements it was learned on (0 = none);
    ``course`` the course weight learned on the same hidden grades
    (:mod:`course_calibration`; None = the model's own ``a[course]``).
    """

    emission: dict[str, NDArray[np.float64]] = field(default_factory=dict)
    cells: int = 0
    course: CourseWeight | None = None

    def course_shift(
        self, model: FactorMastery, slope: float, data: FactorData
    ) -> NDArray[np.float64]:
        """What to add to the calibrated ``α η`` of each cell: ``δ − α a[course]`` where the
        strongest record is a completed course, 0 elsewhere (and everywhere without δ)."""
        if self.course is None:
            return np.zeros(data.shape)
        stated = slope * float(model.evidence_log_odds("activity")[COURSE_CATEGORY])
        return np.where(data.activity == COURSE_CATEGORY, self.course.log_odds - stated, 0.0)

    def evidence_log_odds(self, kind: str) -> NDArray[np.float64]:
        """Log-likelihood ratio (mastered against not) of each category of ``kind``."""
        return _ratio(self.emission[kind])

    def log_odds(self, model: FactorMastery, data: FactorData) -> NDArray[np.float64]:
        """The cells' measurement log-likelihood ratio, held-out tables first.

        Kinds without a held-out table keep the model's learned one.
        """
        out = model.measurement_log_odds(_only(data, set(data.measurements) - set(self.emission)))
        for kind, (obs, weight) in data.measurements.items():
            if kind in self.emission:
                ratio = _ratio(self.emission[kind])
                out += np.where(obs >= 0, ratio[np.clip(obs, 0, None)] * weight, 0.0)
        return out


def fit_emissions_given_prior(
    prior_log_odds: NDArray[np.float64],
    data: FactorData,
    start: Mapping[str, NDArray[np.float64]],
    prior_tables: Mapping[str, NDArray[np.float64]],
    prior_strength: float,
) -> dict[str, NDArray[np.float64]]:
    """EM of every measurement kind's emission table with the cells' prior log-odds fixed.

    ``prior_log_odds`` (teachers x points) must not have seen the measurements in ``data``;
    it may include other measurements' log-likelihood ratio. The Dirichlet prior
    (``prior_strength`` pseudo-observations per state of ``prior_tables``) is the factor
    model's own, so with few measurements the tables stay near the stated likelihoods.
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


def _only(data: FactorData, kinds: set[str]) -> FactorData:
    """``data`` with only the measurement kinds ``kinds``."""
    return replace(data, measurements={k: v for k, v in data.measurements.items() if k in kinds})


def _ratio(table: NDArray[np.float64]) -> NDArray[np.float64]:
    clipped = np.clip(table, 1e-6, 1.0)
    return np.log(clipped[:, 1]) - np.log(clipped[:, 0])


def _normalise(table: NDArray[np.float64]) -> NDArray[np.float64]:
    return table / np.clip(table.sum(axis=0, keepdims=True), 1e-300, None)
