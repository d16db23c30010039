"""Evidence fusion: school grades and completed courses/tasks update the questionnaire posterior.

Each piece of evidence about point *k* adds its log-likelihood ratio (mastered vs not) to the
questionnaire's posterior log-odds, shrunk towards zero by its age (half-life decay: a grade from
two years ago says less about today than one from last month). Points with little direct
evidence borrow a share of their graph neighbours' evidence, and the prior they start from
already borrows from peers (see :mod:`recommender.diagnosis.higher_order`).

The course/task ratios are stated assumptions: the programme publishes no data linking them to
an independent measure of mastery. The grade likelihoods start as assumptions too and are
refined by EM on the province's own grades (:func:`estimate_grade_likelihood`), with the
assumptions as a prior. All of them live in one pydantic model so a province can override them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field, model_validator

from competency_model.errors import NengliError

__all__ = ["GRADES", "FusionConfig", "estimate_grade_likelihood", "evidence_log_odds", "fuse"]

GRADES: tuple[str, ...] = ("优秀", "合格", "不合格")


class FusionConfig(BaseModel):
    """How much each kind of evidence moves the posterior.

    Attributes
    ----------
    grade_likelihood
        Grade -> (P(grade | mastered), P(grade | not mastered)). The default makes 优秀 about
        12x more likely for a master, 合格 1.6x, and 不合格 12x less likely.
    course_log_odds, task_log_odds
        Log-odds added by completing an online course / a practice task whose whole weight is
        on the point; scaled by the catalog's point weight. Practice counts more because the
        programme treats classroom application as the stronger evidence.
    half_life_days
        Age at which evidence counts half.
    neighbour_share
        Share of the weighted mean of neighbours' evidence a point receives.
    sd_threshold
        A point is flagged ``insufficient_evidence`` when the posterior SD of its mastery
        indicator exceeds this (0.4 means the probability is between 0.2 and 0.8) ...
    min_evidence
        ... or when it has fewer than this many pieces of direct evidence.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    grade_likelihood: dict[str, tuple[float, float]] = Field(
        default_factory=lambda: {"优秀": (0.35, 0.03), "合格": (0.60, 0.37), "不合格": (0.05, 0.60)}
    )
    course_log_odds: float = Field(default=0.5, ge=0.0)
    task_log_odds: float = Field(default=1.0, ge=0.0)
    half_life_days: float = Field(default=365.0, gt=0.0)
    neighbour_share: float = Field(default=0.3, ge=0.0, le=1.0)
    sd_threshold: float = Field(default=0.4, gt=0.0, le=0.5)
    min_evidence: int = Field(default=1, ge=0)

    @model_validator(mode="after")
    def _check_grades(self) -> FusionConfig:
        if set(self.grade_likelihood) != set(GRADES):
            raise ValueError(f"grade_likelihood must cover exactly {GRADES}")
        for grade, pair in self.grade_likelihood.items():
            if not all(0.0 < p < 1.0 for p in pair):
                raise ValueError(f"grade_likelihood[{grade!r}] = {pair}; probabilities in (0, 1)")
        return self

    def grade_log_odds(self) -> dict[str, float]:
        """Log-likelihood ratio of each grade."""
        return {g: float(np.log(a / b)) for g, (a, b) in self.grade_likelihood.items()}


def _decay(ages_days: NDArray[np.float64], half_life: float) -> NDArray[np.float64]:
    # Future-dated evidence (clock skew between systems) counts as fresh, never as more.
    return np.power(0.5, np.clip(ages_days, 0.0, None) / half_life)


