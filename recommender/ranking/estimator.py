"""The hybrid recommender: collaborative filtering and competency gaps, blended by a learned ranker.

Candidate items are scored by the signals of :mod:`recommender.ranking.signals` (expected mastery
gain on the teacher's gap points, stage/subject fit, the school's chosen points, colleagues in
the same school and 教研组, popularity) plus two collaborative-filtering scores (ALS and item-kNN
on confidence-weighted enrol/progress/complete/rate events). The blend is *learned* and
*selected*: ``fit`` holds out each teacher's last completions, fits the CF models and counts on
what came before, trains a linear blend and a LightGBM LambdaRank model on those signals and
keeps whichever finds the held-out completions best on check teachers, next to the school and
教研组 popularity baselines (:mod:`recommender.ranking.selection`). A second ranker trained on
the content signals alone serves teachers with no history (cold start). Hard filters
(:mod:`recommender.ranking.filters`) are applied after scoring and every item carries reasons
(:mod:`recommender.ranking.explanations`).

The estimator follows sklearn's contract: ``__init__`` only stores hyperparameters
(``get_params``/``set_params`` come from :class:`~sklearn.base.BaseEstimator`), ``fit`` returns
``self``, the learned :class:`~recommender.ranking.state.FittedState` sits in ``state_`` (its
fields are exposed as ``teachers_``, ``ranker_`` …) and every other method checks it is fitted.

Example
-------
>>> model = HybridRecommender(random_state=0).fit(province, mastery, catalog, framework)  # doctest: +SKIP
>>> model.recommend("T0000001", k=10, kind="course")[0].reasons_en                       # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from sklearn.base import BaseEstimator

from competency_model.catalog import Catalog
from competency_model.errors import NotFoundError
from competency_model.framework import Framework
from competency_model.policy import Policy
from competency_model.progress import NO_PROGRESS, ProgressReporter
from competency_model.province import ProvinceTables
from recommender.ranking import listed, serving
from recommender.ranking.attributes import LearnedAttributes
from recommender.ranking.cold_start import TeacherProfile, profile_teacher, school_row
from recommender.ranking.filters import ListKind
from recommender.ranking.fit import FitSettings, fit_state
from recommender.ranking.fold_in import fold_in_teacher
from recommender.ranking.forget import forget_teacher
from recommender.ranking.persistence import state_arrays, state_from_arrays
from recommender.ranking.ranked import RankedItems, Recommendation
from recommender.ranking.signals import content_signals

__all__ = ["HybridRecommender"]


class HybridRecommender(LearnedAttributes, BaseEstimator):
    """Learned blend of collaborative filtering and competency-gap signals.

    Parameters
    ----------
    factors, regularization, alpha, iterations
        ALS hyperparameters (see :class:`~recommender.ranking.cf.CollaborativeFilter`).
    neighbours
        Item-kNN neighbourhood size.
    mastered_threshold
        Mastery probability at or above which a point counts as mastered (filters, reasons).
    mastered_filter
        Drop items whose points are all mastered: ``None`` (default) lets the fit's model
        selection decide on its temporal holdout; ``True``/``False`` force it.
    keep_active_points
        Exempt the school's chosen points and the points a teacher is studying from the
        mastered-points filter (they stay open until assessed). ``False`` gives the strict rule.
    max_ranker_teachers, negatives_per_teacher
        Size of the ranker's training sample (teachers with a held-out item; sampled negatives).
    ranker_c
        Inverse L2 strength of the logistic-regression ranker.
    ranker
        ``auto`` (default): the fit's model selection picks the blend on its temporal
        holdout; ``linear_legacy``, ``linear`` or ``lambdarank`` force one.
    ranker_refit
        What the selection refits on all its sampled teachers once the check has chosen:
        ``continue`` (default) only the serving warm and cold rankers, a serving LambdaRank by
        boosting on from the check's trees for a quarter of its rounds (a refit from scratch
        was the largest part of a million-teacher fit beyond ALS; measured 0.003 lower nDCG@10
        on ``quality``, docs/recommender.md), ``chosen`` the same with LambdaRank refitted
        from scratch, ``all`` every candidate (``ranker_candidates_`` then compare models
        trained alike, at twice the selection's cost), ``none`` nothing (the check's fits
        serve, trained on three quarters of the sample: cheaper, measured slightly worse).
    event_weights
        Confidence per event kind (``None`` = :data:`recommender.ranking.cf.DEFAULT_EVENT_WEIGHTS`).
    num_threads
        Threads for the CF solvers.
    random_state
        Seed of every random choice (CF initialisation, negative sampling).

    Attributes
    ----------
    state_
        Everything ``fit`` learned (:class:`~recommender.ranking.state.FittedState`).
    model_version
        ``"unsaved"`` after ``fit``; a content hash once saved or loaded.
    """

    def __init__(
        self,
        factors: int = 32,
        regularization: float = 0.05,
        alpha: float = 1.0,
        iterations: int = 15,
        neighbours: int = 50,
        mastered_threshold: float = 0.9,
        mastered_filter: bool | None = None,
        keep_active_points: bool = True,
        max_ranker_teachers: int = 4000,
        negatives_per_teacher: int = 100,
        ranker_c: float = 1.0,
        ranker: str = "auto",
        ranker_refit: str = "continue",
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
        self.mastered_filter = mastered_filter
        self.keep_active_points = keep_active_points
        self.max_ranker_teachers = max_ranker_teachers
        self.negatives_per_teacher = negatives_per_teacher
        self.ranker_c = ranker_c
        self.ranker = ranker
        self.ranker_refit = ranker_refit
        self.event_weights = event_weights
        self.num_threads = num_threads
        self.random_state = random_state

    # ================================================================== fitting
    def fit(
        self,
        province: ProvinceTables,
        mastery: pd.DataFrame,
        catalog: Catalog,
        framework: Framework,
        policy: Policy | None = None,
        rediagnose: Callable[[ProvinceTables], pd.DataFrame] | None = None,
        progress: ProgressReporter = NO_PROGRESS,
    ) -> HybridRecommender:
        """Learn the CF models, the social counts and the two rankers.

        Parameters
        ----------
        province
            The ``teachers``, ``schools`` and ``events`` tables (docs/contracts.md).
        mastery
            Diagnosis output: teacher_id, point, mastery_probability (other columns ignored),
            or the same wide (teacher_id plus one column per point code). Teachers missing from
            it get the population mean.
        catalog, framework
            The catalog and competency framework the events refer to.
        policy
            Regional policy for kind and environment gating (``None`` = cumulative default).
        rediagnose
            Diagnoses a view of the province (the events and grades before each teacher's
            held-out completions) with the fitted diagnosis, so the model selection's signals do
            not already know the completions it is asked to find. Without it the selection
            reads ``mastery``, which counts those completions as evidence.
        progress
            Hears the fit's stages (validation split, ALS, item-kNN, ranker selection, final
            refit), as implicit shows a bar on a long fit.
        """
        settings = FitSettings.from_params(self.get_params())
        self.state_ = fit_state(
            settings, province, mastery, catalog, framework, policy, rediagnose, progress
        )
        self.model_version = "unsaved"
        self._revision = 0
        return self

    # ================================================================== scoring
    def row_of(self, teacher_id: str) -> int:
        """Row of ``teacher_id``; :class:`NotFoundError` if the model has never seen them.

        Resolve it once per request and pass the row to :meth:`rank_row`.
        """
        try:
            return self._state().teacher_index[str(teacher_id)]
        except KeyError:
            raise NotFoundError(
                f"teacher {teacher_id!r} is not in this model; use recommend_for_profile for new "
                "teachers or retrain with them",
                details={"teacher_id": str(teacher_id)},
            ) from None

    def explain_listed(
        self, teacher_id: str, item_ids: Sequence[str], scores: Sequence[float]
    ) -> list[Recommendation]:
        """A list ranked earlier (the batch's, best first) explained for a known teacher.

        Costs the reasons of the given items only, no scoring; retired items are skipped.
        """
        state = self._state()
        cached = getattr(self, "_item_columns", None)
        if cached is None or cached[0] is not state:
            cached = self._item_columns = (state, listed.item_columns(state))
        return listed.explain_listed(
            state, self.row_of(teacher_id), self.mastered_threshold, item_ids, scores, cached[1]
        )

    def catalog_fields(self) -> Mapping[str, Mapping[str, Any]]:
        """Per item id of the fitted catalog, the fields of its recommendation the catalog alone
        decides (:func:`~recommender.ranking.ranked.catalog_fields`).

        Built once per fitted state and kept: a caller that shows reasons stored by the batch
        renders the rest of each item from here instead of ranking or explaining.
        """
        state = self._state()
        cached = getattr(self, "_catalog_fields", None)
        if cached is None or cached[0] is not state:
            cached = self._catalog_fields = (state, listed.catalog_fields_by_item(state))
        return cached[1]

    def eligible(self, rows: NDArray[np.int64]) -> NDArray[np.bool_]:
        """Items each teacher at ``rows`` could be shown at all (environment and policy gating)."""
        state = self._state()
        return serving.eligible_items(
            np.asarray(rows), state.teachers, state.items, state.points, state.rules
        )

    def score_teachers(
        self, rows: NDArray[np.int64]
    ) -> tuple[NDArray[np.float64], dict[str, NDArray[np.float32]]]:
        """Ranker scores (teachers × items) and the signals behind them, before filtering."""
        s = self._state()
        signals = serving.features(
            np.asarray(rows),
            s.mastery,
            s.teachers,
            s.items,
            s.points,
            s.social,
            s.took,
            s.als,
            s.knn,
            s.completed,
        )
        return s.ranker.decision(signals), signals

    def mastered_filter_applies(self) -> bool:
        """Whether lists drop items on mastered points (the setting, else the fit's decision)."""
        state = self._state()
        return state.mastered_filter if self.mastered_filter is None else bool(self.mastered_filter)

    def score_profiles(
        self,
        school_rows: NDArray[np.int64],
        group_rows: NDArray[np.int64],
        stages: NDArray[np.str_],
        subjects: NDArray[np.str_],
        mastery: NDArray[np.float64],
    ) -> tuple[NDArray[np.float64], dict[str, NDArray[np.float32]]]:
        """Cold-start ranker scores for teachers known only by profile and diagnosis."""
        s = self._state()
        signals = content_signals(
            mastery, school_rows, group_rows, stages, subjects, None, s.teachers, s.items,
            s.points, s.social,
        )  # fmt: skip
        return s.cold_ranker.decision(signals), signals

    def active_points(
        self, rows: NDArray[np.int64] | None = None, school_rows: NDArray[np.int64] | None = None
    ) -> NDArray[np.bool_]:
        """Points that stay open for the mastered-points filter (teachers × points).

        The school's chosen points (整校推进) plus, for known teachers, every point they have
        already studied: both are worked on until assessed, whatever the diagnosis says.
        """
        return serving.active_points(self._state(), self.keep_active_points, rows, school_rows)

    def popularity_scores(self) -> NDArray[np.float64]:
        """Non-personalised score: how many teachers took each item (log scale)."""
        return self._state().popularity()

    def recommend(
        self,
        teacher_id: str,
        k: int = 10,
        kind: ListKind = "course",
        personalized: bool = True,
        exclude: Sequence[str] = (),
        only_points: Sequence[str] = (),
    ) -> list[Recommendation]:
        """Top ``k`` items of ``kind`` for a known teacher, filtered and explained.

        With ``personalized=False`` the list uses only the policy, the school's environment and
        province-wide popularity, never the teacher's profile or diagnosis; what she completed
        is still left out. ``kind="all"`` ranks courses and practice tasks in one list.
        """
        if k < 1:
            raise ValueError(f"k={k} must be at least 1")
        return self.ranked(teacher_id, kind, personalized, exclude, only_points, depth=k).top(k)

    def ranked(
        self,
        teacher_id: str,
        kind: ListKind = "course",
        personalized: bool = True,
        exclude: Sequence[str] = (),
        only_points: Sequence[str] = (),
        depth: int | None = None,
    ) -> RankedItems:
        """The ranking behind :meth:`recommend`, unexplained, cut at ``depth`` items.

        A service keeps it to answer later requests of the same teacher by skipping newly
        completed items (see :class:`~recommender.ranking.RankedItems`).
        """
        return self.rank_row(
            self.row_of(teacher_id), kind, personalized, exclude, only_points, depth
        )

    def rank_row(
        self,
        row: int,
        kind: ListKind = "course",
        personalized: bool = True,
        exclude: Sequence[str] = (),
        only_points: Sequence[str] = (),
        depth: int | None = None,
    ) -> RankedItems:
        """:meth:`ranked` for the teacher at ``row`` (from :meth:`row_of`, resolved once)."""
        state = self._state()
        request = serving.ListRequest(kind, tuple(exclude), tuple(only_points), depth)
        if not personalized:
            school = int(state.teachers.school_row[row])
            return serving.popular_ranking(
                state, school, self._serving_rules(), request, completed_of=row
            )
        return serving.rank_known(state, row, self._serving_rules(), request)

    def _serving_rules(self) -> serving.ServingRules:
        return serving.ServingRules(
            self.mastered_threshold, self.keep_active_points, self.mastered_filter
        )

    def recommend_popular(
        self, school_id: str, k: int = 10, kind: ListKind = "course", exclude: Sequence[str] = ()
    ) -> list[Recommendation]:
        """The non-personalised list for any teacher of ``school_id``, known to the model or not.

        Only the policy, the school's environment and province-wide popularity decide it: the
        same list :meth:`recommend` gives with ``personalized=False``, for teachers the model
        has never seen too (their profile is not read).
        """
        state = self._state()
        school = school_row(state, school_id)
        request = serving.ListRequest(kind, tuple(exclude), (), depth=k)
        return serving.popular_ranking(state, school, self._serving_rules(), request).top(k)

    def recommend_for_profile(
        self,
        profile: TeacherProfile | Mapping[str, Any],
        mastery: Mapping[str, float] | None = None,
        k: int = 10,
        kind: ListKind = "course",
        exclude: Sequence[str] = (),
        only_points: Sequence[str] = (),
    ) -> list[Recommendation]:
        """Cold start: recommendations from a profile and a (possibly partial) diagnosis.

        Points missing from ``mastery`` take the population mean, so a half-finished adaptive
        questionnaire already moves the list towards the answered gaps. See
        :mod:`recommender.ranking.cold_start`.
        """
        state = self._state()
        teacher = profile_teacher(state, profile, mastery)
        request = serving.ListRequest(kind, tuple(exclude), tuple(only_points), depth=k)
        return serving.rank_profile(state, teacher, self._serving_rules(), request).top(k)

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
        row = self.row_of(teacher_id)
        self.state_ = fold_in_teacher(self.state_, row, events, mastery, self.event_weights)
        self._revision = self.revision + 1

    def forget(self, teacher_id: str) -> bool:
        """Erase what this model learned from ``teacher_id`` alone (see :mod:`.forget`).

        Returns False when the model never knew the teacher. Like a fold-in it bumps
        :attr:`revision`, so kept rankings are computed again.
        """
        forgotten = forget_teacher(self._state(), teacher_id)
        if forgotten:
            self._revision = self.revision + 1
        return forgotten

    @property
    def revision(self) -> int:
        """How many fold-ins have changed this fitted model in memory (0 after fit or load).

        A fold-in also moves colleague and popularity counts, so it can change any teacher's
        list: whoever keeps rankings (the service's cache) keys them by this number.
        """
        return int(getattr(self, "_revision", 0))

    # ================================================================== persistence
    def get_arrays(self) -> dict[str, dict[str, NDArray[Any]]]:
        """Learned state grouped by model-directory file (see :mod:`recommender.bundle`)."""
        return state_arrays(self._state())

    @classmethod
    def from_arrays(
        cls,
        arrays: Mapping[str, Mapping[str, NDArray[Any]]],
        params: Mapping[str, Any],
        model_version: str = "unsaved",
    ) -> HybridRecommender:
        """Rebuild a fitted recommender from :meth:`get_arrays` output.

        Raises
        ------
        ModelError
            An array is missing or its shape does not fit the model's tables.
        """
        model = cls(**params)
        model.state_ = state_from_arrays(arrays)
        model.model_version = model_version
        model._revision = 0
        return model
