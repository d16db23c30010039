"""Strong simple baselines for the province protocol: popularity where the teacher works.

A personalised model is only worth its cost if it beats what a school's 教研组长 could do with a
spreadsheet: list what colleagues completed most. Each function returns a score matrix (teachers ×
items, higher is better) for the rows asked; ranking, eligibility and tie-breaking are the
protocol's job (:mod:`recommender.evaluation.province`).

- :func:`group_popularity`: how many members of the teacher's group (school, or 教研组 within the
  school) completed each item;
- :func:`recency_popularity`: province-wide completions before the teacher's "now", each weighted
  by ``0.5 ** (age / half_life_days)``, so what is popular *lately* comes first;
- :func:`gap_coverage` and :func:`popularity_plus_gap`: school popularity (scaled to [0, 1] per
  teacher) plus ``weight`` times the share of the item's point weight on the teacher's diagnosed
  gaps (1 − mastery).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import NDArray

__all__ = [
    "SimpleBaselines",
    "gap_coverage",
    "group_popularity",
    "popularity_plus_gap",
    "recency_popularity",
]


def group_popularity(
    completed: sp.csr_matrix, group_of: NDArray[np.int64], rows: NDArray[np.int64]
) -> NDArray[np.float64]:
    """Completions of each item by the members of each row's group.

    Parameters
    ----------
    completed
        Teachers × items, > 0 where the teacher completed the item (training data only).
    group_of
        Group index of every teacher (school, or (school, 教研组) pair).
    rows
        The teachers to score.

    Examples
    --------
    >>> m = sp.csr_matrix(np.array([[1, 0], [1, 1], [0, 1]]))
    >>> group_popularity(m, np.array([0, 0, 1]), np.array([0, 2])).tolist()
    [[2.0, 1.0], [0.0, 1.0]]
    """
    n_groups = int(group_of.max()) + 1 if group_of.size else 0
    membership = sp.csr_matrix(
        (np.ones(group_of.size), (group_of, np.arange(group_of.size))),
        shape=(n_groups, group_of.size),
    )
    counts = membership @ (completed > 0).astype(np.float64)
    return np.asarray(counts[group_of[rows]].todense(), dtype=np.float64)


def recency_popularity(
    item: NDArray[np.int64],
    day: NDArray[np.float64],
    now: NDArray[np.float64],
    n_items: int,
    half_life_days: float = 30.0,
) -> NDArray[np.float64]:
    """Completions before each row's ``now``, each weighted by ``0.5 ** ((now − day) / half_life)``.

    Parameters
    ----------
    item, day
        One entry per completion: item column and day (any origin, same as ``now``).
    now
        One moment per teacher to score; only completions strictly before it count, so nothing
        from the teacher's future is used.
    half_life_days
        Age at which a completion counts half.

    Examples
    --------
    >>> recency_popularity(np.array([0, 1]), np.array([0.0, 30.0]), np.array([30.0, 60.0]), 2)
    array([[0.5 , 0.  ],
           [0.25, 0.5 ]])
    """
    if half_life_days <= 0:
        raise ValueError(f"half_life_days={half_life_days} must be positive")
    order = np.argsort(day, kind="stable")
    item, day = item[order], day[order]
    rate = np.log(2.0) / half_life_days
    origin = float(day[0]) if day.size else 0.0
    # Σ_{day < now} 2^{-(now − day)/h} = 2^{-(now − origin)/h} · Σ_{day < now} 2^{(day − origin)/h};
    # the running sum is kept per item at each distinct "now", in time order (one pass).
    scores = np.zeros((now.size, n_items))
    running = np.zeros(n_items)
    position = 0
    by_time = np.argsort(now, kind="stable")
    for row in by_time:  # ≤ one row per teacher scored, each a vector update
        end = int(np.searchsorted(day, now[row], side="left"))
        if end > position:
            np.add.at(running, item[position:end], np.exp(rate * (day[position:end] - origin)))
            position = end
        scores[row] = running * np.exp(-rate * (now[row] - origin))
    return scores


def gap_coverage(
    mastery: NDArray[np.floating[Any]], point_weights: NDArray[np.floating[Any]]
) -> NDArray[np.float64]:
    """Share of each item's point weight on the teacher's gaps: Σ_k W_ik (1 − m_tk) / Σ_k W_ik.

    Examples
    --------
    >>> gap_coverage(np.array([[0.9, 0.1]]), np.array([[1.0, 0.0], [0.5, 0.5]])).round(2).tolist()
    [[0.1, 0.5]]
    """
    totals = np.maximum(point_weights.sum(axis=1), 1e-12)
    return np.asarray(((1.0 - mastery) @ point_weights.T) / totals[None, :], dtype=np.float64)


def popularity_plus_gap(
    popularity: NDArray[np.float64], gap: NDArray[np.float64], weight: float = 0.5
) -> NDArray[np.float64]:
    """Popularity scaled to [0, 1] per row (by the row's maximum) plus ``weight`` × gap coverage.

    Examples
    --------
    >>> popularity_plus_gap(np.array([[4.0, 2.0]]), np.array([[0.0, 1.0]]), 0.5).tolist()
    [[1.0, 1.0]]
    """
    top = np.maximum(popularity.max(axis=1, keepdims=True), 1e-12)
    return np.asarray(popularity / top + weight * gap, dtype=np.float64)


class SimpleBaselines:
    """The four where-the-teacher-works baselines, built once from the training events.

    Parameters
    ----------
    events
        Training events (``teacher_id, item_id, event, timestamp``); only ``complete`` rows count.
    teachers
        Teacher table with ``teacher_id, school_id, research_group``.
    item_ids
        Column order of the score matrices (the protocol's catalog order).
    half_life_days, gap_weight
        Of :func:`recency_popularity` and :func:`popularity_plus_gap`; fixed, not tuned on the
        held-out data.
    """

    NAMES = ("school_popularity", "group_popularity", "recency_popularity", "school_popularity_gap")

    def __init__(
        self,
        events: pd.DataFrame,
        teachers: pd.DataFrame,
        item_ids: NDArray[np.str_] | list[str],
        half_life_days: float = 30.0,
        gap_weight: float = 0.5,
    ) -> None:
        self.half_life_days = half_life_days
        self.gap_weight = gap_weight
        self.teacher_index = pd.Index(teachers["teacher_id"].astype(str))
        self.school_of = pd.factorize(teachers["school_id"].astype(str))[0].astype(np.int64)
        self.group_of = pd.factorize(
            teachers["school_id"].astype(str) + "|" + teachers["research_group"].astype(str)
        )[0].astype(np.int64)
        items = pd.Index([str(i) for i in item_ids])
        done = events[events["event"] == "complete"]
        row = self.teacher_index.get_indexer(done["teacher_id"].astype(str))
        column = items.get_indexer(done["item_id"].astype(str))
        known = (row >= 0) & (column >= 0)
        self.completed = sp.csr_matrix(
            (np.ones(int(known.sum())), (row[known], column[known])),
            shape=(len(self.teacher_index), len(items)),
        )
        self.item = column[known].astype(np.int64)
        self.day = _days(done["timestamp"].to_numpy()[known])
        self.n_items = len(items)

    def scores(
        self,
        teacher_ids: list[str],
        now: NDArray[np.datetime64],
        mastery: NDArray[np.floating[Any]],
        point_weights: NDArray[np.floating[Any]],
    ) -> dict[str, NDArray[np.float64]]:
        """Score matrices (teachers × items) of every baseline, keyed by :attr:`NAMES`.

        ``now`` is each teacher's moment of asking (for recency), ``mastery`` her diagnosed
        mastery (teachers × points, the columns of ``point_weights``).
        """
        rows = self.teacher_index.get_indexer([str(t) for t in teacher_ids])
        if (rows < 0).any():
            missing = np.asarray(teacher_ids)[rows < 0][:3].tolist()
            raise ValueError(f"teachers {missing} are not in the teacher table")
        school = group_popularity(self.completed, self.school_of, rows)
        return {
            "school_popularity": school,
            "group_popularity": group_popularity(self.completed, self.group_of, rows),
            "recency_popularity": recency_popularity(
                self.item, self.day, _days(now), self.n_items, self.half_life_days
            ),
            "school_popularity_gap": popularity_plus_gap(
                school, gap_coverage(mastery, point_weights), self.gap_weight
            ),
        }


def _days(timestamps: NDArray[np.datetime64]) -> NDArray[np.float64]:
    """Days since the Unix epoch, as floats."""
    seconds = np.asarray(timestamps, dtype="datetime64[s]").astype(np.int64)
    return seconds.astype(np.float64) / 86_400.0
