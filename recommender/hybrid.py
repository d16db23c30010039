"""The hybrid recommender: collaborative filtering and competency gaps, blended by a learned ranker.

Candidate items are scored by the signals of :mod:`recommender.signals` (expected mastery gain on
the teacher's gap points, stage/subject fit, the school's chosen points, colleagues in the same
school and 教研组, popularity) plus two collaborative-filtering scores (ALS and item-kNN on
confidence-weighted enrol/progress/complete/rate events). The blend is *learned*: ``fit`` holds
out each teacher's latest item, fits the CF models on what came before, and trains a pairwise
logistic regression to rank the held-out item above the other candidates. A second ranker trained on the
content signals alone serves teachers with no history (cold start). Hard filters
(:mod:`recommender.filters`) are applied after scoring and every item carries reasons
(:mod:`recommender.explanations`).

Example
-------
>>> model = HybridRecommender(random_state=0).fit(province, mastery, catalog, framework)  # doctest: +SKIP
>>> model.recommend("T0000001", k=10, kind="course")[0].reasons_en                       # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import NDArray

from competency_model.errors import NotFittedError, NotFoundError
from recommender.cf import CollaborativeFilter
from recommender.cold_start import TeacherProfile
from recommender.explanations import ExplanationContext
from recommender.filters import apply_filters
from recommender.hybrid_fit import eligible_items, fit_recommender
from recommender.hybrid_state import PARAM_NAMES, FittedState
from recommender.scoring import (
    RankedItems,
    Recommendation,
    popular_ranking,
    rank_items,
)

# The fast-path helpers are bound (and looked up at call time) in this module, so the
# equivalence test can swap them here for the general formulas.
from recommender.scoring import dense_rows as _dense_rows
from recommender.scoring import share_below as _share_below
from recommender.scoring import zscore_rows as _zscore_rows
from recommender.signals import SocialCounts, content_signals

__all__ = ["HybridRecommender", "Recommendation", "TeacherProfile", "load_recommender"]

Kind = Literal["course", "task"]


class HybridRecommender(FittedState):
    """Learned blend of collaborative filtering and competency-gap signals.

    Parameters
    ----------
    factors, regularization, alpha, iterations
        ALS hyperparameters (see :class:`~recommender.cf.CollaborativeFilter`).
    neighbours
        Item-kNN neighbourhood size.
    mastered_threshold
        Mastery probability at or above which a point counts as mastered (filters, reasons).
    keep_active_points
        Exempt the school's chosen points and the points a teacher is studying from the
        mastered-points filter (they stay open until assessed). ``False`` gives the strict rule.
    max_ranker_teachers, negatives_per_teacher
        Size of the ranker's training sample (teachers with a held-out item; sampled negatives).
    ranker_c
        Inverse L2 strength of the logistic-regression ranker.
    event_weights
        Confidence per event kind (``None`` = :data:`recommender.cf.DEFAULT_EVENT_WEIGHTS`).
    num_threads
        Threads for the CF solvers.
    random_state
        Seed of every random choice (CF initialisation, negative sampling).
    """

    def __init__(
        self,
        factors: int = 32,
        regularization: float = 0.05,
        alpha: float = 1.0,
        iterations: int = 15,
        neighbours: int = 50,
        mastered_threshold: float = 0.9,
        keep_active_points: bool = True,
        max_ranker_teachers: int = 4000,
        negatives_per_teacher: int = 40,
        ranker_c: float = 1.0,
        event_weights: Mapping[str, float] | None = None,
        num_threads: int = 1,
        random_state: int = 0,
    ) -> None:
        self.factors = factors
        self.regularization = regularization
        self.alpha = alpha
        self.iterations = iterations
        self.neighbours = neighbours
        self.mastered_threshold = mastered_threshold
        self.keep_active_points = keep_active_points
        self.max_ranker_teachers = max_ranker_teachers
        self.negatives_per_teacher = negatives_per_teacher
        self.ranker_c = ranker_c
        self.event_weights = event_weights
        self.num_threads = num_threads
        self.random_state = random_state

    # ================================================================== fitting
    def fit(
        self,
        province: Any,
        mastery: pd.DataFrame,
        catalog: Any,
        framework: Any,
        policy: Any | None = None,
    ) -> HybridRecommender:
        """Learn the CF models, the social counts and the two rankers.

        Parameters
        ----------
        province
            Object with ``teachers``, ``schools`` and ``events`` DataFrames (docs/contracts.md).
        mastery
            Diagnosis output: teacher_id, point, mastery_probability (other columns ignored),
            or the same wide (teacher_id plus one column per point code). Teachers missing from
            it get the population mean.
        catalog, framework
            The catalog and competency framework the events refer to.
        policy
            Regional policy for kind and environment gating (``None`` = cumulative default).
        """
        fit_recommender(self, province, mastery, catalog, framework, policy)
        return self

    def _eligible(self, rows: NDArray[np.int64]) -> NDArray[np.bool_]:
        """Items each teacher could be shown at all (environment and policy gating)."""
        return eligible_items(self, rows)

    def _features(
        self,
        rows: NDArray[np.int64],
        social: SocialCounts,
        took: sp.csr_matrix,
        als: CollaborativeFilter | None,
        knn: CollaborativeFilter | None,
    ) -> dict[str, NDArray[np.float32]]:
        t = self.teachers_
        own = _dense_rows(took, rows)
        features = content_signals(
            self.mastery_[rows],
            t.school_row[rows],
            t.group_row[rows],
            t.stages[rows],
            t.subjects[rows],
            own,
            t,
            self.items_,
            self.points_,
            social,
        )
        if als is not None and knn is not None:
            features["cf_als"] = _zscore_rows(als.score(rows))
            features["cf_knn"] = _zscore_rows(knn.score(rows))
        return features

    # ================================================================== scoring
    def _check_fitted(self) -> None:
        if not hasattr(self, "ranker_"):
            raise NotFittedError(
                "this HybridRecommender is not fitted; call fit or load a model directory"
            )

    def row_of(self, teacher_id: str) -> int:
        """Row of ``teacher_id``; :class:`NotFoundError` if the model has never seen them."""
        self._check_fitted()
        try:
            return self._teacher_lookup[str(teacher_id)]
        except KeyError:
            raise NotFoundError(
                f"teacher {teacher_id!r} is not in this model; use recommend_for_profile for new "
                "teachers or retrain with them",
                details={"teacher_id": str(teacher_id)},
            ) from None

    def score_teachers(
        self, rows: NDArray[np.int64]
    ) -> tuple[NDArray[np.float64], dict[str, NDArray[np.float32]]]:
        """Ranker scores (teachers × items) and the signals behind them, before filtering."""
        self._check_fitted()
        features = self._features(np.asarray(rows), self.social_, self.took_, self.als_, self.knn_)
        return self.ranker_.decision(features), features

    def score_profiles(
        self,
        school_rows: NDArray[np.int64],
        group_rows: NDArray[np.int64],
        stages: NDArray[np.str_],
        subjects: NDArray[np.str_],
        mastery: NDArray[np.float64],
    ) -> tuple[NDArray[np.float64], dict[str, NDArray[np.float32]]]:
        """Cold-start ranker scores for teachers known only by profile and diagnosis."""
        self._check_fitted()
        features = content_signals(
            mastery,
            school_rows,
            group_rows,
            stages,
            subjects,
            None,
            self.teachers_,
            self.items_,
            self.points_,
            self.social_,
        )
        return self.cold_ranker_.decision(features), features

    def active_points(
        self, rows: NDArray[np.int64] | None = None, school_rows: NDArray[np.int64] | None = None
    ) -> NDArray[np.bool_]:
        """Points that stay open for the mastered-points filter (teachers × points).

        The school's chosen points (整校推进) plus, for known teachers, every point they have
        already studied: both are worked on until assessed, whatever the diagnosis says.
        """
        self._check_fitted()
        if not self.keep_active_points:
            chosen_for = rows if rows is not None else school_rows
            count = 0 if chosen_for is None else len(chosen_for)
            return np.zeros((count, len(self.points_.codes)), dtype=bool)
        if rows is not None:
            school_rows = self.teachers_.school_row[rows]
            # One teacher: copy the CSR row; a batch stays sparse (a dense batch × items
            # matrix of a whole province would not fit in memory).
            took = (
                _dense_rows(self.took_, rows, np.float64) if len(rows) <= 64 else self.took_[rows]
            )
            studied = np.asarray(took @ self.items_.point_weights) > 0
        assert school_rows is not None
        chosen = self.teachers_.school_chosen[school_rows]
        return chosen | studied if rows is not None else chosen

    def popularity_scores(self) -> NDArray[np.float64]:
        """Non-personalised score: how many teachers took each item (log scale)."""
        self._check_fitted()
        return np.log1p(self.social_.item_took.astype(np.float64))

    def recommend(
        self,
        teacher_id: str,
        k: int = 10,
        kind: Kind = "course",
        personalized: bool = True,
        exclude: Sequence[str] = (),
        only_points: Sequence[str] = (),
    ) -> list[Recommendation]:
        """Top ``k`` items of ``kind`` for a known teacher, filtered and explained.

        With ``personalized=False`` the list uses only the policy, the school's environment and
        province-wide popularity, never the teacher's history or diagnosis.
        """
        if k < 1:
            raise ValueError(f"k={k} must be at least 1")
        return self.ranked(teacher_id, kind, personalized, exclude, only_points, depth=k).top(k)

    def ranked(
        self,
        teacher_id: str,
        kind: Kind = "course",
        personalized: bool = True,
        exclude: Sequence[str] = (),
        only_points: Sequence[str] = (),
        depth: int | None = None,
    ) -> RankedItems:
        """The ranking behind :meth:`recommend`, unexplained, cut at ``depth`` items.

        A service keeps it to answer later requests of the same teacher by skipping newly
        completed items (see :class:`~recommender.scoring.RankedItems`).
        """
        row = self.row_of(teacher_id)
        t = self.teachers_
        school_rank = int(t.school_environment_rank[t.school_row[row]])
        if not personalized:
            return popular_ranking(self, school_rank, kind, exclude, only_points, depth)
        scores, features = self.score_teachers(np.array([row]))
        taken = self.took_.indices[self.took_.indptr[row] : self.took_.indptr[row + 1]]
        allowed, _ = apply_filters(
            self.items_,
            self.points_,
            self.rules_,
            kind,
            school_rank,
            self.mastery_[row],
            taken,
            exclude,
            only_points,
            self.mastered_threshold,
            self.active_points(np.array([row]))[0],
        )
        own = _dense_rows(self.took_, np.array([row]))[0]
        group_done = (
            self.social_.group_completed[t.group_row[row]]
            - _dense_rows(self.completed_, np.array([row]), self.completed_.dtype)[0]
        )
        cf = features["cf_als"][0]
        context = ExplanationContext(
            self.mastery_[row],
            self.mastered_threshold,
            str(t.stages[row]),
            str(t.subjects[row]),
            str(t.research_groups[row]),
            group_done,
            self.social_.school_took[t.school_row[row]] - own,
            self.social_.item_took,
            _share_below(cf) if cf.size < 4000 else None,
            t.school_chosen[t.school_row[row]],
        )
        signals = {n: f[0] for n, f in features.items()}
        return rank_items(self.items_, self.points_, scores[0], allowed, context, signals, depth)

    def recommend_popular(
        self, school_id: str, k: int = 10, kind: Kind = "course", exclude: Sequence[str] = ()
    ) -> list[Recommendation]:
        """The non-personalised list for any teacher of ``school_id``, known to the model or not.

        Only the policy, the school's environment and province-wide popularity decide it: the
        same list :meth:`recommend` gives with ``personalized=False``, for teachers the model
        has never seen too (their profile is not read).
        """
        self._check_fitted()
        rows = np.flatnonzero(self.teachers_.school_ids == school_id)
        if rows.size == 0:
            raise NotFoundError(
                f"school {school_id!r} is not in this model; check the school_id",
                details={"school_id": school_id},
            )
        school_rank = int(self.teachers_.school_environment_rank[rows[0]])
        return popular_ranking(self, school_rank, kind, exclude, (), depth=k).top(k)

    def recommend_for_profile(
        self,
        profile: TeacherProfile | Mapping[str, Any],
        mastery: Mapping[str, float] | None = None,
        k: int = 10,
        kind: Kind = "course",
        exclude: Sequence[str] = (),
        only_points: Sequence[str] = (),
    ) -> list[Recommendation]:
        """Cold start: recommendations from a profile and a (possibly partial) diagnosis.

        Points missing from ``mastery`` take the population mean, so a half-finished adaptive
        questionnaire already moves the list towards the answered gaps. See
        :mod:`recommender.cold_start`.
        """
        from recommender.cold_start import recommend_for_profile

        return recommend_for_profile(self, profile, mastery, k, kind, exclude, only_points)

    # ================================================================== fold-in
    def fold_in(
        self,
        teacher_id: str,
        events: pd.DataFrame,
        mastery: Mapping[str, float] | None = None,
    ) -> None:
        """Add a known teacher's new events and update only that teacher.

        Their confidence row, ALS factors (implicit's ``partial_fit_users``), item-kNN row,
        taken/completed sets and their contribution to colleague and popularity counts change;
        item factors, the rankers and every other teacher stay as trained. ``mastery``
        (``{point: probability}``, e.g. from ``DiagnosisModel.diagnose_teacher`` after the same
        events) replaces those points of the teacher's stored diagnosis.
        """
        from recommender.fold_in import fold_in_teacher

        fold_in_teacher(self, teacher_id, events, mastery)
        self._revision = self.revision + 1

    @property
    def revision(self) -> int:
        """How many fold-ins have changed this fitted model in memory (0 after fit or load).

        A fold-in also moves colleague and popularity counts, so it can change any teacher's
        list: whoever keeps rankings (the service's cache) keys them by this number.
        """
        return int(getattr(self, "_revision", 0))

    # ================================================================== persistence
    def get_params(self) -> dict[str, Any]:
        """Hyperparameters (sklearn-style), JSON-serialisable."""
        return {name: getattr(self, name) for name in PARAM_NAMES}

    def get_arrays(self) -> dict[str, dict[str, NDArray[Any]]]:
        """Learned state grouped by model-directory file (see :mod:`recommender.model_dir`)."""
        from recommender.model_dir import recommender_arrays

        self._check_fitted()
        return recommender_arrays(self)

    @classmethod
    def from_arrays(
        cls,
        arrays: Mapping[str, Mapping[str, NDArray[Any]]],
        params: Mapping[str, Any],
        model_version: str = "unsaved",
    ) -> HybridRecommender:
        """Rebuild a fitted recommender from :meth:`get_arrays` output."""
        from recommender.model_dir import recommender_from_arrays

        return recommender_from_arrays(cls(**params), arrays, model_version)

    def save(
        self,
        directory: str | Path,
        metadata: Mapping[str, Any] | None = None,
        extra_arrays: Mapping[str, Mapping[str, NDArray[Any]]] | None = None,
    ) -> Path:
        """Write a model directory (see :mod:`recommender.artifacts`)."""
        from recommender.model_dir import save_recommender

        return save_recommender(self, directory, metadata, extra_arrays)


def load_recommender(directory: str | Path) -> HybridRecommender:
    """Load a model directory written by ``nengli train``, verifying every file's sha256."""
    from recommender.model_dir import load_recommender as load

    return load(directory)
