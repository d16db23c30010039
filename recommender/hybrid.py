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
from typing import Any, Literal, cast

import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import NDArray
from pydantic import BaseModel, Field

from competency_model.errors import NotFittedError, NotFoundError
from recommender.cf import Algorithm, CollaborativeFilter, confidence_matrix
from recommender.cold_start import TeacherProfile
from recommender.explanations import ExplanationContext, explain_item
from recommender.filters import PolicyRules, apply_filters
from recommender.ranker import LinearRanker, training_rows, validation_metrics
from recommender.signals import (
    CONTENT_SIGNALS,
    SIGNALS,
    ItemTable,
    PointTable,
    SocialCounts,
    TeacherTable,
    content_signals,
)

__all__ = ["HybridRecommender", "Recommendation", "TeacherProfile", "load_recommender"]

Kind = Literal["course", "task"]
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


class Recommendation(BaseModel):
    """One recommended course or practice task with its score, signals and reasons."""

    item_id: str
    title_zh: str
    kind: str
    hours: float
    points: dict[str, float]
    score: float
    reasons_zh: list[str]
    reasons_en: list[str]
    signals: dict[str, float] = Field(default_factory=dict)


def _dense_rows(
    matrix: sp.spmatrix, rows: NDArray[np.int64], dtype: Any = np.float32
) -> NDArray[Any]:
    """``matrix[rows]`` as a dense array of ``dtype`` (duplicate entries summed, as ``todense``).

    For a CSR matrix and a handful of rows the rows are copied straight from
    ``indptr``/``indices``: scipy's fancy indexing builds intermediate sparse matrices, which
    for one teacher costs more than scoring every item.
    """
    rows = np.asarray(rows, dtype=np.int64)
    if matrix.format != "csr" or len(rows) > 64:
        return np.asarray(matrix[rows].todense(), dtype=dtype)
    dense = np.zeros((len(rows), matrix.shape[1]), dtype=dtype)
    for out, row in enumerate(rows):
        start, stop = matrix.indptr[row], matrix.indptr[row + 1]
        np.add.at(dense[out], matrix.indices[start:stop], matrix.data[start:stop])
    return dense


def _share_below(values: NDArray[np.float32]) -> NDArray[np.float64]:
    """Per entry, the share of entries strictly smaller (``(v[:, None] > v[None, :]).mean(1)``).

    A sort and a binary search give the same numbers in O(n log n) instead of an n × n
    comparison; NaN (never produced by the CF models) falls back to the comparison.
    """
    if np.isnan(values).any():
        return (values[:, None] > values[None, :]).mean(axis=1)
    ordered = np.sort(values)
    return np.searchsorted(ordered, values, side="left") / float(values.size)


def _zscore_rows(scores: NDArray[np.float32]) -> NDArray[np.float32]:
    """Per-teacher standardisation, so CF scores from users of any activity level compare."""
    mean = scores.mean(axis=1, keepdims=True)
    spread = scores.std(axis=1, keepdims=True)
    return ((scores - mean) / np.where(spread > 1e-9, spread, 1.0)).astype(np.float32)


