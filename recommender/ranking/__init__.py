"""Ranking: which courses and practice tasks a teacher sees, in which order, and why.

The door to the hybrid recommender and its parts: collaborative filtering
(:class:`CollaborativeFilter`), content and social signals, hard filters, explanations, the
learned blend (:class:`LinearRanker` or LightGBM's :class:`LambdaRanker`, chosen by the fit's
model selection on a temporal holdout), cold start (:class:`TeacherProfile`) and fold-in. Everything a
caller outside this package needs is named here; the modules behind it are implementation.

Example
-------
>>> from recommender.ranking import HybridRecommender
>>> model = HybridRecommender(random_state=0).fit(province, mastery, catalog, framework)  # doctest: +SKIP
>>> ranking = model.rank_row(model.row_of("T0000001"), kind="course", depth=50)          # doctest: +SKIP
>>> ranking.top(10, exclude=completed)                                                    # doctest: +SKIP
"""

from competency_model.catalog import Kind
from recommender.ranking.boosted import LambdaRanker
from recommender.ranking.cf import (
    DEFAULT_EVENT_WEIGHTS,
    CollaborativeFilter,
    confidence_matrix,
    replace_csr_row,
)
from recommender.ranking.cold_start import TeacherProfile
from recommender.ranking.estimator import HybridRecommender
from recommender.ranking.explanations import ExplanationContext, explain_item
from recommender.ranking.filters import (
    LIST_KINDS,
    ListKind,
    PolicyRules,
    apply_filters,
    completed_mask,
    environment_mask,
    exclude_mask,
    kind_mask,
    only_points_mask,
    unmastered_mask,
)
from recommender.ranking.persistence import RECOMMENDER_FILES
from recommender.ranking.ranked import RankedItems, Recommendation, rank_items
from recommender.ranking.ranker import LinearRanker
from recommender.ranking.selection import BASELINE_SIGNALS, Ranker, Selection, select_rankers
from recommender.ranking.signals import (
    CONTENT_SIGNALS,
    LEGACY_SIGNALS,
    SIGNALS,
    ItemTable,
    PointTable,
    SocialCounts,
    TeacherTable,
    content_signals,
    feasibility,
    recent_completions,
)
from recommender.ranking.state import FittedState

__all__ = [
    "BASELINE_SIGNALS",
    "CONTENT_SIGNALS",
    "DEFAULT_EVENT_WEIGHTS",
    "LEGACY_SIGNALS",
    "LIST_KINDS",
    "RECOMMENDER_FILES",
    "SIGNALS",
    "CollaborativeFilter",
    "ExplanationContext",
    "FittedState",
    "HybridRecommender",
    "ItemTable",
    "Kind",
    "LambdaRanker",
    "LinearRanker",
    "ListKind",
    "PointTable",
    "PolicyRules",
    "RankedItems",
    "Ranker",
    "Recommendation",
    "Selection",
    "SocialCounts",
    "TeacherProfile",
    "TeacherTable",
    "apply_filters",
    "completed_mask",
    "confidence_matrix",
    "content_signals",
    "environment_mask",
    "exclude_mask",
    "explain_item",
    "feasibility",
    "kind_mask",
    "only_points_mask",
    "rank_items",
    "recent_completions",
    "replace_csr_row",
    "select_rankers",
    "unmastered_mask",
]
