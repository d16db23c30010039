"""build_learning_path: compliant plans, infeasible requests explained, order and JSON shape."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from competency_model.errors import InfeasibleError, NengliError
from competency_model.framework import ENVIRONMENTS
from competency_model.policy import Policy, load_policy, validate_plan
from recommender.paths import build_learning_path

SHIPPED = ("national", "jiangsu", "chongqing")


@pytest.fixture(scope="module")
def mastery(framework) -> dict[str, float]:
    return {code: 0.2 + 0.6 * (i % 5) / 4 for i, code in enumerate(framework.codes)}


@pytest.mark.parametrize("policy_name", SHIPPED)
@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_plan_passes_validate_plan(policy_name, environment, mastery, catalog, framework) -> None:
    plan = build_learning_path("T1", mastery, environment, policy_name, catalog, framework)
    assert validate_plan(plan, policy_name, framework, environment) == []
    assert plan.violations == []


def test_plan_json_has_the_contract_shape(mastery, catalog, framework) -> None:
    plan = build_learning_path("T9", mastery, "blended", "jiangsu", catalog, framework)
    data = json.loads(plan.model_dump_json())
    assert set(data) == {
        "teacher_id",
        "policy",
        "targets",
        "items",
        "totals",
        "evidence",
        "violations",
        "chosen_points_left_out",
    }
    assert set(data["items"][0]) == {"id", "kind", "hours", "points", "week", "reason"}
    assert set(data["totals"]) == {"hours", "practice_hours", "online_hours"}
    assert set(data["evidence"]) == set(data["targets"])


def test_targets_prefer_the_largest_gaps(catalog, framework) -> None:
    mastery = dict.fromkeys(framework.codes, 0.9)
    mastery.update({"A1": 0.05, "A9": 0.1, "A5": 0.15})
    plan = build_learning_path("T1", mastery, "multimedia", "national", catalog, framework)
    assert {"A1", "A9", "A5"} <= set(plan.targets)


def test_school_chosen_points_become_targets(mastery, catalog, framework) -> None:
    plan = build_learning_path(
        "T1", mastery, "smart", "national", catalog, framework, chosen_points=["C1", "B2", "A9"]
    )
    assert {"C1", "B2", "A9"} <= set(plan.targets)


def test_prerequisite_comes_first(catalog, framework) -> None:
    """A2 is a prerequisite of A3 and A4: its first week is never later than theirs."""
    mastery = dict.fromkeys(framework.codes, 0.9)
    plan = build_learning_path(
        "T1",
        mastery,
        "multimedia",
        "national",
        catalog,
        framework,
        chosen_points=["A4", "A3", "A2", "A1", "A13"],
        n_targets=5,
    )
    first = {}
    for item in plan.items:
        for code in item.points:
            first.setdefault(code, item.week)
    assert first["A2"] < first["A3"] and first["A2"] < first["A4"]
    weeks = [item.week for item in plan.items]
    assert weeks == sorted(weeks)


def test_completed_items_stay_in_the_plan(mastery, catalog, framework) -> None:
    first = build_learning_path("T1", mastery, "blended", "national", catalog, framework)
    done = [first.items[0].id]
    again = build_learning_path(
        "T1", mastery, "blended", "national", catalog, framework, completed=done
    )
    kept = [item for item in again.items if item.id == done[0]]
    assert kept and kept[0].reason.startswith("已完成")


def test_completed_items_are_never_scheduled_after_pending_work(
    mastery, catalog, framework
) -> None:
    """Stumble (issue 16): finished items showed up in future weeks of the plan."""
    first = build_learning_path("T1", mastery, "blended", "national", catalog, framework)
    done = [item.id for item in first.items[-3:]]  # the plan's last items, finished early
    again = build_learning_path(
        "T1", mastery, "blended", "national", catalog, framework, completed=done
    )
    finished = [item.week for item in again.items if item.id in done]
    pending = [item.week for item in again.items if item.id not in done]
    assert finished and pending and max(finished) <= min(pending)
    assert validate_plan(again, "national", framework, "blended") == []


def test_greedy_method_also_returns_valid_plans(mastery, catalog, framework) -> None:
    plan = build_learning_path(
        "T1", mastery, "smart", "jiangsu", catalog, framework, method="greedy"
    )
    assert validate_plan(plan, "jiangsu", framework, "smart") == []


def test_catalog_without_practice_for_the_environment_is_infeasible(
    framework, make_catalog
) -> None:
    """A multimedia school, but the catalog has practice tasks only for B and C points."""
    a_points = tuple(c for c in framework.codes if c.startswith("A"))
    thin = make_catalog(framework, skip_practice=a_points)
    mastery = dict.fromkeys(framework.codes, 0.3)
    with pytest.raises(InfeasibleError) as caught:
        build_learning_path("T1", mastery, "multimedia", "national", thin, framework)
    assert caught.value.details["rule"] == "min_points"
    assert "add online courses and practice tasks" in caught.value.message
    assert "upgrade the school environment" in caught.value.message


def test_too_few_online_hours_names_the_rule_and_the_fix(framework, make_catalog) -> None:
    """Jiangsu counts only online_video towards its 25 online hours; live-only courses fail."""
    thin = make_catalog(framework, course_kind="live")
    mastery = dict.fromkeys(framework.codes, 0.3)
    with pytest.raises(InfeasibleError) as caught:
        build_learning_path("T1", mastery, "multimedia", "jiangsu", thin, framework)
    rules = {v["rule"] for v in caught.value.details["violations"]}
    assert "min_online_hours" in rules
    assert "add such items to the catalog" in caught.value.message


def _policy_variant(base: Policy, changes: dict) -> Policy:
    return Policy.model_validate({**base.model_dump(), **changes})


@st.composite
def requests(draw, framework):
    codes = framework.codes
    mastery = {c: draw(st.floats(0.0, 1.0)) for c in codes}
    environment = draw(st.sampled_from(ENVIRONMENTS))
    base = load_policy(draw(st.sampled_from(SHIPPED)))
    if draw(st.booleans()):
        total = draw(st.sampled_from([30.0, 40.0, 50.0, 60.0]))
        share = draw(st.sampled_from([0.0, 0.3, 0.5, 0.6]))
        base = _policy_variant(
            base,
            {
                "total_hours": total,
                "min_practice_share": share,
                "min_practice_hours": share * total,
                "min_online_hours": draw(st.sampled_from([0.0, 10.0, 0.4 * total])),
                "min_points": draw(st.integers(1, 4)),
                "min_dimensions": draw(st.integers(1, 3)),
                "max_weekly_hours": draw(st.sampled_from([4.0, 5.0, 8.0])),
            },
        )
    allowed = [
        c for c in codes if framework.point(c).environment in base.environment_gating[environment]
    ]
    chosen = draw(st.lists(st.sampled_from(allowed), max_size=4, unique=True))
    return mastery, environment, base, chosen


class _World:
    """Framework + catalog with a short repr (hypothesis prints test arguments)."""

    def __init__(self, framework, catalog) -> None:
        self.framework, self.catalog = framework, catalog

    def __repr__(self) -> str:
        return "<national framework + hand catalog>"


@pytest.fixture(scope="module")
def world(framework, catalog) -> _World:
    return _World(framework, catalog)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_returned_plan_is_policy_compliant(data, world) -> None:
    framework = world.framework
    mastery, environment, policy, chosen = data.draw(requests(framework), label="request")
    method = data.draw(st.sampled_from(["milp", "greedy"]), label="method")
    try:
        plan = build_learning_path(
            "T1",
            mastery,
            environment,
            policy,
            world.catalog,
            framework,
            chosen_points=chosen,
            method=method,
        )
    except InfeasibleError as error:  # allowed, but it must explain itself
        assert error.details.get("violations") or error.details.get("rule")
        return
    assert validate_plan(plan, policy, framework, environment) == []
    kept = set(chosen) & set(plan.targets)
    # chosen points win every slot except those the dimension rule must give to others
    assert len(kept) >= min(len(chosen), len(plan.targets) - (policy.min_dimensions - 1))


def test_unknown_mastery_is_tolerated_and_bad_mastery_refused(catalog, framework) -> None:
    mastery = dict.fromkeys(framework.codes, float("nan"))
    plan = build_learning_path("T1", mastery, "blended", "national", catalog, framework)
    assert plan.violations == []
    with pytest.raises(NengliError, match="A1 is 1.5"):
        build_learning_path("T1", {"A1": 1.5}, "blended", "national", catalog, framework)
