"""An oracle ceiling for the province protocol: rank by what the simulator itself samples from.

Issue 14 §3 asks the hybrid for nDCG@10 ≥ 1.2 × the best baseline on every simulator family.
Whether that is reachable at all depends on how much of a teacher's next choices the province
determines. A simulated teacher takes courses in the order of ``V + Gumbel`` (``V`` the
systematic utility: need, fit, popularity, the ``quality`` family's hidden quality and list
position, the school's mandate, peers) and completes each with probability ``p``
(:class:`~training_data.simulator.choice_truth.ChoiceTruth`). :class:`ChoiceOracle` knows ``V``
and ``p`` for every teacher and course, which no model sees, but not the noise draws; ranking
by them is the best a recommender could do on the same candidates, up to the Monte Carlo error.

Warm teachers (``ChoiceOracle.warm``)
    The evaluation holds out a teacher's last completions and removes everything from their
    first touch on, so the candidates are the courses she had not taken by then. Under Gumbel
    noise the order of those remaining courses is a Plackett–Luce draw with weights ``exp(V)``,
    independent of the order in which she took the others (the max-stability of the Gumbel
    law). The oracle draws that order and the completions ``draws`` times and scores a course by
    how often it is among the first ``holdout_items`` completed: the chance it is a held-out
    item.
Cold teachers (``ChoiceOracle.cold``)
    Their whole history is the truth, so the oracle draws the whole enrolment (best courses by
    ``V + Gumbel`` until the hours target, the simulator's own rule) and the completions.

``next_choice=True`` ranks by ``V + log p`` instead (the closed form of "the next course she
enrols in and completes"); it ignores that a likely course is chosen anyway, so it is a weaker
oracle, reported to show the Monte Carlo is not what makes the ceiling.

What the oracle does not model: the ``in_progress`` family's export cut-off and courses left
学习中 after the target (it ranks as if every enrolment ran to its end), completion-time order
differing from enrolment order, and held-out practice tasks (the protocol scores courses only).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from training_data.simulator.choice_truth import ChoiceTruth
from training_data.simulator.choices import enrol_until_target

__all__ = ["ChoiceOracle", "oracle_rankers"]

#: teachers per block of Monte Carlo draws: memory is block × draws × courses
_BLOCK = 16


class ChoiceOracle:
    """Scores teachers × items by the simulator's own choice and completion probabilities.

    Parameters
    ----------
    truth
        The province's :class:`ChoiceTruth` (from
        :func:`~training_data.simulator.engine.simulate_province_with_choice_truth`).
    holdout_items
        How many last completions the protocol holds out per warm teacher.
    draws
        Monte Carlo draws per teacher (resolution of a score: 1 / ``draws``).
    next_choice
        Rank by the closed form ``V + log p`` instead of the Monte Carlo.
    random_state
        Seed of the Monte Carlo draws.

    Examples
    --------
    >>> oracle = ChoiceOracle(truth, random_state=0)  # doctest: +SKIP
    >>> scores = oracle.warm(["T0000001"], item_ids, candidates)  # doctest: +SKIP
    """

    def __init__(
        self,
        truth: ChoiceTruth,
        holdout_items: int = 2,
        draws: int = 200,
        next_choice: bool = False,
        random_state: int = 0,
    ) -> None:
        if draws < 1 or holdout_items < 1:
            raise ValueError(f"draws={draws} and holdout_items={holdout_items} must be ≥ 1")
        self.truth = truth
        self.holdout_items = holdout_items
        self.draws = draws
        self.next_choice = next_choice
        self.random_state = random_state
        self._row = {str(t): i for i, t in enumerate(truth.teacher_ids)}
        self._column = {str(c): j for j, c in enumerate(truth.item_ids)}

    def warm(
        self, teacher_ids: Sequence[str], item_ids: NDArray[np.str_], candidates: NDArray[np.bool_]
    ) -> NDArray[np.float64]:
        """Teachers × ``item_ids``: the chance each candidate is one of her held-out completions."""
        return self._score(teacher_ids, item_ids, candidates, cold=False)

    def cold(
        self, teacher_ids: Sequence[str], item_ids: NDArray[np.str_], candidates: NDArray[np.bool_]
    ) -> NDArray[np.float64]:
        """Teachers × ``item_ids``: the chance each candidate is among everything she completes."""
        return self._score(teacher_ids, item_ids, candidates, cold=True)

    # ------------------------------------------------------------------ internals
    def _score(
        self,
        teacher_ids: Sequence[str],
        item_ids: NDArray[np.str_],
        candidates: NDArray[np.bool_],
        cold: bool,
    ) -> NDArray[np.float64]:
        rows = np.array([self._row[str(t)] for t in teacher_ids], dtype=np.int64)
        columns = np.array([self._column.get(str(c), -1) for c in item_ids], dtype=np.int64)
        known = columns >= 0
        utility = np.full((rows.size, columns.size), -np.inf)
        completion = np.zeros((rows.size, columns.size))
        utility[:, known] = self.truth.systematic_utility[np.ix_(rows, columns[known])]
        completion[:, known] = self.truth.completion_probability[np.ix_(rows, columns[known])]
        utility = np.where(candidates, utility, -np.inf)
        with np.errstate(divide="ignore"):
            closed_form = utility + np.log(completion)
        if self.next_choice:
            return closed_form
        # the closed form only orders courses the draws never made relevant
        scores = 1e-6 / (1.0 + np.exp(-np.clip(closed_form, -50.0, 50.0)))
        rng = np.random.default_rng([self.random_state, 7, int(cold)])
        hours = self.truth.course_hours[np.maximum(columns, 0)]
        target = self.truth.target_hours[rows]
        for start in range(0, rows.size, _BLOCK):
            block = slice(start, start + _BLOCK)
            share = (
                self._cold_share(utility[block], completion[block], hours, target[block], rng)
                if cold
                else self._warm_share(utility[block], completion[block], rng)
            )
            scores[block] += share
        return np.where(np.isfinite(utility), scores, -np.inf)

    def _warm_share(
        self,
        utility: NDArray[np.float64],
        completion: NDArray[np.float64],
        rng: np.random.Generator,
    ) -> NDArray[np.float64]:
        """Share of draws in which a course is among the first ``holdout_items`` completed."""
        n, m = utility.shape
        noisy = utility[:, None, :] + rng.gumbel(size=(n, self.draws, m))
        done = rng.random((n, self.draws, m)) < completion[:, None, :]
        order = np.argsort(-noisy, axis=2, kind="stable")
        done_in_order = np.take_along_axis(done & np.isfinite(noisy), order, axis=2)
        first = done_in_order & (np.cumsum(done_in_order, axis=2) <= self.holdout_items)
        relevant = np.zeros_like(first)
        np.put_along_axis(relevant, order, first, axis=2)
        return np.asarray(relevant.mean(axis=1), dtype=np.float64)

    def _cold_share(
        self,
        utility: NDArray[np.float64],
        completion: NDArray[np.float64],
        hours: NDArray[np.float64],
        target: NDArray[np.float64],
        rng: np.random.Generator,
    ) -> NDArray[np.float64]:
        """Share of draws in which a course is enrolled in (the simulator's rule) and completed."""
        n, m = utility.shape
        noisy = (utility[:, None, :] + rng.gumbel(size=(n, self.draws, m))).reshape(-1, m)
        enrolled = enrol_until_target(
            noisy, hours, np.repeat(target, self.draws), self.truth.max_courses
        ).reshape(n, self.draws, m)
        done = rng.random((n, self.draws, m)) < completion[:, None, :]
        return np.asarray((enrolled & done).mean(axis=1), dtype=np.float64)


def oracle_rankers(
    truth: ChoiceTruth, holdout_items: int = 2, draws: int = 200, random_state: int = 0
) -> dict[str, ChoiceOracle]:
    """The two oracles the evaluation reports: ``oracle`` (Monte Carlo) and ``oracle_next_choice``."""
    return {
        "oracle": ChoiceOracle(truth, holdout_items, draws, random_state=random_state),
        "oracle_next_choice": ChoiceOracle(
            truth, holdout_items, draws, next_choice=True, random_state=random_state
        ),
    }
