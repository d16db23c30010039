"""Offline evaluation: ranking metrics, splits and the two protocols (MovieLens, province)."""

from recommender.evaluation.metrics import (
    catalog_coverage,
    gap_hit_at_k,
    map_at_k,
    mean_average_precision,
    ndcg_at_k,
    precision_at_k,
    ranking_report,
    recall_at_k,
)
from recommender.evaluation.splits import holdout_users, stratified_split, time_split

__all__ = [
    "catalog_coverage",
    "gap_hit_at_k",
    "holdout_users",
    "map_at_k",
    "mean_average_precision",
    "ndcg_at_k",
    "precision_at_k",
    "ranking_report",
    "recall_at_k",
    "stratified_split",
    "time_split",
]
