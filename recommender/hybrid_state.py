"""What a fitted hybrid recommender holds: its constructor arguments and its learned attributes.

Fitting (:mod:`recommender.hybrid_fit`), serving (:mod:`recommender.hybrid`), persistence
(:mod:`recommender.model_dir`), fold-in and evaluation all read and write the same attributes;
declaring them once here gives every one of those modules (and the type checker) one list to
agree on. The declarations are annotations only, so an unfitted estimator still has none of them
and ``_check_fitted`` keeps working.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from recommender.cf import CollaborativeFilter
from recommender.filters import PolicyRules
from recommender.ranker import LinearRanker
from recommender.signals import ItemTable, PointTable, SocialCounts, TeacherTable

__all__ = ["PARAM_NAMES", "FittedState"]

#: Constructor arguments, stored in ``metadata.json`` so a model directory rebuilds the estimator.
PARAM_NAMES: tuple[str, ...] = (
    "factors",
    "regularization",
    "alpha",
    "iterations",
    "neighbours",
    "mastered_threshold",
    "keep_active_points",
    "max_ranker_teachers",
    "negatives_per_teacher",
    "ranker_c",
    "event_weights",
    "num_threads",
    "random_state",
)


class FittedState:
    """Learned attributes of :class:`~recommender.hybrid.HybridRecommender`, set by ``fit``.

    Attributes
    ----------
    points_, items_, teachers_
        The framework's points, the catalog and the province's teachers/schools as arrays.
    rules_
        The policy's kind and environment gating.
    mastery_, mastery_prior_
        Diagnosis (teachers × points) and its population mean (used for unknown teachers).
    took_, completed_
        Which items each teacher took (any event) and completed (teachers × items, CSR).
    social_
        Colleague and popularity counts.
    als_, knn_
        The collaborative-filtering models.
    ranker_, cold_ranker_
        The learned blend over all signals, and over the content signals only (cold start).
    validation_metrics_
        Hit rates of the blend and of popularity on the held-out items.
    model_version
        ``"unsaved"`` after ``fit``; a content hash once saved or loaded.
    """

    points_: PointTable
    items_: ItemTable
    teachers_: TeacherTable
    rules_: PolicyRules
    mastery_: NDArray[np.float64]
    mastery_prior_: NDArray[np.float64]
    took_: sp.csr_matrix
    completed_: sp.csr_matrix
    social_: SocialCounts
    als_: CollaborativeFilter
    knn_: CollaborativeFilter
    ranker_: LinearRanker
    cold_ranker_: LinearRanker
    validation_metrics_: dict[str, Any]
    model_version: str
    _teacher_lookup: dict[str, int]
