"""The model selection's candidate rankers: their training rows, fitting, refitting and scoring.

:func:`~recommender.ranking.selection.select_rankers` gathers one query per teacher and kind
(:class:`QueryRows`), fits every candidate on the check's fit part, scores them on the check
(:func:`scores_where`) and asks :func:`served_candidates` which to refit on the whole sample.
Kept apart from the choosing so that what a candidate costs is read in one place: on its fixed
4,000-teacher sample the selection is the part of a million-teacher fit that does not grow
like ALS (docs/benchmarks.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from competency_model.errors import ModelError
from recommender.ranking.baseline_ranker import BaselineRanker
from recommender.ranking.boosted import LambdaRanker
from recommender.ranking.ranker import LinearRanker
from recommender.ranking.signals import LEGACY_SIGNALS

__all__ = [
    "COLD_CANDIDATES",
    "CONTINUE_SHARE",
    "REFIT_CHOICES",
    "WARM_CANDIDATES",
    "QueryRows",
    "fit_candidates",
    "pairwise_rows",
    "scores_where",
    "served_candidates",
]

Ranker = LinearRanker | LambdaRanker | BaselineRanker

#: Values of the estimator's ``ranker_refit`` hyperparameter (see :func:`served_candidates`).
REFIT_CHOICES: tuple[str, ...] = ("chosen", "continue", "all", "none")
#: Under ``continue``, the share of a full fit's boosting rounds that extend the check's
#: LambdaRank to every sampled teacher (the check saw three quarters of them).
CONTINUE_SHARE = 0.25
#: The learned candidates, simpler first (a later one must beat an earlier one to be chosen).
WARM_CANDIDATES: tuple[str, ...] = ("linear_legacy", "linear", "lambdarank")
COLD_CANDIDATES: tuple[str, ...] = ("linear", "lambdarank")
_LINEAR = ("linear_legacy", "linear")


@dataclass
class QueryRows:
    """Grouped training rows: one query per teacher, consecutive."""

    X: list[NDArray[np.float32]] = field(default_factory=list)
    y: list[NDArray[np.int8]] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)

    def add(self, X: NDArray[np.float32], y: NDArray[np.int8]) -> None:
        self.X.append(X)
        self.y.append(y)
        self.sizes.append(len(y))

    def extend(self, other: QueryRows) -> QueryRows:
        return QueryRows(self.X + other.X, self.y + other.y, self.sizes + other.sizes)

    def arrays(self) -> tuple[NDArray[np.float64], NDArray[np.int8], NDArray[np.int64]]:
        if not self.X:
            raise ModelError(
                "no teacher has a held-out completion to learn the blend from; need at least "
                "two completed items per teacher in the events"
            )
        return (
            np.concatenate(self.X).astype(np.float64),
            np.concatenate(self.y),
            np.array(self.sizes, dtype=np.int64),
        )


def pairwise_rows(
    X: NDArray[np.float64], y: NDArray[np.int8], sizes: NDArray[np.int64], rng: np.random.Generator
) -> tuple[NDArray[np.float64], NDArray[np.int8]]:
    """Differences held-out − other per query, half of them mirrored (the linear blend's rows)."""
    diffs: list[NDArray[np.float64]] = []
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    for start, size in zip(starts.tolist(), sizes.tolist(), strict=True):
        block, labels = X[start : start + size], y[start : start + size]
        pos, neg = block[labels == 1], block[labels == 0]
        if len(pos) and len(neg):
            diffs.append((pos[:, None, :] - neg[None, :, :]).reshape(-1, X.shape[1]))
    if not diffs:
        raise ModelError("the ranker needs held-out items and other candidates of one teacher")
    rows = np.concatenate(diffs)
    flip = rng.random(len(rows)) < 0.5
    rows[flip] *= -1
    return rows, (~flip).astype(np.int8)


def fit_candidates(
    rows: QueryRows, names: Sequence[str], wanted: Sequence[str], c: float, seed: int, threads: int
) -> dict[str, Ranker]:
    """The ``wanted`` learned candidates fitted on ``rows``.

    The linear blends share one set of pairwise rows: ``linear_legacy`` reads a column subset
    of the same differences (standardisation is per column, so it is the model it was on its
    own pairs), which saves building and holding a second set.
    """
    X, y, sizes = rows.arrays()
    fitted: dict[str, Ranker] = {}
    linear = [name for name in wanted if name in _LINEAR]
    if linear:
        pairs, labels = pairwise_rows(X, y, sizes, np.random.default_rng(seed))
        for name in linear:
            signals = LEGACY_SIGNALS if name == "linear_legacy" else tuple(names)
            columns = [names.index(s) for s in signals]
            on = pairs if len(columns) == len(names) else pairs[:, columns]
            fitted[name] = LinearRanker(c=c).fit(on, labels, signals)
        del pairs
    if "lambdarank" in wanted:
        fitted["lambdarank"] = LambdaRanker(random_state=seed, num_threads=threads).fit(
            X, y, names, sizes
        )
    return {name: fitted[name] for name in wanted}


def served_candidates(
    check_fits: dict[str, Ranker],
    rows: QueryRows,
    names: Sequence[str],
    chosen: str,
    refit: str,
    refit_needed: bool,
    c: float,
    seed: int,
    threads: int,
) -> dict[str, Ranker]:
    """The candidates kept after the check: which of them are refitted on every sampled teacher.

    ``all`` refits every learned candidate (so ``ranker_candidates_`` compare like with like),
    ``chosen`` only the one that serves (the others stay as fitted on the check's fit part),
    ``continue`` likewise, except that a serving LambdaRank is not refitted from scratch but
    continues boosting from the check's trees for :data:`CONTINUE_SHARE` of its rounds on every
    sampled teacher (a linear blend is cheap and refitted), ``none`` serves the check's own
    fit. Without check teachers (a tiny province) the check's fit already saw every row and
    nothing is refitted.
    """
    kept = dict(check_fits)
    if not refit_needed or refit == "none":
        return kept
    wanted = list(check_fits) if refit == "all" else [n for n in check_fits if n == chosen]
    grown = [n for n in wanted if refit == "continue" and isinstance(check_fits[n], LambdaRanker)]
    wanted = [n for n in wanted if n not in grown]
    if wanted:
        kept.update(fit_candidates(rows, names, wanted, c, seed, threads))
    for name in grown:
        start = check_fits[name]
        assert isinstance(start, LambdaRanker)
        X, y, sizes = rows.arrays()
        rounds = max(1, round(start.n_estimators * CONTINUE_SHARE))
        kept[name] = LambdaRanker(n_estimators=rounds, random_state=seed, num_threads=threads).fit(
            X, y, names, sizes, init=start
        )
    return kept


def scores_where(
    model: Ranker, signals: dict[str, NDArray[np.float32]], allowed: NDArray[np.bool_]
) -> NDArray[np.float64]:
    """A candidate's scores on the check, the trees evaluated only where an item can be shown.

    The nDCG masks every other cell to minus infinity, so scoring them (LightGBM prediction
    over every teacher × item) is wasted; the linear blends are cheap and score everything.
    """
    if not isinstance(model, LambdaRanker):
        return model.decision(signals)
    where = np.nonzero(allowed)
    scores = np.full(allowed.shape, -np.inf)
    if where[0].size:
        scores[where] = model.decision({name: value[where] for name, value in signals.items()})
    return scores
