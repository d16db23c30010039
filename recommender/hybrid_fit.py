"""Training the hybrid recommender: event matrices, the diagnosis matrix and the two rankers.

:meth:`~recommender.hybrid.HybridRecommender.fit` delegates here so the estimator module stays
about serving. Fitting happens twice over the events: first on everything before each teacher's
latest item, so the rankers learn to find that held-out item from the signals; then the CF
models and social counts are refitted on all events for serving. The learned state is set on
the estimator (attributes ending in ``_``), as sklearn's contract expects.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import NDArray

from recommender.cf import Algorithm, CollaborativeFilter, confidence_matrix
from recommender.filters import PolicyRules, environment_mask
from recommender.ranker import LinearRanker, training_rows, validation_metrics
from recommender.signals import (
    CONTENT_SIGNALS,
    SIGNALS,
    ItemTable,
    PointTable,
    SocialCounts,
    TeacherTable,
)

if TYPE_CHECKING:
    from recommender.hybrid import HybridRecommender

__all__ = ["cf_model", "eligible_items", "event_matrices", "fit_recommender", "mastery_matrix"]


def cf_model(model: HybridRecommender, algorithm: str) -> CollaborativeFilter:
    """An unfitted CF model of ``algorithm`` carrying the recommender's hyperparameters."""
    return CollaborativeFilter(
        algorithm=cast(Algorithm, algorithm),
        factors=model.factors,
        regularization=model.regularization,
        alpha=model.alpha,
        iterations=model.iterations,
        neighbours=model.neighbours,
        num_threads=model.num_threads,
        random_state=model.random_state,
    )


def event_matrices(
    model: HybridRecommender, events: pd.DataFrame
) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """Confidence (teachers × items) and the 0/1 completed matrix, in the model's row order."""
    teacher_index = pd.Index(model.teachers_.teacher_ids)
    item_index = pd.Index(model.items_.item_ids)
    confidence = confidence_matrix(events, teacher_index, item_index, model.event_weights)
    done = events[events["event"] == "complete"]
    completed = confidence_matrix(
        done,
        teacher_index,
        item_index,
        {"complete": 1.0, "enrol": 0.0, "progress": 0.0, "rate": 0.0},
    )
    completed.data[:] = 1.0
    return confidence, completed


def mastery_matrix(model: HybridRecommender, mastery: pd.DataFrame) -> NDArray[np.float64]:
    """Diagnosis as teachers × points in the model's order; gaps take the population mean.

    Accepts the long form (teacher_id, point, mastery_probability) or the wide form (teacher_id
    plus one column per point code).
    """
    codes = model.points_.codes.tolist()
    if "point" in mastery.columns:
        wide = mastery.pivot_table(
            index="teacher_id", columns="point", values="mastery_probability", aggfunc="mean"
        ).reindex(columns=codes)
    else:
        # Already wide (teacher_id + one column per point): saves a 30-million-row pivot
        # for a million teachers.
        wide = mastery.set_index("teacher_id").reindex(columns=codes)
    wide.index = wide.index.astype(str)
    prior = wide.mean(axis=0).fillna(0.5)
    wide = wide.reindex(model.teachers_.teacher_ids).fillna(prior)
    return np.clip(wide.to_numpy(dtype=np.float64), 0.0, 1.0)


def eligible_items(model: HybridRecommender, rows: NDArray[np.int64]) -> NDArray[np.bool_]:
    """Items each teacher could be shown at all (environment and policy gating)."""
    ranks = model.teachers_.school_environment_rank[model.teachers_.school_row[rows]]
    by_rank = {
        int(r): environment_mask(model.items_, model.points_, int(r), model.rules_)
        for r in np.unique(ranks)
    }
    return np.array([by_rank[int(r)] for r in ranks]).reshape(len(rows), len(model.items_.item_ids))


def fit_recommender(
    model: HybridRecommender,
    province: Any,
    mastery: pd.DataFrame,
    catalog: Any,
    framework: Any,
    policy: Any | None = None,
) -> None:
    """Set every learned attribute of ``model`` (see :meth:`HybridRecommender.fit`)."""
    from recommender.evaluation.splits import time_split

    model.points_ = PointTable.from_framework(framework)
    codes = model.points_.codes.tolist()
    model.items_ = ItemTable.from_catalog(catalog, codes)
    model.teachers_ = TeacherTable.from_frames(province.teachers, province.schools, codes)
    model.rules_ = PolicyRules.default() if policy is None else PolicyRules.from_policy(policy)
    model.mastery_ = mastery_matrix(model, mastery)
    model.mastery_prior_ = (
        model.mastery_.mean(axis=0) if len(model.mastery_) else np.full(len(codes), 0.5)
    )
    model._teacher_lookup = {t: i for i, t in enumerate(model.teachers_.teacher_ids.tolist())}

    # 1. Validation split: everything before each teacher's latest item trains inner models;
    #    the latest item is what the ranker learns to find.
    events = province.events
    inner_events, validation = time_split(events, holdout_items=1, min_train_items=1)
    confidence, completed = event_matrices(model, inner_events)
    took = (confidence > 0).astype(np.float32)
    inner_social = SocialCounts.from_matrices(took, completed, model.teachers_)
    inner_als = cf_model(model, "als").fit(confidence)
    inner_knn = cf_model(model, "item_knn").fit(confidence)
    rng = np.random.default_rng(model.random_state)
    val_rows = pd.Index(model.teachers_.teacher_ids).get_indexer(validation["teacher_id"])
    val_cols = pd.Index(model.items_.item_ids).get_indexer(validation["item_id"])
    ok = (val_rows >= 0) & (val_cols >= 0)
    val_rows, val_cols = val_rows[ok], val_cols[ok]
    teachers = np.unique(val_rows)
    if teachers.size > model.max_ranker_teachers:
        teachers = np.sort(rng.choice(teachers, model.max_ranker_teachers, replace=False))
    keep = np.isin(val_rows, teachers)
    features = model._features(teachers, inner_social, took, inner_als, inner_knn)
    X, y = training_rows(
        features,
        SIGNALS,
        teachers,
        val_rows[keep],
        val_cols[keep],
        took,
        model._eligible(teachers),
        model.negatives_per_teacher,
        rng,
    )
    model.ranker_ = LinearRanker(c=model.ranker_c).fit(X, y, SIGNALS)
    content = [SIGNALS.index(s) for s in CONTENT_SIGNALS]
    model.cold_ranker_ = LinearRanker(c=model.ranker_c).fit(X[:, content], y, CONTENT_SIGNALS)
    allowed = model._eligible(teachers) & ~(np.asarray(took[teachers].todense()) > 0)
    model.validation_metrics_ = validation_metrics(
        {
            "blend": model.ranker_.decision(features),
            "popularity": np.tile(np.log1p(inner_social.item_took), (len(teachers), 1)),
        },
        allowed,
        teachers,
        val_rows[keep],
        val_cols[keep],
    )

    # 2. Final models on all events.
    confidence, completed = event_matrices(model, events)
    model.took_ = (confidence > 0).astype(np.float32).tocsr()
    model.completed_ = completed
    model.social_ = SocialCounts.from_matrices(model.took_, completed, model.teachers_)
    model.als_ = cf_model(model, "als").fit(confidence)
    model.knn_ = cf_model(model, "item_knn").fit(confidence)
    # One confidence matrix serves both CF models (item-kNN scores from the same rows).
    model.knn_.user_items_ = model.als_.user_items_
    model.model_version = "unsaved"
