"""Cold start: describing a teacher the model has never seen, from profile and partial diagnosis.

A new teacher has a profile (school, 学段, 学科, 教研组) and perhaps a few questionnaire answers.
That is enough for every content and social signal — expected gain on the answered gaps (other
points take the population mean), stage/subject fit, the school's chosen points, what colleagues
in the same school and 教研组 took, popularity — scored by the cold ranker, which ``fit`` trained
on the same held-out items as the warm one but without the history-based signals.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from pydantic import BaseModel

from competency_model.errors import NotFoundError
from recommender.ranking.serving import OneTeacher
from recommender.ranking.state import FittedState

__all__ = ["TeacherProfile", "profile_teacher", "school_row"]


class TeacherProfile(BaseModel):
    """What a new teacher tells us before any event exists (cold start)."""

    school_id: str
    stage: str
    subject: str
    research_group: str = ""


def school_row(state: FittedState, school_id: str) -> int:
    """Row of ``school_id``; :class:`NotFoundError` if the model has never seen the school."""
    rows = state.school_rows(school_id)
    if rows.size == 0:
        raise NotFoundError(
            f"school {school_id!r} is not in this model; check the school_id",
            details={"school_id": school_id},
        )
    return int(rows[0])


def profile_teacher(
    state: FittedState,
    profile: TeacherProfile | Mapping[str, Any],
    mastery: Mapping[str, float] | None = None,
) -> OneTeacher:
    """A new teacher as :func:`~recommender.ranking.serving.rank_profile` reads them.

    Points missing from ``mastery`` take the population mean, so a half-finished adaptive
    questionnaire already moves the list towards the answered gaps.
    """
    profile = profile if isinstance(profile, TeacherProfile) else TeacherProfile(**profile)
    school = school_row(state, profile.school_id)
    key = f"{profile.school_id}|{profile.research_group}"
    group_rows = np.flatnonzero(state.teachers.group_keys == key)
    vector = state.mastery_prior.copy()
    for code, probability in (mastery or {}).items():
        vector[state.points.index([code])[0]] = float(np.clip(probability, 0.0, 1.0))
    return OneTeacher(
        school_row=school,
        mastery=vector,
        group_row=int(group_rows[0]) if group_rows.size else -1,
        stage=profile.stage,
        subject=profile.subject,
        research_group=profile.research_group or None,
    )
