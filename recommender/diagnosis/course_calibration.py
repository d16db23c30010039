"""The evidence weight of a completed online course, learned on grades a fit never saw.

Why: a cell whose strongest record is a completed course has no grade (grades follow practice
tasks), so the factor model's ``a[course]`` receives no gradient and stays at its stated prior
(0.5 log-odds); on the simulated families these cells came out under-confident
(docs/diagnosis.md §7). Grades do fall on practised cells, and most practised cells had a
course on the same point first (the records keep it, :func:`evidence.course_completions`). The
calibration step's hidden grades (:mod:`factor_fit`) are out-of-sample for the first fit, so
their prior ``α η`` plus an unknown shift per kind of practised cell,

    z = α η + L_other + γ_practice_only [no course] + γ_both [course],

is fitted by maximum likelihood of the hidden grades under the held-out emission tables
(alternating with those tables' EM, :func:`fit_emissions_given_prior`). The course's weight
is the contrast ``δ = γ_both − γ_practice_only``: how much more mastered a practised cell is
when a course was also completed, given everything else the first fit knew of the teacher.

Assumption (stated, not checked by the data): **a course adds the same log-odds with or without
a practice task** (effects additive in log-odds), so ``δ`` is also the weight of a course alone
and course-only cells are scored with ``σ(α η − α a[course] + δ)``. Selection: teachers are
graded on points they practised, and they study what they lack; ``η`` holds their attributes,
school and factors from other points, so ``δ`` compares practised cells of similar teachers,
but whatever makes a teacher stop after the course and skip the practice is not in ``η``. When
learning saturates (a practice task alone already brings most teachers to mastery) ``δ``
understates the weight of a course alone. No simulator truth is read: the grades are the only
targets.

Measured and **not adopted** (``fit_calibrated(learn_course_weight=False)`` is the default): on
the ten simulated runs (5 families x 2 seeds, grades + records) δ came out between −0.89 and
+0.90 with SD 0.29–0.65, at or below 0.055 on 8 of them, while course-only cells are
under-predicted with the stated weight; ECE with direct evidence rose on 8 of 10 runs
(docs/diagnosis.md §7, "2026-12-04"). The grades fit a "strongest record" effect (a course adds
nothing once a practice task is done), under which they say nothing about a course alone; and a
course-only cell's level also rests on the level of cells with no record, which grades on
practised cells do not identify.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import minimize

__all__ = ["CourseWeight", "fit_course_log_odds"]

#: Fewer hidden practised cells of either kind (with / without a course) than this: no estimate.
MIN_CELLS_PER_KIND = 30


class CourseWeight(tuple[float, float, int]):
    """(δ, SD of δ, hidden cells it was learned on) in calibrated log-odds units."""

    @property
    def log_odds(self) -> float:
        """δ, the log-odds a completed course adds (calibrated units, like ``α η``)."""
        return float(self[0])

    @property
    def sd(self) -> float:
        """Approximate posterior SD of δ (inverse curvature of the penalised likelihood)."""
        return float(self[1])

    @property
    def cells(self) -> int:
        """Hidden graded cells the estimate rests on."""
        return int(self[2])


def fit_course_log_odds(
    prior: NDArray[np.float64],
    course: NDArray[np.bool_],
    grade_llr: NDArray[np.float64],
    weight: NDArray[np.float64] | None = None,
    *,
    stated: float = 0.5,
    prior_sd: float = 1.0,
) -> CourseWeight | None:
    """δ maximising the hidden grades' likelihood (1-D arrays over hidden practised cells).

    ``prior`` is ``α η + L_other`` of each hidden cell (never fitted to its grade), ``course``
    whether the cell also has a completed course, ``grade_llr`` the hidden grade's
    log-likelihood ratio under the held-out tables. Two free shifts (practice only, practice and
    course) absorb the level at which the first fit put practised cells; δ is their difference,
    with a Gaussian prior N(``stated``, ``prior_sd``²) (the stated course weight). None when
    either kind has fewer than :data:`MIN_CELLS_PER_KIND` cells: δ is then not identified.
    """
    course = np.asarray(course, dtype=bool)
    w = np.ones_like(prior) if weight is None else np.asarray(weight, dtype=np.float64)
    if course.sum() < MIN_CELLS_PER_KIND or (~course).sum() < MIN_CELLS_PER_KIND:
        return None
    c = course.astype(np.float64)

    def negative(params: NDArray[np.float64]) -> tuple[float, NDArray[np.float64]]:
        base, delta = params
        z = prior + base + delta * c
        value = float((w * (np.logaddexp(0.0, z + grade_llr) - np.logaddexp(0.0, z))).sum())
        g = w * (_sigmoid(z + grade_llr) - _sigmoid(z))
        value -= 0.5 * (base**2 / 9.0 + (delta - stated) ** 2 / prior_sd**2)
        grad = np.array([g.sum() - base / 9.0, (g * c).sum() - (delta - stated) / prior_sd**2])
        return -value, -grad

    result = minimize(negative, np.array([0.0, stated]), jac=True, method="L-BFGS-B")
    base, delta = (float(v) for v in result.x)
    # observed information of (base, δ): h = w [p(1-p) - q(1-q)] per cell, plus the priors
    z = prior + base + delta * c
    p, q = _sigmoid(z), _sigmoid(z + grade_llr)
    h = w * (p * (1 - p) - q * (1 - q))
    info = np.array(
        [[h.sum() + 1.0 / 9.0, (h * c).sum()], [(h * c).sum(), (h * c).sum() + 1.0 / prior_sd**2]]
    )
    try:
        variance = float(np.linalg.inv(info)[1, 1])
    except np.linalg.LinAlgError:
        variance = prior_sd**2
    sd = float(np.sqrt(variance)) if variance > 0 else prior_sd
    return CourseWeight((delta, sd, int(course.size)))


def _sigmoid(x: NDArray[np.float64]) -> NDArray[np.float64]:
    return 0.5 * (1.0 + np.tanh(0.5 * x))
