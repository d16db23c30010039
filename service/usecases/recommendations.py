"""Recommendations: the one serving decision and the lists that follow from it.

Every door that recommends (``GET /v1/teachers/{id}/recommendations``, ``nengli recommend``,
the assessment feedback) first asks :func:`knows` which of three cases a teacher is in:

* :attr:`Serving.KNOWN`: the recommender was trained with the teacher; their model row is
  resolved here, once per request, and ranked (personalised or not) from it;
* :attr:`Serving.COLD_START`: a teacher newer than the model, ranked from their profile and a
  fresh diagnosis of their stored answers;
* :attr:`Serving.NON_PERSONALISED`: a teacher newer than the model asking for the
  non-personalised list, which is their school's (policy, environment, popularity).

Items the teacher completed after training are excluded in every case, at once.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from enum import StrEnum

from competency_model.catalog import Kind
from competency_model.errors import ConflictError, NotFoundError
from recommender.bundle import ModelBundle
from recommender.ranking import HybridRecommender, Recommendation, TeacherProfile
from service.auth import Principal
from service.db.models import School, Teacher
from service.db.stores.records import load_record
from service.db.stores.scope import visible_teacher
from service.state import ServiceState
from service.usecases.teacher_models import diagnose, mastery_of

__all__ = [
    "Serving",
    "ServingDecision",
    "knows",
    "profile_of",
    "recommend_known",
    "recommend_unknown",
    "unknown_teacher_list",
]


class Serving(StrEnum):
    """How a teacher's list is made (see the module docstring)."""

    KNOWN = "known"
    COLD_START = "cold_start"
    NON_PERSONALISED = "non_personalised"


@dataclass(frozen=True, slots=True)
class ServingDecision:
    """The outcome of :func:`knows`: the case, and the model row of a known teacher."""

    mode: Serving
    row: int | None = None

    @property
    def cold_start(self) -> bool:
        """Whether the teacher is newer than the model (what the API reports as ``cold_start``)."""
        return self.mode is not Serving.KNOWN


def knows(recommender: HybridRecommender, teacher_id: str, personalized: bool) -> ServingDecision:
    """Decide how to recommend for ``teacher_id``: known (with its row), cold start or popular.

    The only place the service asks the model whether it has seen a teacher; the row it
    resolves is the one the ranking uses, so a request looks the teacher up once.
    """
    try:
        row = recommender.row_of(teacher_id)
    except NotFoundError:
        return ServingDecision(Serving.COLD_START if personalized else Serving.NON_PERSONALISED)
    return ServingDecision(Serving.KNOWN, row)


def recommend_known(
    recommender: HybridRecommender,
    decision: ServingDecision,
    kind: Kind,
    k: int,
    personalized: bool,
    completed: Collection[str],
) -> list[Recommendation]:
    """Top ``k`` for a known teacher, ``completed`` excluded (``personalized=False``: popular)."""
    if decision.row is None:
        raise ValueError(f"recommend_known needs a known teacher, got {decision.mode}")
    if k < 1:
        raise ValueError(f"k={k} must be at least 1")
    ranking = recommender.rank_row(
        decision.row, kind, personalized, exclude=sorted(completed), depth=k
    )
    return ranking.top(k)


def profile_of(teacher: Teacher, school: School) -> TeacherProfile:
    """What the cold-start ranker reads of a stored teacher."""
    return TeacherProfile(
        school_id=school.school_id,
        stage=teacher.stage,
        subject=teacher.subject,
        research_group=teacher.research_group or "",
    )


def recommend_unknown(
    recommender: HybridRecommender,
    decision: ServingDecision,
    profile: TeacherProfile,
    completed: Collection[str],
    kind: Kind,
    k: int,
    mastery: Mapping[str, float] | None,
) -> list[Recommendation]:
    """Top ``k`` for a teacher newer than the model: cold start or their school's popular list.

    The non-personalised list does not read the profile beyond the school, as for known
    teachers. A school newer than the model is a :class:`ConflictError` that says to retrain.
    """
    exclude = list(completed)
    try:
        if decision.mode is Serving.COLD_START:
            return recommender.recommend_for_profile(
                profile, mastery=mastery, k=k, kind=kind, exclude=exclude
            )
        if decision.mode is Serving.NON_PERSONALISED:
            return recommender.recommend_popular(profile.school_id, k=k, kind=kind, exclude=exclude)
    except NotFoundError as error:
        raise ConflictError(
            f"school {profile.school_id!r} was added after the model was trained; run "
            "`nengli train` and POST /v1/admin/reload to recommend for its teachers",
            details={"school_id": profile.school_id},
        ) from error
    raise ValueError(f"recommend_unknown is for teachers newer than the model, got {decision.mode}")


def unknown_teacher_list(
    state: ServiceState,
    principal: Principal,
    models: ModelBundle,
    decision: ServingDecision,
    teacher_id: str,
    completed: Collection[str],
    kind: Kind,
    k: int,
) -> list[Recommendation]:
    """The list of a stored teacher newer than the model (diagnosed first in cold start).

    Opens its own session: the API calls it in a worker thread.
    """
    with state.sessions() as session:
        teacher, school = visible_teacher(session, principal, teacher_id)
        mastery = None
        if decision.mode is Serving.COLD_START:
            mastery = mastery_of(diagnose(models, load_record(session, teacher, school)))
    return recommend_unknown(
        models.recommender, decision, profile_of(teacher, school), completed, kind, k, mastery
    )
