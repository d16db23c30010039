"""结对帮扶: weak schools get able, complementary partners and named mentors."""

from __future__ import annotations

import pytest

from recommender.school_planning import attach_teachers, mastery_matrix
from recommender.school_planning.pairing import mentor_teachers, pair_schools


@pytest.fixture(scope="module")
def joined(wide_mastery, teachers, framework):
    return attach_teachers(mastery_matrix(wide_mastery, framework.codes), teachers)


def test_weakest_school_gets_the_strongest_able_partner(joined, schools, framework) -> None:
    pairs = pair_schools(joined, schools, framework, weak_share=0.34, same_city=False)
    assert pairs["weak_school"].tolist() == ["S000003"]
    assert pairs["partner_school"].tolist() == ["S000001"]
    assert pairs["focus_points"].iloc[0].split(";")[0] == "A9"  # its largest need


def test_partner_environment_is_at_least_as_rich(joined, schools, framework) -> None:
    pairs = pair_schools(joined, schools, framework, weak_share=0.67, same_city=False)
    rank = {"multimedia": 0, "blended": 1, "smart": 2}
    env = schools.set_index("school_id")["environment"]
    for pair in pairs.itertuples():
        assert rank[env[pair.partner_school]] >= rank[env[pair.weak_school]]


def test_capacity_limits_mentees_per_partner(joined, schools, framework) -> None:
    pairs = pair_schools(joined, schools, framework, weak_share=0.67, capacity=1, same_city=False)
    assert pairs["partner_school"].is_unique


def test_mentors_come_from_the_partner_and_are_distinct(joined, schools, framework) -> None:
    pairs = pair_schools(joined, schools, framework, weak_share=0.34, same_city=False)
    mentors = mentor_teachers(pairs, joined)
    partner_staff = set(joined.index[joined["school_id"] == "S000001"])
    assert set(mentors["mentor_teacher_id"]) <= partner_staff
    assert mentors["mentor_teacher_id"].is_unique
