"""What a fitted hybrid recommender has learned, as one value the helpers pass around.

Fitting (:mod:`~recommender.ranking.fit`), serving (:mod:`~recommender.ranking.serving`),
fold-in (:mod:`~recommender.ranking.fold_in`) and persistence
(:mod:`~recommender.ranking.persistence`) all take a :class:`FittedState` and return one, so none
of them needs the estimator (or its private attributes). The estimator exposes each field as a
learned attribute ending in ``_`` (``teachers_``, ``ranker_`` …), as sklearn's contract expects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from recommender.ranking.cf import CollaborativeFilter
from recommender.ranking.filters import PolicyRules
from recommender.ranking.selection import Ranker
from recommender.ranking.signals import ItemTable, PointTable, SocialCounts, TeacherTable

__all__ = ["FittedState"]


@dataclass
class FittedState:
    """The learned state of :class:`~recommender.ranking.HybridRecommender`.

    Attributes
    ----------
    points, items, teachers
        The framework's points, the catalog and the province's teachers/schools as arrays.
    rules
        The policy's kind and environment gating.
    mastery, mastery_prior
        Diagnosis (teachers × points) and its population mean (used for unknown teachers).
    took, completed
        Which items each teacher took (any event) and completed (teachers × items, CSR).
    social
        Colleague and popularity counts.
    als, knn
        The collaborative-filtering models (item-kNN scores from the ALS confidence rows).
    ranker, cold_ranker
        The learned blend over all signals, and over the content signals only (cold start),
        each the winner of the fit's model selection (:mod:`recommender.ranking.selection`).
    validation_metrics
        The model selection's report (empty after loading; ``metadata.json`` keeps it).
    mastered_filter
        Whether lists drop items on mastered points (decided by the model selection).
    candidates
        Every fitted candidate ranker (for comparisons; not saved; see ``ranker_refit``).
    teacher_index
        Teacher id → row, derived from ``teachers`` (one dictionary lookup per request).
    """

    points: PointTable
    items: ItemTable
    teachers: TeacherTable
    rules: PolicyRules
    mastery: NDArray[np.float64]
    mastery_prior: NDArray[np.float64]
    took: sp.csr_matrix
    completed: sp.csr_matrix
    social: SocialCounts
    als: CollaborativeFilter
    knn: CollaborativeFilter
    ranker: Ranker
    cold_ranker: Ranker
    validation_metrics: dict[str, Any] = field(default_factory=dict)
    mastered_filter: bool = True
    candidates: dict[str, Ranker] = field(default_factory=dict, repr=False)
    teacher_index: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.teacher_index = {t: i for i, t in enumerate(self.teachers.teacher_ids.tolist())}

    def school_rows(self, school_id: str) -> NDArray[np.int64]:
        """Rows of ``school_id`` in the school tables (empty if the model does not know it)."""
        return np.flatnonzero(self.teachers.school_ids == school_id)

    def popularity(self) -> NDArray[np.float64]:
        """Non-personalised score: how many teachers took each item (log scale)."""
        return np.log1p(self.social.item_took.astype(np.float64))
