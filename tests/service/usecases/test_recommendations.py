"""The one serving decision (known / cold start / non-personalised) and the lists it leads to."""

from __future__ import annotations

from pathlib import Path

import pytest

from competency_model.errors import ConflictError
from competency_model.province import Province
from recommender.bundle import load_recommender
from recommender.ranking import HybridRecommender, TeacherProfile
from service.usecases.recommendations import (
    Serving,
    ServingDecision,
    knows,
    recommend_known,
    recommend_unknown,
)

NEWCOMER = "T9999999"  # not in the trained model


@pytest.fixture(scope="module")
def recommender(model_dir: Path) -> HybridRecommender:
    return load_recommender(model_dir)


def _profile(province: Province, school_id: str | None = None) -> TeacherProfile:
    row = province.teachers.iloc[0]
    return TeacherProfile(
        school_id=school_id or str(row["school_id"]),
        stage=str(row["stage"]),
        subject=str(row["subject"]),
        research_group=str(row["research_group"] or ""),
    )


@pytest.mark.parametrize("personalized", [True, False])
def test_a_known_teacher_is_known_with_their_row(
    recommender: HybridRecommender, province: Province, personalized: bool
) -> None:
    teacher = str(province.teachers["teacher_id"].iloc[3])
    decision = knows(recommender, teacher, personalized)
    assert decision == ServingDecision(Serving.KNOWN, recommender.row_of(teacher))
    assert not decision.cold_start


@pytest.mark.parametrize(
    ("personalized", "mode"), [(True, Serving.COLD_START), (False, Serving.NON_PERSONALISED)]
)
def test_a_teacher_newer_than_the_model_is_cold(
    recommender: HybridRecommender, personalized: bool, mode: Serving
) -> None:
    decision = knows(recommender, NEWCOMER, personalized)
    assert decision == ServingDecision(mode, None)
    assert decision.cold_start


@pytest.mark.parametrize("personalized", [True, False])
def test_a_known_teachers_list_is_the_recommenders(
    recommender: HybridRecommender, province: Province, personalized: bool
) -> None:
    teacher = str(province.teachers["teacher_id"].iloc[3])
    first = recommender.recommend(teacher, k=1, kind="course", personalized=personalized)
    done = [first[0].item_id]
    decision = knows(recommender, teacher, personalized)
    items = recommend_known(recommender, decision, "course", 5, personalized, done)
    expected = recommender.recommend(
        teacher, k=5, kind="course", personalized=personalized, exclude=done
    )
    assert [i.model_dump() for i in items] == [i.model_dump() for i in expected]
    assert done[0] not in {item.item_id for item in items}


def test_a_newcomers_lists_come_from_profile_or_school(
    recommender: HybridRecommender, province: Province
) -> None:
    profile = _profile(province)
    cold = knows(recommender, NEWCOMER, personalized=True)
    items = recommend_unknown(recommender, cold, profile, [], "task", 4, mastery=None)
    assert [i.model_dump() for i in items] == [
        i.model_dump() for i in recommender.recommend_for_profile(profile, k=4, kind="task")
    ]
    popular = knows(recommender, NEWCOMER, personalized=False)
    items = recommend_unknown(recommender, popular, profile, [], "task", 4, mastery=None)
    assert [i.model_dump() for i in items] == [
        i.model_dump() for i in recommender.recommend_popular(profile.school_id, k=4, kind="task")
    ]


def test_a_school_newer_than_the_model_asks_to_retrain(
    recommender: HybridRecommender, province: Province
) -> None:
    decision = knows(recommender, NEWCOMER, personalized=False)
    with pytest.raises(ConflictError, match="nengli train"):
        recommend_unknown(
            recommender, decision, _profile(province, "S999999"), [], "course", 3, None
        )


def test_each_list_refuses_the_other_case(
    recommender: HybridRecommender, province: Province
) -> None:
    with pytest.raises(ValueError, match="known teacher"):
        recommend_known(recommender, knows(recommender, NEWCOMER, True), "course", 3, True, [])
    teacher = str(province.teachers["teacher_id"].iloc[3])
    with pytest.raises(ValueError, match="newer than the model"):
        recommend_unknown(
            recommender,
            knows(recommender, teacher, True),
            _profile(province),
            [],
            "course",
            3,
            None,
        )
