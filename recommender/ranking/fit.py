"""Training the hybrid recommender: event matrices, the diagnosis matrix and the two rankers.

:meth:`~recommender.ranking.HybridRecommender.fit` hands its hyperparameters and data here and
receives a :class:`~recommender.ranking.state.FittedState`. Fitting happens twice over the
events: first on everything before each teacher's latest item, so the rankers learn to find
that held-out item from the signals; then the CF models and social counts are refitted on all
events for serving (the ALS warm-started from the first fit, :data:`REFIT_SWEEPS` sweeps).
The event log is coded to integers once (:mod:`~recommender.ranking.coded_events`); no
teachers × items array is ever dense, only the ranker's sample of teachers is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import NDArray

from competency_model.catalog import Catalog
from competency_model.framework import Framework
from competency_model.policy import Policy
from competency_model.province import ProvinceTables
from recommender.ranking.cf import Algorithm, CollaborativeFilter, confidence_matrix
from recommender.ranking.coded_events import CodedEvents, latest_item_split
from recommender.ranking.filters import PolicyRules
from recommender.ranking.ranker import LinearRanker, training_rows, validation_metrics
from recommender.ranking.serving import eligible_items, features
from recommender.ranking.signals import (
    CONTENT_SIGNALS,
    SIGNALS,
    ItemTable,
    PointTable,
    SocialCounts,
    TeacherTable,
)
from recommender.ranking.state import FittedState

__all__ = [
    "REFIT_SWEEPS",
    "FitSettings",
    "cf_model",
    "event_matrices",
    "fit_state",
    "mastery_matrix",
]

#: ALS sweeps of the final fit on all events, continuing from the validation-split factors
#: (a full fit from random factors would double the training time for the same model).
REFIT_SWEEPS = 3


@dataclass(frozen=True)
class FitSettings:
    """The estimator's hyperparameters that fitting reads (see ``HybridRecommender``)."""

    factors: int
    regularization: float
    alpha: float
    iterations: int
    neighbours: int
    max_ranker_teachers: int
    negatives_per_teacher: int
    ranker_c: float
    event_weights: Mapping[str, float] | None
    num_threads: int
    random_state: int

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> FitSettings:
        """Pick the fitting hyperparameters out of ``get_params()``."""
        return cls(**{name: params[name] for name in cls.__dataclass_fields__})


def cf_model(settings: FitSettings, algorithm: str) -> CollaborativeFilter:
    """An unfitted CF model of ``algorithm`` carrying the recommender's hyperparameters."""
    return CollaborativeFilter(
        algorithm=cast(Algorithm, algorithm),
        factors=settings.factors,
        regularization=settings.regularization,
        alpha=settings.alpha,
        iterations=settings.iterations,
        neighbours=settings.neighbours,
        num_threads=settings.num_threads,
        random_state=settings.random_state,
    )


def event_matrices(
    events: pd.DataFrame,
    teachers: TeacherTable,
    items: ItemTable,
    event_weights: Mapping[str, float] | None,
) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """Confidence (teachers × items) and the 0/1 completed matrix, in the tables' row order."""
    teacher_index = pd.Index(teachers.teacher_ids)
    item_index = pd.Index(items.item_ids)
    confidence = confidence_matrix(events, teacher_index, item_index, event_weights)
    done = events[events["event"] == "complete"]
    completed = confidence_matrix(
        done,
        teacher_index,
        item_index,
        {"complete": 1.0, "enrol": 0.0, "progress": 0.0, "rate": 0.0},
    )
    completed.data[:] = 1.0
    return confidence, completed


def mastery_matrix(
    mastery: pd.DataFrame, teachers: TeacherTable, points: PointTable
) -> NDArray[np.float64]:
    """Diagnosis as teachers × points in the tables' order; gaps take the population mean.

    Accepts the long form (teacher_id, point, mastery_probability) or the wide form (teacher_id
    plus one column per point code).
    """
    codes = points.codes.tolist()
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
    wide = wide.reindex(teachers.teacher_ids).fillna(prior)
    return np.clip(wide.to_numpy(dtype=np.float64), 0.0, 1.0)


