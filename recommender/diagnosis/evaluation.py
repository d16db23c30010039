"""Metrics for mastery classification against known truth, and the sum-score baseline."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.metrics import roc_auc_score

from competency_model.errors import NengliError

__all__ = ["expected_calibration_error", "mastery_metrics", "sum_score_mastery"]


def expected_calibration_error(truth: ArrayLike, probability: ArrayLike, n_bins: int = 10) -> float:
    """Expected calibration error over equal-width probability bins.

    The weighted mean, over bins, of |observed mastery rate - mean predicted probability|;
    0 means that among points given 70 %, 70 % are mastered.
    """
    y = np.asarray(truth, dtype=np.float64).ravel()
    p = np.asarray(probability, dtype=np.float64).ravel()
    bins = np.minimum((p * n_bins).astype(np.int64), n_bins - 1)
    total = np.bincount(bins, minlength=n_bins)
    observed = np.bincount(bins, weights=y, minlength=n_bins)
    predicted = np.bincount(bins, weights=p, minlength=n_bins)
    used = total > 0
    gap = np.abs(observed[used] - predicted[used]) / total[used]
    return float((gap * total[used]).sum() / max(total.sum(), 1))


def mastery_metrics(truth: ArrayLike, probability: ArrayLike) -> dict[str, float]:
    """Accuracy (threshold 0.5), pooled AUC, mean per-point AUC, ECE and Brier score.

    Parameters
    ----------
    truth
        (teachers x points) 0/1 true mastery.
    probability
        (teachers x points) predicted mastery probability.
    """
    y = np.asarray(truth, dtype=np.float64)
    p = np.asarray(probability, dtype=np.float64)
    if y.shape != p.shape:
        raise NengliError(f"truth has shape {y.shape} but probabilities have shape {p.shape}")
    if np.isnan(p).any():
        raise NengliError("probabilities contain NaN; impute before scoring")
    point_auc = [
        roc_auc_score(y[:, k], p[:, k]) for k in range(y.shape[1]) if 0 < y[:, k].mean() < 1
    ]
    both = 0 < y.mean() < 1
    return {
        "accuracy": float(((p >= 0.5) == (y == 1)).mean()),
        "auc": float(roc_auc_score(y.ravel(), p.ravel())) if both else float("nan"),
        "mean_point_auc": float(np.mean(point_auc)) if point_auc else float("nan"),
        "ece": expected_calibration_error(y, p),
        "brier": float(((p - y) ** 2).mean()),
    }


def sum_score_mastery(
    codes: NDArray[np.int8], q_matrix: ArrayLike, n_categories: ArrayLike
) -> NDArray[np.float64]:
    """Baseline: per point, the mean rescaled score of the answered items measuring it.

    Right/wrong items score 0/1 and ratings are rescaled to 0..1; a point with no answered
    item gets 0.5. Thresholding at 0.5 gives the classic sum-score classification.
    """
    q = np.asarray(q_matrix, dtype=np.float64)
    cats = np.asarray(n_categories, dtype=np.float64)
    observed = codes >= 0
    scaled = np.where(observed, codes / (cats[None, :] - 1), 0.0)
    totals = scaled @ q
    answered = observed.astype(np.float64) @ q
    return np.divide(totals, answered, out=np.full(totals.shape, 0.5), where=answered > 0)
