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

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import NDArray

from competency_model.catalog import Catalog
from competency_model.framework import Framework
from competency_model.policy import Policy
from competency_model.progress import NO_PROGRESS, ProgressReporter
from competency_model.province import ProvinceTables
from recommender.ranking.cf import Algorithm, CollaborativeFilter, confidence_matrix
from recommender.ranking.coded_events import KINDS, CodedEvents, completion_split
from recommender.ranking.filters import PolicyRules, unmastered_mask
from recommender.ranking.selection import Selection, select_rankers
from recommender.ranking.serving import eligible_items, features
from recommender.ranking.signals import (
    ItemTable,
    PointTable,
    SocialCounts,
    TeacherTable,
    recent_completions,
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
    ranker: str
    ranker_refit: str
    mastered_threshold: float
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
    rediagnose: Callable[[ProvinceTables], pd.DataFrame] | None = None,
    progress: ProgressReporter = NO_PROGRESS,
) -> FittedState:
    """Everything :meth:`HybridRecommender.fit` learns (see there for the arguments)."""
    points = PointTable.from_framework(framework)
    codes = points.codes.tolist()
    items = ItemTable.from_catalog(catalog, codes)
    teachers = TeacherTable.from_frames(province.teachers, province.schools, codes)
    rules = PolicyRules.default() if policy is None else PolicyRules.from_policy(policy)
    diagnosis = mastery_matrix(mastery, teachers, points)
    prior = diagnosis.mean(axis=0) if len(diagnosis) else np.full(len(codes), 0.5)

    # 1. Validation split: everything before each teacher's last completions trains inner
    #    models; those completions are what the rankers learn to find and are judged on. The
    #    log is coded to integers once; the inner and final matrices are built from the codes
    #    up front, so the coded log is freed before the CF models and the rankers.
    events = province.events
    progress.stage(f"验证切分 validation split ({len(events)} events)")
    coded = CodedEvents.from_frame(events, teachers.teacher_ids, items.item_ids)
    split = completion_split(coded, holdout_items=2, min_train_items=1)
    for holdout, min_train in ((1, 1), (1, 0)):
        if split.n_held:
            break
        # A small or partial province (few completions per teacher): hold out one item each,
        # even a teacher's only one, as the blend needs some held-out completion to learn from.
        split = completion_split(coded, holdout, min_train)
    confidence = coded.confidence(split.keep, settings.event_weights)
    completed = coded.completed(split.keep)
    inner_recent = _recent(coded, split.keep)
    final_confidence = coded.confidence(None, settings.event_weights)
    final_completed = coded.completed(None)
    final_recent = _recent(coded, None)
    del coded
    before = None
    if rediagnose is not None:
        before = _before(
            province, events[split.keep].reset_index(drop=True), events.iloc[split.first_touch]
        )
    took = (confidence > 0).astype(np.float32).tocsr()
    inner_social = SocialCounts.from_matrices(took, completed, teachers, inner_recent)
    progress.stage("协同过滤 fitting ALS")
    inner_als = cf_model(settings, "als").fit(confidence)
    progress.stage("协同过滤 fitting item-kNN")
    inner_knn = cf_model(settings, "item_knn").fit(confidence)
    rng = np.random.default_rng(settings.random_state)
    val_rows, val_cols = split.rows, split.cols
    sample = np.unique(val_rows)
    if sample.size > settings.max_ranker_teachers:
        sample = np.sort(rng.choice(sample, settings.max_ranker_teachers, replace=False))
    keep = np.isin(val_rows, sample)
    positives = (
        pd.Series(val_cols[keep]).groupby(val_rows[keep]).agg(lambda c: np.unique(c)).to_dict()
    )
    # The diagnosis fuses completions as evidence: read from all events it would "know" the
    # held-out completions (their points look mastered), and a ranker trained on that learns
    # a rule that fails on real "what next" questions. So the inner signals use a diagnosis of
    # the events before the holdout when the caller can give one.
    inner_diagnosis = diagnosis
    progress.stage(f"排序模型 selecting the ranker ({sample.size} teachers)")
    if rediagnose is not None and before is not None:
        inner_diagnosis = mastery_matrix(rediagnose(before), teachers, points)
    selection = _select_rankers(
        settings,
        sample,
        positives,
        inner_diagnosis,
        teachers,
        items,
        points,
        rules,
        inner_social,
        took,
        completed,
        inner_als,
        inner_knn,
    )

    # 2. Final models on all events: the ALS continues from the inner factors (the matrices
    #    differ by one item per teacher), so the whole fit costs about one ALS fit.
    progress.stage("最终模型 refitting ALS and item-kNN on all events")
    confidence, completed = final_confidence, final_completed
    final_took = (confidence > 0).astype(np.float32).tocsr()
    als = inner_als.warm_refit(confidence, min(settings.iterations, REFIT_SWEEPS))
    del inner_als, inner_knn, inner_social, took, inner_diagnosis
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
        social=SocialCounts.from_matrices(final_took, completed, teachers, final_recent),
        als=als,
        knn=knn,
        ranker=selection.ranker,
        cold_ranker=selection.cold_ranker,
        validation_metrics=selection.report,
        mastered_filter=selection.mastered_filter,
        candidates={
            **selection.candidates,
            **{f"cold_{n}": r for n, r in selection.cold_candidates.items()},
        },
    )