def fit_state(
    settings: FitSettings,
    province: ProvinceTables,
    mastery: pd.DataFrame,
    catalog: Catalog,
    framework: Framework,
    policy: Policy | None = None,
) -> FittedState:
    """Everything :meth:`HybridRecommender.fit` learns (see there for the arguments)."""
    points = PointTable.from_framework(framework)
    codes = points.codes.tolist()
    items = ItemTable.from_catalog(catalog, codes)
    teachers = TeacherTable.from_frames(province.teachers, province.schools, codes)
    rules = PolicyRules.default() if policy is None else PolicyRules.from_policy(policy)
    diagnosis = mastery_matrix(mastery, teachers, points)
    prior = diagnosis.mean(axis=0) if len(diagnosis) else np.full(len(codes), 0.5)

    # 1. Validation split: everything before each teacher's latest item trains inner models;
    #    the latest item is what the ranker learns to find. The log is coded once (integer
    #    rows/columns) and every matrix below is built from the codes.
    coded = CodedEvents.from_frame(province.events, teachers.teacher_ids, items.item_ids)
    keep_inner, val_rows, val_cols = latest_item_split(coded)
    confidence = coded.confidence(keep_inner, settings.event_weights)
    completed = coded.completed(keep_inner)
    took = (confidence > 0).astype(np.float32)
    inner_social = SocialCounts.from_matrices(took, completed, teachers)
    inner_als = cf_model(settings, "als").fit(confidence)
    inner_knn = cf_model(settings, "item_knn").fit(confidence)
    rng = np.random.default_rng(settings.random_state)
    sample = np.unique(val_rows)
    if sample.size > settings.max_ranker_teachers:
        sample = np.sort(rng.choice(sample, settings.max_ranker_teachers, replace=False))
    keep = np.isin(val_rows, sample)
    signals = features(
        sample, diagnosis, teachers, items, points, inner_social, took, inner_als, inner_knn
    )
    eligible = eligible_items(sample, teachers, items, points, rules)
    X, y = training_rows(
        signals,
        SIGNALS,
        sample,
        val_rows[keep],
        val_cols[keep],
        took,
        eligible,
        settings.negatives_per_teacher,
        rng,
    )
    ranker = LinearRanker(c=settings.ranker_c).fit(X, y, SIGNALS)
    content = [SIGNALS.index(s) for s in CONTENT_SIGNALS]
    cold_ranker = LinearRanker(c=settings.ranker_c).fit(X[:, content], y, CONTENT_SIGNALS)
    allowed = eligible & ~(np.asarray(took[sample].todense()) > 0)
    metrics = validation_metrics(
        {
            "blend": ranker.decision(signals),
            "popularity": np.tile(np.log1p(inner_social.item_took), (len(sample), 1)),
        },
        allowed,
        sample,
        val_rows[keep],
        val_cols[keep],
    )

    # 2. Final models on all events: the ALS continues from the inner factors (the matrices
    #    differ by one item per teacher), so the whole fit costs about one ALS fit.
    del signals, X, y, eligible, allowed
    confidence = coded.confidence(None, settings.event_weights)
    completed = coded.completed(None)
    del coded
    final_took = (confidence > 0).astype(np.float32).tocsr()
    als = inner_als.warm_refit(confidence, min(settings.iterations, REFIT_SWEEPS))
    del inner_als, inner_knn
    knn = cf_model(settings, "item_knn").fit(confidence)
    # One confidence matrix serves both CF models (item-kNN scores from the same rows).
    knn.user_items_ = als.user_items_
    return FittedState(
        points=points,
        items=items,
        teachers=teachers,
        rules=rules,
        mastery=diagnosis,
        mastery_prior=prior,
        took=final_took,
        completed=completed,
        social=SocialCounts.from_matrices(final_took, completed, teachers),
        als=als,
        knn=knn,
        ranker=ranker,
        cold_ranker=cold_ranker,
        validation_metrics=metrics,
    )
