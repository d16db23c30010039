"""Top-k ranking metrics with binary relevance, defined as in the Microsoft Recommenders library.

The definitions follow ``recommenders.evaluation.python_evaluation`` so that figures measured here
can be set next to their published MovieLens table: precision divides hits by ``k``; recall by
the number of relevant items; nDCG uses binary gains and an ideal list of ``min(k, |relevant|)``
hits; ``map`` (their "MAP" column, Spark MLlib's definition) divides the summed precision at each
hit by the number of relevant items, while ``map_at_k`` divides by ``min(k, |relevant|)``. Users
with no relevant item are left out of every mean, as there.

Every function takes ``recommended`` (one ranked sequence of item ids per user) and ``relevant``
(one set per user, same order).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence, Set
from typing import Any

import numpy as np

__all__ = [
    "catalog_coverage",
    "gap_hit_at_k",
    "map_at_k",
    "mean_average_precision",
    "ndcg_at_k",
    "precision_at_k",
    "ranking_report",
    "recall_at_k",
]

Ranked = Sequence[Sequence[Any]]
Relevant = Sequence[Set[Any]]


def _pairs(recommended: Ranked, relevant: Relevant) -> list[tuple[Sequence[Hashable], set]]:
    if len(recommended) != len(relevant):
        raise ValueError(
            f"recommended has {len(recommended)} users but relevant has {len(relevant)}; "
            "pass one ranked list and one relevant set per user, in the same order"
        )
    return [
        (list(ranked), set(truth))
        for ranked, truth in zip(recommended, relevant, strict=True)
        if truth
    ]


def _check_k(k: int) -> None:
    if k < 1:
        raise ValueError(f"k={k} must be at least 1")


def _hits(ranked: Sequence[Hashable], truth: set, k: int) -> np.ndarray:
    return np.fromiter((item in truth for item in ranked[:k]), dtype=bool)


def _mean_over_users(
    recommended: Ranked,
    relevant: Relevant,
    k: int,
    per_user: Callable[[Sequence[Hashable], set], float],
) -> float:
    """Mean of ``per_user(ranked, truth)`` over users with a relevant item (0 if there is none)."""
    _check_k(k)
    pairs = _pairs(recommended, relevant)
    if not pairs:
        return 0.0
    return float(np.mean([per_user(ranked, truth) for ranked, truth in pairs]))


def precision_at_k(recommended: Ranked, relevant: Relevant, k: int = 10) -> float:
    """Mean share of the top ``k`` that is relevant (divides by ``k`` even if fewer were ranked)."""
    return _mean_over_users(recommended, relevant, k, lambda r, t: _hits(r, t, k).sum() / k)


def recall_at_k(recommended: Ranked, relevant: Relevant, k: int = 10) -> float:
    """Mean share of each user's relevant items found in the top ``k``."""
    return _mean_over_users(recommended, relevant, k, lambda r, t: _hits(r, t, k).sum() / len(t))


def _discounts(n: int) -> np.ndarray:
    return 1.0 / np.log2(np.arange(2, n + 2))


def ndcg_at_k(recommended: Ranked, relevant: Relevant, k: int = 10) -> float:
    """Mean normalised discounted cumulative gain with binary gains.

    The log base cancels in the ratio, so this equals the library's natural-log variant.
    """
    discounts = _discounts(k)  # empty for k < 1, which _mean_over_users rejects

    def ndcg(ranked: Sequence[Hashable], truth: set) -> float:
        hits = _hits(ranked, truth, k)
        dcg = float(discounts[: hits.size][hits].sum())
        ideal = float(discounts[: min(k, len(truth))].sum())
        return dcg / ideal

    return _mean_over_users(recommended, relevant, k, ndcg)


def _average_precision(ranked: Sequence[Hashable], truth: set, k: int, denominator: int) -> float:
    hits = _hits(ranked, truth, k)
    if not hits.any():
        return 0.0
    ranks = np.flatnonzero(hits) + 1
    return float((np.arange(1, ranks.size + 1) / ranks).sum() / denominator)


def mean_average_precision(recommended: Ranked, relevant: Relevant, k: int = 10) -> float:
    """MAP over the top ``k`` normalised by the number of relevant items (the library's ``map``)."""
    return _mean_over_users(
        recommended, relevant, k, lambda r, t: _average_precision(r, t, k, len(t))
    )


def map_at_k(recommended: Ranked, relevant: Relevant, k: int = 10) -> float:
    """MAP@k normalised by ``min(k, |relevant|)`` (the library's ``map_at_k``)."""
    return _mean_over_users(
        recommended, relevant, k, lambda r, t: _average_precision(r, t, k, min(k, len(t)))
    )


def catalog_coverage(recommended: Ranked, catalog_size: int, k: int = 10) -> float:
    """Share of the catalog that appears in at least one user's top ``k``."""
    _check_k(k)
    if catalog_size < 1:
        raise ValueError(f"catalog_size={catalog_size} must be positive")
    shown = {item for ranked in recommended for item in list(ranked)[:k]}
    return len(shown) / catalog_size


def gap_hit_at_k(
    recommended: Ranked, developing: Sequence[Iterable[Hashable]], k: int = 10
) -> float:
    """Mean share of the top ``k`` that develops at least one point the user has not mastered.

    ``developing[u]`` is the set of items that touch one of user ``u``'s truly unmastered points;
    the denominator is ``k`` so that a short list is not rewarded.
    """
    _check_k(k)
    if len(recommended) != len(developing):
        raise ValueError(
            f"recommended has {len(recommended)} users but developing has {len(developing)}"
        )
    if not recommended:
        return 0.0
    values = []
    for ranked, items in zip(recommended, developing, strict=True):
        good = set(items)
        values.append(sum(item in good for item in list(ranked)[:k]) / k)
    return float(np.mean(values))


def ranking_report(recommended: Ranked, relevant: Relevant, k: int = 10) -> dict[str, float]:
    """All relevance metrics at ``k`` in one dictionary, keyed like ``ndcg@10``."""
    return {
        f"precision@{k}": precision_at_k(recommended, relevant, k),
        f"recall@{k}": recall_at_k(recommended, relevant, k),
        f"ndcg@{k}": ndcg_at_k(recommended, relevant, k),
        f"map@{k}": map_at_k(recommended, relevant, k),
        "map": mean_average_precision(recommended, relevant, k),
        "n_users": float(sum(1 for truth in relevant if truth)),
    }