def _select_rankers(
    settings: FitSettings,
    sample: NDArray[np.int64],
    positives: dict[int, NDArray[np.int64]],
    inner_diagnosis: NDArray[np.float64],
    teachers: TeacherTable,
    items: ItemTable,
    points: PointTable,
    rules: PolicyRules,
    inner_social: SocialCounts,
    took: sp.csr_matrix,
    completed: sp.csr_matrix,
    inner_als: CollaborativeFilter,
    inner_knn: CollaborativeFilter,
) -> Selection:
    """The model selection on the inner models (a function of its own so that its closures,
    which hold the inner matrices, are gone once it returns)."""
    return select_rankers(
        sample,
        positives,
        lambda rows: features(
            rows,
            inner_diagnosis,
            teachers,
            items,
            points,
            inner_social,
            took,
            inner_als,
            inner_knn,
            completed,
        ),  # fmt: skip
        lambda rows: eligible_items(rows, teachers, items, points, rules),
        took,
        completed,
        lambda rows: unmastered_mask(
            items,
            inner_diagnosis[rows],
            settings.mastered_threshold,
            _studied_or_chosen(rows, took, teachers, items),
        ),  # fmt: skip
        ~np.isin(items.kinds, list(rules.online_kinds)),
        settings.negatives_per_teacher,
        settings.ranker_c,
        settings.random_state,
        settings.num_threads,
        settings.ranker,
        settings.ranker_refit,
    )


def _recent(coded: CodedEvents, keep: NDArray[np.bool_] | None) -> NDArray[np.float32]:
    """Recency-weighted completions per item of the events ``keep`` selects (all: ``None``)."""
    done = (coded.kind == KINDS.index("complete")) & (coded.col >= 0)
    if keep is not None:
        done &= keep
    return recent_completions(
        coded.col[done].astype(np.int64),
        coded.timestamp[done].view("datetime64[ns]"),
        coded.n_cols,
    )


@dataclass(frozen=True)
class _Before:
    """The province tables as they stood before each teacher's held-out completions."""

    schools: pd.DataFrame
    teachers: pd.DataFrame
    responses: pd.DataFrame
    grades: pd.DataFrame
    events: pd.DataFrame


def _before(
    province: ProvinceTables, inner_events: pd.DataFrame, validation: pd.DataFrame
) -> _Before:
    """Events before the holdout, and grades assessed before each teacher's first held-out item."""
    grades = province.grades
    if len(validation) and len(grades):
        cutoff = validation.groupby("teacher_id")["timestamp"].min()
        limit = grades["teacher_id"].map(cutoff)
        grades = grades[(limit.isna() | (grades["assessed_at"] < limit)).to_numpy()]
    return _Before(province.schools, province.teachers, province.responses, grades, inner_events)


def _studied_or_chosen(
    rows: NDArray[np.int64], took: sp.csr_matrix, teachers: TeacherTable, items: ItemTable
) -> NDArray[np.bool_]:
    """Points exempt from the mastered-points rule: the school's choice and what she studies."""
    studied = np.asarray(took[rows] @ items.point_weights) > 0
    return np.asarray(teachers.school_chosen[teachers.school_row[rows]] | studied)
