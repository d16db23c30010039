"""Serving: score, filter, explain and rank one teacher, whoever they are.

A list is asked for three kinds of teacher: one the model was trained on (history-based signals
and the warm ranker), a new one known only by profile and a partial diagnosis (content signals
and the cold ranker), and anyone asking for the non-personalised list (popularity only). The
three differ only in what is known about the teacher, so each entry point
(:func:`rank_known`, :func:`rank_profile`, :func:`popular_ranking`) describes its teacher as a
:class:`OneTeacher` and hands it to the one private function that scores, filters, builds the
explanation context and ranks.

The fast row helpers (:mod:`~recommender.ranking.rows`) are looked up in this module at call
time, so the equivalence test can swap them here for the general formulas.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from recommender.ranking.cf import CollaborativeFilter
from recommender.ranking.colleagues import colleague_cocompletion
from recommender.ranking.explanations import ExplanationContext
from recommender.ranking.filters import ListKind, PolicyRules, apply_filters, environment_mask
from recommender.ranking.ranked import RankedItems, rank_items
from recommender.ranking.rows import dense_rows, share_below, zscore_rows
from recommender.ranking.signals import (
    ItemTable,
    PointTable,
    SocialCounts,
    TeacherTable,
    content_signals,
)
from recommender.ranking.state import FittedState

__all__ = [
    "ListRequest",
    "OneTeacher",
    "ServingRules",
    "active_points",
    "eligible_items",
    "features",
    "popular_ranking",
    "rank_known",
    "rank_profile",
]

#: Above this many candidates the CF percentile (an explanation) is not computed per request.
_CF_PERCENTILE_LIMIT = 4000


@dataclass(frozen=True)
class OneTeacher:
    """What ranking one teacher may read about them.

    Attributes
    ----------
    school_row
        Row of the teacher's school.
    row
        The teacher's row when the model was trained on them (history-based signals); ``None``
        for a new teacher or the non-personalised list.
    mastery
        Their diagnosis over the points; ``None`` for the non-personalised list (which never
        reads the teacher's profile).
    group_row, stage, subject, research_group
        Their 教研组 row (-1 when unknown) and profile, used by signals and explanations.
    """

    school_row: int
    row: int | None = None
    mastery: NDArray[np.float64] | None = None
    group_row: int = -1
    stage: str | None = None
    subject: str | None = None
    research_group: str | None = None
    #: For the non-personalised list of a known teacher: her row, whose completions are left
    #: out (not profiling: the list itself is the school's).
    completed_of: int | None = None


@dataclass(frozen=True)
class ServingRules:
    """The estimator's filter hyperparameters every list obeys."""

    mastered_threshold: float = 0.9
    keep_active_points: bool = True
    #: Drop items on mastered points: ``None`` = as the fit's model selection decided.
    mastered_filter: bool | None = None


@dataclass(frozen=True)
class ListRequest:
    """What the caller asks for: the kind, items to leave out, points to keep, and how deep."""

    kind: ListKind = "course"
    exclude: Sequence[str] = ()
    only_points: Sequence[str] = ()
    depth: int | None = None


def features(
    rows: NDArray[np.int64],
    mastery: NDArray[np.float64],
    teachers: TeacherTable,
    items: ItemTable,
    points: PointTable,
    social: SocialCounts,
    took: sp.csr_matrix,
    als: CollaborativeFilter | None,
    knn: CollaborativeFilter | None,
    completed: sp.csr_matrix | None = None,
) -> dict[str, NDArray[np.float32]]:
    """Every signal (teachers × items) for the known teachers at ``rows``.

    ``mastery`` holds every teacher's diagnosis (rows are picked here). ``fit`` passes the
    inner (validation-split) counts and CF models, serving the final ones; without CF models
    only the content and history signals are computed. ``completed`` (the teachers' own
    completions) is subtracted from the completion counts like ``took`` from the taker counts.
    """
    own = dense_rows(took, rows)
    own_done = None if completed is None else dense_rows(completed, rows)
    signals = content_signals(
        mastery[rows],
        teachers.school_row[rows],
        teachers.group_row[rows],
        teachers.stages[rows],
        teachers.subjects[rows],
        own,
        teachers,
        items,
        points,
        social,
        own_done,
    )
    if als is not None and knn is not None:
        signals["cf_als"] = zscore_rows(als.score(rows))
        signals["cf_knn"] = zscore_rows(knn.score(rows))
    signals["colleague_cocompletion"] = (
        np.zeros_like(signals["popularity"])
        if completed is None
        else colleague_cocompletion(rows, completed, teachers.school_row)
    )
    return signals


def eligible_items(
    rows: NDArray[np.int64],
    teachers: TeacherTable,
    items: ItemTable,
    points: PointTable,
    rules: PolicyRules,
) -> NDArray[np.bool_]:
    """Items each teacher at ``rows`` could be shown at all (environment and policy gating)."""
    ranks = teachers.school_environment_rank[teachers.school_row[rows]]
    by_rank = {int(r): environment_mask(items, points, int(r), rules) for r in np.unique(ranks)}
    return np.array([by_rank[int(r)] for r in ranks]).reshape(len(rows), len(items.item_ids))


def active_points(
    state: FittedState,
    keep_active_points: bool,
    rows: NDArray[np.int64] | None = None,
    school_rows: NDArray[np.int64] | None = None,
) -> NDArray[np.bool_]:
    """Points that stay open for the mastered-points filter (teachers × points).

    The school's chosen points (整校推进) plus, for known teachers (``rows``), every point they
    have already studied: both are worked on until assessed, whatever the diagnosis says.
    """
    if not keep_active_points:
        chosen_for = rows if rows is not None else school_rows
        count = 0 if chosen_for is None else len(chosen_for)
        return np.zeros((count, len(state.points.codes)), dtype=bool)
    if rows is not None:
        school_rows = state.teachers.school_row[rows]
        # One teacher: copy the CSR row; a batch stays sparse (a dense batch × items matrix of
        # a whole province would not fit in memory).
        took = dense_rows(state.took, rows, np.float64) if len(rows) <= 64 else state.took[rows]
        studied = np.asarray(took @ state.items.point_weights) > 0
    if school_rows is None:
        raise ValueError("active_points needs rows (known teachers) or school_rows")
    chosen = state.teachers.school_chosen[school_rows]
    return chosen | studied if rows is not None else chosen


def _rank_one(
    state: FittedState, teacher: OneTeacher, rules: ServingRules, request: ListRequest
) -> RankedItems:
    """Score → filter → explanation context → :func:`rank_items`, for one teacher."""
    t, social = state.teachers, state.social
    school = teacher.school_row
    taken: NDArray[np.int32] = np.empty(0, dtype=np.int32)
    own_took = own_completed = cf_percentile = active = chosen = None
    keep_active = rules.keep_active_points
    if teacher.row is not None:  # known: every signal, the warm ranker
        rows = np.array([teacher.row])
        took = state.took
        signals = features(
            rows, state.mastery, t, state.items, state.points, social, took, state.als, state.knn,
            state.completed,
        )  # fmt: skip
        scores = state.ranker.decision(signals)[0]
        taken = took.indices[took.indptr[teacher.row] : took.indptr[teacher.row + 1]]
        active = active_points(state, keep_active, rows)[0]
        own_took = dense_rows(took, rows)[0]
        own_completed = dense_rows(state.completed, rows, state.completed.dtype)[0]
        cf = signals["cf_als"][0]
        cf_percentile = share_below(cf) if cf.size < _CF_PERCENTILE_LIMIT else None
    elif teacher.mastery is not None:  # new: content signals, the cold ranker
        signals = content_signals(
            teacher.mastery[None, :],
            np.array([school]),
            np.array([teacher.group_row]),
            np.array([teacher.stage]),
            np.array([teacher.subject]),
            None,
            t,
            state.items,
            state.points,
            social,
        )
        scores = state.cold_ranker.decision(signals)[0]
        active = active_points(state, keep_active, school_rows=np.array([school]))[0]
    else:  # non-personalised: popularity only
        scores = state.popularity()
        signals = {"popularity": scores.astype(np.float32)[None, :]}
        if teacher.completed_of is not None:
            # excluding what she completed is not profiling: a list must not repeat it
            row = teacher.completed_of
            done = state.completed
            taken = done.indices[done.indptr[row] : done.indptr[row + 1]]
    mastered_filter = (
        state.mastered_filter if rules.mastered_filter is None else rules.mastered_filter
    )
    allowed, _ = apply_filters(
        state.items,
        state.points,
        state.rules,
        request.kind,
        int(t.school_environment_rank[school]),
        teacher.mastery,
        taken,
        request.exclude,
        request.only_points,
        rules.mastered_threshold,
        active if mastered_filter else None,
        mastered_filter,
    )
    if teacher.mastery is not None:
        group_done = social.group_completed[teacher.group_row] if teacher.group_row >= 0 else None
        if group_done is not None and own_completed is not None:
            group_done = group_done - own_completed
        school_took = social.school_took[school]
        if own_took is not None:
            school_took = school_took - own_took
        chosen = t.school_chosen[school]
    else:
        group_done = school_took = None
    context = ExplanationContext(
        teacher.mastery,
        rules.mastered_threshold,
        teacher.stage,
        teacher.subject,
        teacher.research_group,
        group_done,
        school_took,
        social.item_took,
        cf_percentile,
        chosen,
    )
    per_item = {name: value[0] for name, value in signals.items()}
    return rank_items(state.items, state.points, scores, allowed, context, per_item, request.depth)


def rank_known(
    state: FittedState, row: int, rules: ServingRules, request: ListRequest
) -> RankedItems:
    """The personalised ranking of the teacher at ``row`` (trained on their history)."""
    t = state.teachers
    teacher = OneTeacher(
        school_row=int(t.school_row[row]),
        row=row,
        mastery=state.mastery[row],
        group_row=int(t.group_row[row]),
        stage=str(t.stages[row]),
        subject=str(t.subjects[row]),
        research_group=str(t.research_groups[row]),
    )
    return _rank_one(state, teacher, rules, request)


def rank_profile(
    state: FittedState, teacher: OneTeacher, rules: ServingRules, request: ListRequest
) -> RankedItems:
    """The cold-start ranking of a teacher described by profile and diagnosis only."""
    if teacher.row is not None or teacher.mastery is None:
        raise ValueError("rank_profile ranks a new teacher: give mastery and no row")
    return _rank_one(state, teacher, rules, request)


def popular_ranking(
    state: FittedState,
    school_row: int,
    rules: ServingRules,
    request: ListRequest,
    completed_of: int | None = None,
) -> RankedItems:
    """The non-personalised list: policy, school environment and province-wide popularity.

    Never reads the teacher's profile or diagnosis, so it serves as the baseline a teacher can
    ask for (``personalized=False``) and as the comparison in evaluations. With
    ``completed_of`` (a known teacher's row) the items she completed are left out.
    """
    teacher = OneTeacher(school_row=school_row, completed_of=completed_of)
    return _rank_one(state, teacher, rules, request)
