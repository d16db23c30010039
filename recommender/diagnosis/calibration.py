"""Calibration of the prior log-odds on held-out grades of the province itself (Platt scaling).

Why: a penalised fit shrinks teacher factors towards zero and the covariate weights towards the
average, so its prior log-odds are too timid or too bold in ways the fit cannot see. A share of
the province's own observed grades is hidden from a first fit; that fit's prior log-odds ``η``
for the hidden cells, together with the grade each cell actually received, fix a map
``η -> α η + β``: (α, β) maximise the likelihood of the hidden grades,

    Σ log[ σ(α η + β + L_other) e1(g) + (1 − σ(α η + β + L_other)) e0(g) ]

with ``e`` the learned grade emissions and ``L_other`` the cell's other measurements. No
simulator truth is used at fit time: evaluation against truth lives in ``nengli evaluate
diagnosis`` only. Since the grade is a noisy measurement of mastery, this calibrates mastery
itself, not the grade, as long as the emissions are right.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import minimize

__all__ = ["IDENTITY", "PlattCalibration", "fit_platt", "holdout_cells"]


class PlattCalibration(tuple[float, float]):
    """(α, β) of ``η -> α η + β``."""

    @property
    def slope(self) -> float:
        """α."""
        return float(self[0])

    @property
    def offset(self) -> float:
        """β."""
        return float(self[1])

    def apply(self, eta: NDArray[np.float64]) -> NDArray[np.float64]:
        """Calibrated prior log-odds."""
        return self.slope * eta + self.offset


IDENTITY = PlattCalibration((1.0, 0.0))


def holdout_cells(
    observed: NDArray[np.bool_], share: float, seed: int | None, minimum: int = 100
) -> NDArray[np.bool_]:
    """A seeded share of the observed cells to hide (none when fewer than ``minimum`` result)."""
    rows, cols = np.nonzero(observed)
    size = int(round(share * rows.size))
    mask = np.zeros_like(observed, dtype=bool)
    if size < minimum:
        return mask
    pick = np.random.default_rng(seed).choice(rows.size, size, replace=False)
    mask[rows[pick], cols[pick]] = True
    return mask


def fit_platt(
    eta: NDArray[np.float64],
    other_llr: NDArray[np.float64],
    grade_llr: NDArray[np.float64],
    weight: NDArray[np.float64] | None = None,
    *,
    fit_offset: bool = False,
) -> PlattCalibration:
    """(α, β) maximising the hidden grades' likelihood (1-D arrays over the hidden cells).

    A weak Gaussian prior on (α − 1, β) keeps the map near the identity when few grades exist.
    ``fit_offset=False`` (default) keeps β = 0: grades are given after practice, so the hidden
    cells are practised cells and their level says little about cells nobody practised; the
    slope (how far to trust the spread of η) transfers, the offset does not.
    """
    w = np.ones_like(eta) if weight is None else weight

    def negative(params: NDArray[np.float64]) -> tuple[float, NDArray[np.float64]]:
        a, b = params
        z = a * eta + b + other_llr
        value = (w * (np.logaddexp(0.0, z + grade_llr) - np.logaddexp(0.0, z))).sum()
        g = w * (_sigmoid(z + grade_llr) - _sigmoid(z))
        value -= 0.5 * ((a - 1.0) ** 2 + b**2) / 4.0
        grad = np.array([(g * eta).sum() - (a - 1.0) / 4.0, g.sum() - b / 4.0])
        return -float(value), -grad

    result = minimize(
        negative,
        np.array([1.0, 0.0]),
        jac=True,
        method="L-BFGS-B",
        bounds=[(0.05, 5.0), (-5.0, 5.0) if fit_offset else (0.0, 0.0)],
    )
    return PlattCalibration((float(result.x[0]), float(result.x[1])))


def _sigmoid(x: NDArray[np.float64]) -> NDArray[np.float64]:
    return 0.5 * (1.0 + np.tanh(0.5 * x))