class HybridRecommender:
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
    def _cf(self, algorithm: str) -> CollaborativeFilter:
        return CollaborativeFilter(
            algorithm=cast(Algorithm, algorithm),
            factors=self.factors,
            regularization=self.regularization,
            alpha=self.alpha,
            iterations=self.iterations,
            neighbours=self.neighbours,
            num_threads=self.num_threads,
            random_state=self.random_state,
        )

    def _matrices(self, events: pd.DataFrame) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        teacher_index = pd.Index(self.teachers_.teacher_ids)
        item_index = pd.Index(self.items_.item_ids)
        confidence = confidence_matrix(events, teacher_index, item_index, self.event_weights)
        done = events[events["event"] == "complete"]
        completed = confidence_matrix(
            done,
            teacher_index,
            item_index,
            {"complete": 1.0, "enrol": 0.0, "progress": 0.0, "rate": 0.0},
        )
        completed.data[:] = 1.0
        return confidence, completed

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
        from recommender.evaluation.splits import time_split

        self.points_ = PointTable.from_framework(framework)
        codes = self.points_.codes.tolist()
        self.items_ = ItemTable.from_catalog(catalog, codes)
        self.teachers_ = TeacherTable.from_frames(province.teachers, province.schools, codes)
        self.rules_ = PolicyRules.default() if policy is None else PolicyRules.from_policy(policy)
        self.mastery_ = self._mastery_matrix(mastery)
        self.mastery_prior_ = (
            self.mastery_.mean(axis=0) if len(self.mastery_) else np.full(len(codes), 0.5)
        )
        self._teacher_lookup = {t: i for i, t in enumerate(self.teachers_.teacher_ids.tolist())}

        # 1. Validation split: everything before each teacher's latest item trains inner models;
        #    the latest item is what the ranker learns to find.
        events = province.events
        inner_events, validation = time_split(events, holdout_items=1, min_train_items=1)
        confidence, completed = self._matrices(inner_events)
        took = (confidence > 0).astype(np.float32)
        inner_social = SocialCounts.from_matrices(took, completed, self.teachers_)
        inner_als = self._cf("als").fit(confidence)
        inner_knn = self._cf("item_knn").fit(confidence)
        rng = np.random.default_rng(self.random_state)
        val_rows = pd.Index(self.teachers_.teacher_ids).get_indexer(validation["teacher_id"])
        val_cols = pd.Index(self.items_.item_ids).get_indexer(validation["item_id"])
        ok = (val_rows >= 0) & (val_cols >= 0)
        val_rows, val_cols = val_rows[ok], val_cols[ok]
        teachers = np.unique(val_rows)
        if teachers.size > self.max_ranker_teachers:
            teachers = np.sort(rng.choice(teachers, self.max_ranker_teachers, replace=False))
        keep = np.isin(val_rows, teachers)
        features = self._features(teachers, inner_social, took, inner_als, inner_knn)
        X, y = training_rows(
            features,
            SIGNALS,
            teachers,
            val_rows[keep],
            val_cols[keep],
            took,
            self._eligible(teachers),
            self.negatives_per_teacher,
            rng,
        )
        self.ranker_ = LinearRanker(c=self.ranker_c).fit(X, y, SIGNALS)
        content = [SIGNALS.index(s) for s in CONTENT_SIGNALS]
        self.cold_ranker_ = LinearRanker(c=self.ranker_c).fit(X[:, content], y, CONTENT_SIGNALS)
        allowed = self._eligible(teachers) & ~(np.asarray(took[teachers].todense()) > 0)
        self.validation_metrics_ = validation_metrics(
            {
                "blend": self.ranker_.decision(features),
                "popularity": np.tile(np.log1p(inner_social.item_took), (len(teachers), 1)),
            },
            allowed,
            teachers,
            val_rows[keep],
            val_cols[keep],
        )

        # 2. Final models on all events.
        confidence, completed = self._matrices(events)
        self.took_ = (confidence > 0).astype(np.float32).tocsr()
        self.completed_ = completed
        self.social_ = SocialCounts.from_matrices(self.took_, completed, self.teachers_)
        self.als_ = self._cf("als").fit(confidence)
        self.knn_ = self._cf("item_knn").fit(confidence)
        # One confidence matrix serves both CF models (item-kNN scores from the same rows).
        self.knn_.user_items_ = self.als_.user_items_
        self.model_version = "unsaved"
        return self

    def _mastery_matrix(self, mastery: pd.DataFrame) -> NDArray[np.float64]:
        codes = self.points_.codes.tolist()
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
        wide = wide.reindex(self.teachers_.teacher_ids).fillna(prior)
        return np.clip(wide.to_numpy(dtype=np.float64), 0.0, 1.0)

    def _eligible(self, rows: NDArray[np.int64]) -> NDArray[np.bool_]:
        """Items each teacher could be shown at all (environment and policy gating)."""
        from recommender.filters import environment_mask

        ranks = self.teachers_.school_environment_rank[self.teachers_.school_row[rows]]
        by_rank = {
            int(r): environment_mask(self.items_, self.points_, int(r), self.rules_)
            for r in np.unique(ranks)
        }
        return np.array([by_rank[int(r)] for r in ranks]).reshape(
            len(rows), len(self.items_.item_ids)
        )

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
        row = self.row_of(teacher_id)
        t = self.teachers_
        school_rank = int(t.school_environment_rank[t.school_row[row]])
        if not personalized:
            allowed, _ = apply_filters(
                self.items_,
                self.points_,
                self.rules_,
                kind,
                school_rank,
                None,
                exclude=exclude,
                only_points=only_points,
            )
            context = ExplanationContext(
                None, self.mastered_threshold, None, None, None, None, None, self.social_.item_took
            )
            scores = self.popularity_scores()
            return self._top(scores, allowed, k, context, {"popularity": scores.astype(np.float32)})
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
        return self._top(scores[0], allowed, k, context, {n: f[0] for n, f in features.items()})

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

    def _top(
        self,
        scores: NDArray[np.float64],
        allowed: NDArray[np.bool_],
        k: int,
        context: ExplanationContext,
        signals: Mapping[str, NDArray[np.float32]],
    ) -> list[Recommendation]:
        if k < 1:
            raise ValueError(f"k={k} must be at least 1")
        candidates = np.flatnonzero(allowed & np.isfinite(scores))
        order = candidates[np.lexsort((self.items_.item_ids[candidates], -scores[candidates]))][:k]
        # Gather the k rows once and convert with ``tolist`` (exactly ``float(x)`` per value):
        # per-item numpy scalar access cost more than scoring every candidate.
        items, codes = self.items_, self.points_.codes.tolist()
        weights = items.point_weights[order].tolist()
        values = {name: np.asarray(value)[order].tolist() for name, value in signals.items()}
        result = []
        for i, (row, item_id, title, kind, hours, score) in enumerate(
            zip(
                order.tolist(),
                items.item_ids[order].tolist(),
                items.titles_zh[order].tolist(),
                items.kinds[order].tolist(),
                items.hours[order].tolist(),
                scores[order].tolist(),
                strict=True,
            )
        ):
            zh, en = explain_item(row, items, self.points_, context)
            result.append(
                Recommendation(
                    item_id=str(item_id),
                    title_zh=str(title),
                    kind=str(kind),
                    hours=float(hours),
                    points={
                        str(codes[c]): round(float(w), 4) for c, w in enumerate(weights[i]) if w > 0
                    },
                    score=float(score),
                    reasons_zh=zh,
                    reasons_en=en,
                    signals={name: round(float(v[i]), 4) for name, v in values.items()},
                )
            )
        return result

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
