"""Questionnaire answers from the item model with the bank's Q-matrix.

Scenario items (DINA): with η_ti = 1 when teacher *t* masters every point of item *i*,
P(correct) = (1 − s_i)^η · g_i^(1−η), guess g_i ~ Beta(5, 15) and slip s_i ~ Beta(3, 17).

Self-rating items (ordered probit): y*_ti = a_i · m_ti + o_t + e_ti with m_ti the mean of
θ_tk − b_k over the item's points, o_t ~ N(0.4, 0.5) the teacher's over-confidence and
e_ti ~ N(0, 1); the answer is 1 + the number of thresholds τ_i below y*.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from competency_model.item_bank import ItemBank
from training_data.simulator.config import SimulatorConfig
from training_data.simulator.ids import STRING_DTYPE, take_strings

__all__ = ["ItemParameters", "draw_item_parameters", "simulate_responses"]

#: Thresholds of a typical self-rating item on the latent scale, by scale length.
_BASE_THRESHOLDS = {4: (-1.0, 0.2, 1.4), 5: (-1.6, -0.6, 0.4, 1.5)}


class ItemParameters:
    """True item parameters of one bank (arrays in bank order)."""

    def __init__(
        self,
        bank: ItemBank,
        guess: NDArray[np.float64],
        slip: NDArray[np.float64],
        discrimination: NDArray[np.float64],
        thresholds: NDArray[np.float64],
    ) -> None:
        self.bank = bank
        self.guess = guess
        self.slip = slip
        self.discrimination = discrimination
        #: items × 4 thresholds, +inf padding for 4-point scales, NaN rows for scenario items
        self.thresholds = thresholds

    def to_frame(self) -> pd.DataFrame:
        """The ``truth_items`` table."""
        scenario = np.array([item.kind == "scenario" for item in self.bank.items])
        text = [
            None if is_scenario else ";".join(f"{v:.4f}" for v in row if np.isfinite(v))
            for is_scenario, row in zip(scenario, self.thresholds, strict=True)
        ]
        return pd.DataFrame(
            {
                "item_id": self.bank.item_ids,
                "kind": [item.kind for item in self.bank.items],
                "points": [";".join(item.points) for item in self.bank.items],
                "guess": np.where(scenario, self.guess, np.nan),
                "slip": np.where(scenario, self.slip, np.nan),
                "discrimination": np.where(scenario, np.nan, self.discrimination),
                "thresholds": text,
            }
        )


def draw_item_parameters(
    bank: ItemBank, rng: np.random.Generator, config: SimulatorConfig
) -> ItemParameters:
    """Draw guess/slip for scenario items and discrimination/thresholds for self-ratings."""
    n = len(bank)
    guess = rng.beta(*config.guess_beta, n)
    slip = rng.beta(*config.slip_beta, n)
    discrimination = rng.lognormal(0.0, config.self_rating_discrimination_log_sd, n)
    thresholds = np.full((n, 4), np.inf)
    shift = rng.normal(0.0, 0.25, n)
    for i, item in enumerate(bank.items):
        if item.kind == "scenario":
            thresholds[i] = np.nan
            continue
        base = np.asarray(_BASE_THRESHOLDS[int(item.scale_max or 5)])
        thresholds[i, : base.size] = np.sort(base + shift[i] + rng.normal(0.0, 0.1, base.size))
    return ItemParameters(bank, guess, slip, discrimination, thresholds)


def simulate_responses(
    teacher_ids: pd.Series,
    margin: NDArray[np.float64],
    q_matrix: NDArray[np.int8],
    params: ItemParameters,
    overconfidence: NDArray[np.float64],
    skip_rate: NDArray[np.float64],
    respondent: NDArray[np.bool_],
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Long ``responses`` table for one chunk; skipped items have no row.

    Parameters
    ----------
    margin
        θ − b (teachers × points) at questionnaire time; mastery is ``margin > 0``.
    """
    q = q_matrix.astype(np.float64)
    per_item = q.sum(axis=1)
    mastered = (margin > 0).astype(np.float64)
    eta = (mastered @ q.T) >= per_item[None, :]
    p_correct = np.where(eta, 1.0 - params.slip[None, :], params.guess[None, :])
    correct = rng.random(p_correct.shape) < p_correct
    mean_margin = (margin @ q.T) / per_item[None, :]
    latent = (
        params.discrimination[None, :] * mean_margin
        + overconfidence[:, None]
        + rng.standard_normal(mean_margin.shape)
    )
    thresholds = np.nan_to_num(params.thresholds, nan=np.inf)
    rating = 1 + (latent[:, :, None] > thresholds[None, :, :]).sum(axis=2)
    scenario = np.array([item.kind == "scenario" for item in params.bank.items])
    value = np.where(scenario[None, :], correct.astype(np.float64), rating.astype(np.float64))
    answered = respondent[:, None] & (rng.random(value.shape) >= skip_rate[:, None])
    rows, cols = np.nonzero(answered)
    item_ids = pd.Series(params.bank.item_ids, dtype=STRING_DTYPE)
    return pd.DataFrame(
        {
            "teacher_id": take_strings(teacher_ids, rows),
            "item_id": take_strings(item_ids, cols),
            "response": value[rows, cols],
        }
    )
