"""choose_targets: policy point rules, environment gating, chosen points, coverability."""

from __future__ import annotations

import pytest

from competency_model.errors import InfeasibleError, NotFoundError
from competency_model.policy import load_policy
from recommender.paths.targets import choose_targets


@pytest.fixture(scope="module")
def national():
    return load_policy("national")


@pytest.mark.parametrize("environment", ["multimedia", "blended", "smart"])
def test_targets_meet_the_point_and_dimension_rules(environment, national, framework) -> None:
    mastery = dict.fromkeys(framework.codes, 0.5)
    choice = choose_targets(mastery, environment, national, framework)
    dimensions = {framework.point(c).dimension for c in choice.codes}
    assert len(choice.codes) >= national.min_points
    assert len(dimensions) >= national.min_dimensions


def test_multimedia_school_gets_only_a_points(national, framework) -> None:
    mastery = {code: (0.0 if code.startswith("C") else 0.9) for code in framework.codes}
    choice = choose_targets(mastery, "multimedia", national, framework)
    assert all(code.startswith("A") for code in choice.codes)


def test_chosen_point_outside_the_environment_is_refused(national, framework) -> None:
    with pytest.raises(InfeasibleError, match="C4"):
        choose_targets({}, "multimedia", national, framework, chosen_points=["C4"])


def test_unknown_chosen_point_is_named(national, framework) -> None:
    with pytest.raises(NotFoundError, match="Z9"):
        choose_targets({}, "smart", national, framework, chosen_points=["Z9"])


def test_uncoverable_points_are_never_targets(national, framework) -> None:
    mastery = dict.fromkeys(framework.codes, 0.9)
    mastery["A1"] = 0.0
    coverable = {"A2", "A5", "A9", "A13"}
    choice = choose_targets(mastery, "multimedia", national, framework, coverable=coverable)
    assert set(choice.codes) <= coverable


def test_too_few_coverable_dimensions_names_the_rule(national, framework) -> None:
    with pytest.raises(InfeasibleError) as caught:
        choose_targets({}, "smart", national, framework, coverable={"A2", "A3", "A4"})
    assert caught.value.details["rule"] == "min_dimensions"
