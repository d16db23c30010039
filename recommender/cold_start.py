"""Cold start: recommendations for a teacher the model has never seen.

A new teacher has a profile (school, 学段, 学科, 教研组) and perhaps a few questionnaire answers.
That is enough for every content and social signal — expected gain on the answered gaps (other
points take the population mean), stage/subject fit, the school's chosen points, what colleagues
in the same school and 教研组 took, popularity — scored by the cold ranker, which ``fit`` trained
on the same held-out items as the warm one but without the history-based signals.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import BaseModel

from competency_model.errors import NotFoundError
from recommender.explanations import ExplanationContext
from recommender.filters import apply_filters
from recommender.scoring import rank_items

if TYPE_CHECKING:
    from recommender.hybrid import HybridRecommender, Recommendation

__all__ = ["TeacherProfile", "recommend_for_profile"]


class TeacherProfile(BaseModel):
    """What a new teacher tells us before any event exists (cold start)."""

    school_id: str
    stage: str
    subject: str
    research_group: str = ""


def recommend_for_profile(
    model: HybridRecommender,
    profile: TeacherProfile | Mapping[str, Any],
    mastery: Mapping[str, float] | None = None,
    k: int = 10,
    kind: Literal["course", "task"] = "course",
    exclude: Sequence[str] = (),
    only_points: Sequence[str] = (),
) -> list[Recommendation]:
    """Top ``k`` items for a new teacher (see :meth:`HybridRecommender.recommend_for_profile`)."""
    model._check_fitted()
    profile = profile if isinstance(profile, TeacherProfile) else TeacherProfile(**profile)
    t = model.teachers_
    school_rows = np.flatnonzero(t.school_ids == profile.school_id)
    if school_rows.size == 0:
        raise NotFoundError(
            f"school {profile.school_id!r} is not in this model; check the school_id",
            details={"school_id": profile.school_id},
        )
    school_row = int(school_rows[0])
    key = f"{profile.school_id}|{profile.research_group}"
    group_rows = np.flatnonzero(t.group_keys == key)
    group_row = int(group_rows[0]) if group_rows.size else -1
    vector = model.mastery_prior_.copy()
    for code, probability in (mastery or {}).items():
        vector[model.points_.index([code])[0]] = float(np.clip(probability, 0.0, 1.0))
    all_scores, features = model.score_profiles(
        np.array([school_row]),
        np.array([group_row]),
        np.array([profile.stage]),
        np.array([profile.subject]),
        vector[None, :],
    )
    scores = all_scores[0]
    school_rank = int(t.school_environment_rank[school_row])
    allowed, _ = apply_filters(
        model.items_,
        model.points_,
        model.rules_,
        kind,
        school_rank,
        vector,
        (),
        exclude,
        only_points,
        model.mastered_threshold,
        model.active_points(school_rows=np.array([school_row]))[0],
    )
    group_done = model.social_.group_completed[group_row] if group_row >= 0 else None
    context = ExplanationContext(
        vector,
        model.mastered_threshold,
        profile.stage,
        profile.subject,
        profile.research_group or None,
        group_done,
        model.social_.school_took[school_row],
        model.social_.item_took,
        None,
        t.school_chosen[school_row],
    )
    signals = {n: f[0] for n, f in features.items()}
    return rank_items(model.items_, model.points_, scores, allowed, context, signals, depth=k).top(
        k
    )
