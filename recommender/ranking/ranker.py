"""The learned blend: a logistic regression that turns signals into one ranking score.

Hand-picked blend weights encode the author's guess of how much a colleague's choice matters
against a competency gap; a ranker trained on held-out behaviour measures it instead. A linear
model is enough here (a handful of interpretable signals), its coefficients can be read and
reported, and it is stored as plain arrays — no pickle in the model directory. It is trained
pairwise (a held-out item minus another candidate of the same teacher), because a list is a
ranking within one teacher, not a probability comparable across teachers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from sklearn.base import BaseEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from competency_model.errors import ModelError
from recommender.ranking.contract import require_fitted

__all__ = ["LinearRanker", "training_rows", "validation_metrics"]


def training_rows(
    features: Mapping[str, NDArray[np.float32]],
    names: Sequence[str],
    teachers: NDArray[np.int64],
    positive_rows: NDArray[np.int64],
    positive_cols: NDArray[np.int64],
    took: sp.csr_matrix,
    eligible: NDArray[np.bool_],
    negatives_per_teacher: int,
    rng: np.random.Generator,
    pairwise: bool = True,
) -> tuple[NDArray[np.float64], NDArray[np.int8]]:
    """Labelled rows for the ranker: each teacher's held-out items against sampled other candidates.

    ``features[name]`` and ``eligible`` have one row per entry of ``teachers``. Negatives are
    drawn from the items the teacher could have been shown (eligible, not already taken), the
    same pool the ranker will later rank. With ``pairwise`` (the default) each row is the
    difference held-out − negative (label 1) or its mirror (label 0): a logistic regression on
    such rows learns to order items *within* a teacher's list, which is what the list needs,
    and ignores everything that is constant per teacher.
    """
    position = {int(t): i for i, t in enumerate(teachers)}
    stacked = np.stack([features[name] for name in names], axis=-1)
    rows: list[NDArray[np.float32]] = []
    labels: list[NDArray[np.int8]] = []
    by_teacher: dict[int, list[int]] = {}
    for r, c in zip(positive_rows.tolist(), positive_cols.tolist(), strict=True):
        by_teacher.setdefault(r, []).append(c)
    for teacher, cols in by_teacher.items():
        i = position[teacher]
        pool = eligible[i].copy()
        pool[took[teacher].indices] = False
        pool[cols] = False
        candidates = np.flatnonzero(pool)
        size = min(negatives_per_teacher, candidates.size)
        negatives = rng.choice(candidates, size=size, replace=False) if size else candidates[:0]
        if pairwise:
            if size == 0:
                continue
            diff = (stacked[i, cols][:, None, :] - stacked[i, negatives][None, :, :]).reshape(
                -1, len(names)
            )
            flip = rng.random(len(diff)) < 0.5
            diff[flip] *= -1
            rows.append(diff)
            labels.append((~flip).astype(np.int8))
        else:
            rows += [stacked[i, cols], stacked[i, negatives]]
            labels += [np.ones(len(cols), np.int8), np.zeros(size, np.int8)]
    if not rows:
        raise ModelError(
            "no teacher has a held-out item to learn the blend from; need at least "
            "two items per teacher in the events"
        )
    return np.concatenate(rows).astype(np.float64), np.concatenate(labels)


class LinearRanker(BaseEstimator):
    """Standardised logistic regression over named signals.

    Parameters
    ----------
    c
        Inverse L2 regularisation strength.
    """

    kind = "linear"

    def __init__(self, c: float = 1.0) -> None:
        self.c = c

    def fit(
        self, X: NDArray[np.float64], y: NDArray[np.int8], names: Sequence[str]
    ) -> LinearRanker:
        """Fit on rows of signals ``X`` (columns = ``names``) and 0/1 labels ``y``."""
        if X.shape[1] != len(names):
            raise ValueError(f"X has {X.shape[1]} columns but {len(names)} signal names were given")
        if len(np.unique(y)) < 2:
            raise ModelError("the ranker needs both held-out (positive) and other (negative) items")
        scaler = StandardScaler().fit(X)
        scale = np.where(scaler.scale_ > 1e-12, scaler.scale_, 1.0)
        model = LogisticRegression(C=self.c, max_iter=2000).fit((X - scaler.mean_) / scale, y)
        self.names_ = tuple(names)
        self.mean_ = scaler.mean_.astype(np.float64)
        self.scale_ = scale.astype(np.float64)
        self.coef_ = model.coef_.ravel().astype(np.float64)
        self.intercept_ = float(model.intercept_[0])
        return self

    def decision(self, features: Mapping[str, NDArray[np.float32]]) -> NDArray[np.float64]:
        """Log-odds score for every teacher × item in ``features``."""
        require_fitted(self, "coef_", "call fit first")
        score = np.full(np.shape(features[self.names_[0]]), self.intercept_)
        for j, name in enumerate(self.names_):
            score = score + self.coef_[j] * ((features[name] - self.mean_[j]) / self.scale_[j])
        return score

    def weights(self) -> dict[str, float]:
        """Coefficient per signal on the standardised scale (comparable across signals)."""
        return {name: round(float(w), 4) for name, w in zip(self.names_, self.coef_, strict=True)}

    def to_arrays(self, prefix: str) -> dict[str, NDArray[Any]]:
        """Learned state as plain arrays."""
        return {
            f"{prefix}kind": np.array(self.kind),
            f"{prefix}names": np.array(self.names_),
            f"{prefix}mean": self.mean_,
            f"{prefix}scale": self.scale_,
            f"{prefix}coef": self.coef_,
            f"{prefix}intercept": np.array([self.intercept_]),
            f"{prefix}c": np.array([self.c]),
        }

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, NDArray[Any]], prefix: str) -> LinearRanker:
        """Rebuild from :meth:`to_arrays` output."""
        ranker = cls(c=float(arrays[f"{prefix}c"][0]))
        ranker.names_ = tuple(str(n) for n in arrays[f"{prefix}names"].tolist())
        ranker.mean_ = np.asarray(arrays[f"{prefix}mean"], dtype=np.float64)
        ranker.scale_ = np.asarray(arrays[f"{prefix}scale"], dtype=np.float64)
        ranker.coef_ = np.asarray(arrays[f"{prefix}coef"], dtype=np.float64)
        ranker.intercept_ = float(arrays[f"{prefix}intercept"][0])
        return ranker


def validation_metrics(
    scores_by_name: Mapping[str, NDArray[np.float64]],
    allowed: NDArray[np.bool_],
    teachers: NDArray[np.int64],
    rows: NDArray[np.int64],
    cols: NDArray[np.int64],
) -> dict[str, Any]:
    """nDCG@10/recall@10 of each score matrix on the validation items ``(rows, cols)``.

    Used by ``fit`` as a sanity check: the CF scores are out of sample (fitted before the
    held-out item) but the blend weights were learned on these rows, so this is not the
    evaluation — ``nengli evaluate recommend`` is.
    """
    from recommender.evaluation.metrics import ndcg_at_k, recall_at_k

    relevant_by: dict[int, set[int]] = {}
    for r, c in zip(rows.tolist(), cols.tolist(), strict=True):
        relevant_by.setdefault(r, set()).add(c)
    relevant = [relevant_by.get(int(t), set()) for t in teachers]
    result: dict[str, Any] = {"teachers": int(teachers.size)}
    for name, scores in scores_by_name.items():
        masked = np.where(allowed, scores, -np.inf)
        top = np.argsort(-masked, axis=1, kind="stable")[:, :10]
        ranked = [list(r) for r in top]
        result[f"{name}_ndcg@10"] = round(ndcg_at_k(ranked, relevant, 10), 4)
        result[f"{name}_recall@10"] = round(recall_at_k(ranked, relevant, 10), 4)
    return result