def evidence_log_odds(
    teacher_index: dict[str, int],
    codes: Sequence[str],
    grades: pd.DataFrame,
    completions: pd.DataFrame,
    point_weights: pd.DataFrame | None,
    config: FusionConfig,
    as_of: datetime | pd.Timestamp,
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Sum the decayed log-likelihood ratios of grades and completions per teacher x point.

    Parameters
    ----------
    teacher_index
        teacher_id -> row.
    codes
        Point codes in column order.
    grades
        Columns teacher_id, point, grade, assessed_at.
    completions
        Columns teacher_id, item_id (catalog id), timestamp: one row per completed item.
    point_weights
        Long frame item_id, point, weight, kind ("online"|"practice"); None when no catalog.
    as_of
        The moment the diagnosis describes; ages are measured back from it.

    Returns
    -------
    log_odds, counts
        (teachers x points) arrays: summed evidence and number of direct pieces.
    """
    n, k = len(teacher_index), len(codes)
    column = {c: i for i, c in enumerate(codes)}
    log_odds = np.zeros((n, k))
    counts = np.zeros((n, k), dtype=np.int64)
    as_of = pd.Timestamp(as_of)
    if len(grades):
        bad = ~grades["grade"].isin(GRADES)
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise NengliError(
                f"grades row {row}: grade {grades['grade'].iloc[row]!r}; use one of {GRADES}"
            )
        unknown = ~grades["point"].isin(column)
        if unknown.any():
            row = int(np.flatnonzero(unknown.to_numpy())[0])
            raise NengliError(
                f"grades row {row}: point {grades['point'].iloc[row]!r} is not in the framework"
            )
        known = grades["teacher_id"].isin(teacher_index)
        g = grades[known]
        rows = g["teacher_id"].map(teacher_index).to_numpy(dtype=np.int64)
        cols = g["point"].map(column).to_numpy(dtype=np.int64)
        ratio = g["grade"].map(config.grade_log_odds()).to_numpy(dtype=np.float64)
        ages = (as_of - pd.to_datetime(g["assessed_at"])).dt.total_seconds().to_numpy() / 86400
        np.add.at(log_odds, (rows, cols), ratio * _decay(ages, config.half_life_days))
        np.add.at(counts, (rows, cols), 1)
    if len(completions) and point_weights is not None and len(point_weights):
        done = completions[completions["teacher_id"].isin(teacher_index)]
        merged = done.merge(point_weights, on="item_id", how="inner")
        merged = merged[merged["point"].isin(column) & (merged["weight"] > 0)]
        rows = merged["teacher_id"].map(teacher_index).to_numpy(dtype=np.int64)
        cols = merged["point"].map(column).to_numpy(dtype=np.int64)
        strength = np.where(
            merged["kind"].to_numpy() == "practice", config.task_log_odds, config.course_log_odds
        )
        ages = (as_of - pd.to_datetime(merged["timestamp"])).dt.total_seconds().to_numpy() / 86400
        weight = merged["weight"].to_numpy(dtype=np.float64)
        np.add.at(log_odds, (rows, cols), strength * weight * _decay(ages, config.half_life_days))
        np.add.at(counts, (rows, cols), 1)
    return log_odds, counts


def fuse(
    prior_probability: NDArray[np.float64],
    log_odds: NDArray[np.float64],
    counts: NDArray[np.int64],
    adjacency: NDArray[np.float64],
    config: FusionConfig,
) -> dict[str, NDArray]:
    """Combine the questionnaire posterior with evidence; add SD, counts and the flag.

    Parameters
    ----------
    prior_probability
        (teachers x points) questionnaire posterior (already borrowing from peers/graph).
    log_odds, counts
        From :func:`evidence_log_odds`, with questionnaire item counts added to ``counts``.
    adjacency
        Symmetric point weights; column-normalised to spread evidence to neighbours.

    Returns
    -------
    dict
        ``mastery_probability``, ``sd``, ``evidence_count``, ``insufficient_evidence``.
    """
    column_sums = adjacency.sum(axis=0)
    spread = np.divide(adjacency, column_sums, out=np.zeros_like(adjacency), where=column_sums > 0)
    borrowed = config.neighbour_share * (log_odds @ spread)
    p = np.clip(prior_probability, 1e-9, 1 - 1e-9)
    logit = np.log(p) - np.log1p(-p) + log_odds + borrowed
    probability = 1.0 / (1.0 + np.exp(-logit))
    sd = np.sqrt(probability * (1.0 - probability))
    insufficient = (counts < config.min_evidence) | (sd > config.sd_threshold)
    if config.min_evidence == 0:
        insufficient |= counts == 0
    return {
        "mastery_probability": probability,
        "sd": sd,
        "evidence_count": counts,
        "insufficient_evidence": insufficient,
    }


def estimate_grade_likelihood(
    prior_probability: NDArray[np.float64],
    grades: Sequence[str],
    config: FusionConfig,
    *,
    prior_strength: float = 20.0,
    max_iter: int = 200,
    tol: float = 1e-6,
) -> FusionConfig:
    """Re-estimate P(grade | mastered) and P(grade | not) by EM from observed grades.

    Each graded (teacher, point) pair has a prior mastery probability from the other evidence;
    the grade is treated as one more noisy indicator of that mastery. The configured
    likelihoods act as a Dirichlet prior worth ``prior_strength`` grades per row, so a few
    hundred grades refine rather than replace them.

    Parameters
    ----------
    prior_probability
        Mastery probability of each graded pair without its grade, shape (n,).
    grades
        The grade of each pair (优秀/合格/不合格).
    config
        Current settings; the returned copy differs only in ``grade_likelihood``.
    """
    labels = np.asarray(grades)
    if labels.shape != np.shape(prior_probability):
        raise NengliError(
            f"{labels.size} grades but {np.size(prior_probability)} prior probabilities"
        )
    one_hot = np.stack([labels == g for g in GRADES], axis=1).astype(np.float64)
    start = np.array([config.grade_likelihood[g] for g in GRADES])  # grades x (master, not)
    pseudo = prior_strength * start / start.sum(axis=0, keepdims=True)
    table = start / start.sum(axis=0, keepdims=True)
    p = np.clip(np.asarray(prior_probability, dtype=np.float64), 1e-6, 1 - 1e-6)
    for _ in range(max_iter):
        on_master = one_hot @ table[:, 0]
        on_other = one_hot @ table[:, 1]
        weight = p * on_master / (p * on_master + (1 - p) * on_other)
        counts = np.stack([one_hot.T @ weight, one_hot.T @ (1 - weight)], axis=1) + pseudo
        new = counts / counts.sum(axis=0, keepdims=True)
        change = float(np.abs(new - table).max())
        table = new
        if change < tol:
            break
    learned = {g: (float(table[i, 0]), float(table[i, 1])) for i, g in enumerate(GRADES)}
    return config.model_copy(update={"grade_likelihood": learned})
