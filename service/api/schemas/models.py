"""Model outputs as the API returns them: diagnosis rows, questionnaire answers, recommendations."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from competency_model.catalog import Kind
from recommender.ranking import Recommendation
from service.api.schemas.common import StrictModel


class Answer(StrictModel):
    """One questionnaire answer: 0/1 for scenario items, 1..scale_max for self-ratings."""

    item_id: str = Field(pattern=r"^[A-Za-z0-9_\-]{1,16}$", examples=["Q001"])
    response: float = Field(allow_inf_nan=False, examples=[1])


class QuestionnaireIn(StrictModel):
    """Body of ``POST /v1/teachers/{id}/questionnaire``."""

    answers: list[Answer] = Field(default_factory=list, max_length=500)
    adaptive: bool = Field(
        default=True, description="Return the most informative next item (adaptive mode)."
    )


class MasteryRow(BaseModel):
    """Diagnosed mastery of one point."""

    point: str
    mastery_probability: float
    sd: float
    evidence_count: int
    insufficient_evidence: bool


class DiagnosisOut(BaseModel):
    """A teacher's diagnosis over every point of the framework."""

    teacher_id: str
    model_version: str
    points: list[MasteryRow]


class NextItem(BaseModel):
    """The item the adaptive questionnaire asks next."""

    item_id: str
    kind: str
    stem_zh: str
    options_zh: list[str]
    scale_max: int | None
    points: list[str]


class QuestionnaireOut(DiagnosisOut):
    """Diagnosis after the answers, the number stored and (adaptive) the next item."""

    answered: int
    next_item: NextItem | None = None
    complete: bool = Field(description="True when the adaptive questionnaire has nothing to add.")


class RecommendationOut(Recommendation):
    """One recommended course or practice task with its score and explanations.

    The recommender's own :class:`~recommender.ranking.Recommendation`, named for the API: the
    route sends the JSON of the recommender's items as they are, so the two cannot drift.
    """


class RecommendationsOut(BaseModel):
    """Top-k list for one teacher."""

    teacher_id: str
    kind: Kind
    personalized: bool
    model_version: str
    data: list[RecommendationOut]
    count: int
    cold_start: bool = Field(description="True when the teacher is newer than the model.")


JsonObject = dict[str, Any]
