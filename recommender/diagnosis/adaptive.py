"""Adaptive questionnaire: ask the item that most reduces uncertainty about the points.

After each answer the posterior is recomputed with :class:`HigherOrderDINA`; the next item is
the one with the largest expected reduction in the summed entropy of its points' mastery
marginals (expected information gain, with the other points' marginals held fixed). The
questionnaire stops when every point's posterior SD is below ``sd_threshold`` or after
``max_items`` items.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from competency_model.errors import NengliError
from recommender.diagnosis.higher_order import HigherOrderDINA

__all__ = ["AdaptiveQuestionnaire", "expected_information_gain", "simulate_adaptive"]

_MAX_POINTS_PER_ITEM = 3


def _entropy(p: NDArray[np.float64]) -> NDArray[np.float64]:
    p = np.clip(p, 1e-12, 1 - 1e-12)
    return -(p * np.log2(p) + (1 - p) * np.log2(1 - p))


def _padded_points(q: NDArray[np.int8]) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
    width = max(int(q.sum(axis=1).max()), 1)
    if width > _MAX_POINTS_PER_ITEM:
        raise NengliError(f"an item measures {width} points; the bank allows at most 3")
    points = np.zeros((q.shape[0], width), dtype=np.int64)
    used = np.zeros((q.shape[0], width), dtype=bool)
    for j, row in enumerate(q):
        cols = np.flatnonzero(row)
        points[j, : cols.size] = cols
        used[j, : cols.size] = True
    return points, used


def expected_information_gain(
    model: HigherOrderDINA, mastery: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Expected entropy reduction (bits) over each item's points, shape (teachers, items).

    Parameters
    ----------
    model
        A fitted :class:`HigherOrderDINA` (its item tables and Q-matrix are used).
    mastery
        (teachers x points) current posterior mastery probabilities.
    """
    points, used = _padded_points(model.q_matrix_)
    m = np.where(used[None], mastery[:, points], 1.0)  # teachers x items x slots
    table = model.emission_  # items x 2 x categories
    master, other = table[None, :, 1, :], table[None, :, 0, :]  # 1 x items x categories
    p_eta = np.prod(m, axis=2)
    p_answer = p_eta[..., None] * master + (1 - p_eta[..., None]) * other
    gain = np.zeros(p_eta.shape)
    for slot in range(points.shape[1]):
        rest = np.prod(np.delete(m, slot, axis=2), axis=2)[..., None]
        m_slot = m[:, :, slot][..., None]
        numerator = m_slot * (rest * master + (1 - rest) * other)
        posterior = numerator / np.maximum(numerator + (1 - m_slot) * other, 1e-300)
        expected = (p_answer * _entropy(posterior)).sum(axis=2)
        gain += np.where(used[None, :, slot], _entropy(m[:, :, slot]) - expected, 0.0)
    return gain


def simulate_adaptive(
    model: HigherOrderDINA,
    codes: NDArray[np.int8],
    *,
    max_items: int,
    sd_threshold: float = 0.2,
    groups: ArrayLike | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Replay an adaptive questionnaire for many teachers whose full answers are known.

    Only items a teacher actually answered can be asked (their recorded answer is revealed).

    Returns
    -------
    mastery, n_asked
        Final posterior (teachers x points) and the number of items each teacher was asked.
    """
    if max_items < 0:
        raise NengliError(f"max_items={max_items}; must be >= 0")
    available = codes >= 0
    asked = np.zeros(codes.shape, dtype=bool)
    group_index = None if groups is None else np.asarray(groups)
    mastery = model.predict_proba_codes(np.full(codes.shape, -1, dtype=np.int8), group_index)
    active = np.ones(codes.shape[0], dtype=bool)
    for _ in range(max_items):
        sd = np.sqrt(mastery * (1 - mastery))
        active &= sd.max(axis=1) >= sd_threshold
        rows = np.flatnonzero(active)
        if rows.size == 0:
            break
        gain = expected_information_gain(model, mastery[rows])
        gain[~available[rows] | asked[rows]] = -np.inf
        best = np.argmax(gain, axis=1)
        can_ask = np.isfinite(gain[np.arange(rows.size), best])
        asked[rows[can_ask], best[can_ask]] = True
        active[rows[~can_ask]] = False
        now = np.where(asked[rows], codes[rows], -1).astype(np.int8)
        sub_groups = None if group_index is None else group_index[rows]
        mastery[rows] = model.predict_proba_codes(now, sub_groups)
    return mastery, asked.sum(axis=1)


class AdaptiveQuestionnaire:
    """One teacher's adaptive session.

    Parameters
    ----------
    model
        A fitted :class:`HigherOrderDINA`.
    sd_threshold
        Stop once every point's posterior SD is below this.
    max_items
        Stop after this many answers.

    Examples
    --------
    >>> session = AdaptiveQuestionnaire(model, max_items=15)  # doctest: +SKIP
    >>> j = session.next_item(codes)  # codes: -1 for items not yet answered  # doctest: +SKIP
    """

    def __init__(
        self, model: HigherOrderDINA, *, sd_threshold: float = 0.2, max_items: int = 30
    ) -> None:
        self.model = model
        self.sd_threshold = sd_threshold
        self.max_items = max_items

    def posterior(self, codes: ArrayLike, group: int | None = None) -> NDArray[np.float64]:
        """Current mastery probabilities (points,) given the answers so far."""
        row = np.asarray(codes, dtype=np.int8).reshape(1, -1)
        groups = None if group is None else np.array([group])
        return self.model.predict_proba_codes(row, groups)[0]

    def next_item(self, codes: ArrayLike, group: int | None = None) -> int | None:
        """Index of the most informative unanswered item, or None when the session should stop."""
        row = np.asarray(codes, dtype=np.int8)
        if row.shape != (self.model.q_matrix_.shape[0],):
            raise NengliError(
                f"codes must hold one entry per bank item ({self.model.q_matrix_.shape[0]}); "
                f"got shape {row.shape}"
            )
        if int((row >= 0).sum()) >= self.max_items:
            return None
        mastery = self.posterior(row, group)
        if np.sqrt(mastery * (1 - mastery)).max() < self.sd_threshold:
            return None
        gain = expected_information_gain(self.model, mastery[None, :])[0]
        gain[row >= 0] = -np.inf
        best = int(np.argmax(gain))
        return best if np.isfinite(gain[best]) else None
