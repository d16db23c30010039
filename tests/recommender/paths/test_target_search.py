"""Target-set search: when the largest-gap set cannot be served, another rule-abiding set is."""

from __future__ import annotations

import pytest

from competency_model.catalog import Catalog
from competency_model.errors import InfeasibleError
from competency_model.policy import load_policy, validate_plan
from recommender.paths import build_learning_path
from recommender.paths.target_search import search_target_set

THIN = ("A1", "A5", "A9")


@pytest.fixture(scope="module")
def thin_catalog(framework, catalog) -> Catalog:
    """The hand catalog with one short course and one short task left on A1, A5 and A9."""
    kept, seen = [], {}
    for item in catalog.items:
        codes = set(item.points)
        if codes & set(THIN):
            kind = "task" if item.kind in ("practice", "school_research") else "course"
            if len(codes) > 1 or seen.get((next(iter(codes)), kind)):
                continue
            seen[(next(iter(codes)), kind)] = True
        kept.append(item)
    return Catalog(kept, name="thin")


@pytest.fixture(scope="module")
def gaps_on_thin(framework) -> dict[str, float]:
    mastery = dict.fromkeys(framework.codes, 0.8)
    mastery.update({"A1": 0.05, "A5": 0.1, "A9": 0.15, "A2": 0.4, "A10": 0.45, "A13": 0.5})
    return mastery


def test_first_set_is_infeasible_on_the_thin_catalog(gaps_on_thin, thin_catalog, framework):
    with pytest.raises(InfeasibleError):
        build_learning_path(
            "T1", gaps_on_thin, "multimedia", "jiangsu", thin_catalog, framework, n_targets=3
        )


def test_search_finds_a_small_compliant_set_instead_of_widening(
    gaps_on_thin, thin_catalog, framework
) -> None:
    plan = build_learning_path("T1", gaps_on_thin, "multimedia", "jiangsu", thin_catalog, framework)
    assert validate_plan(plan, "jiangsu", framework, "multimedia") == []
    # widening by gap would have taken all three thin points first; the search avoids them
    assert not set(THIN) <= set(plan.targets)
    assert len(plan.targets) <= 5


@pytest.mark.parametrize("chosen", [["A1"], ["A5", "A9"], ["A1", "A5", "A9"]])
def test_search_keeps_the_school_chosen_points(
    chosen, gaps_on_thin, thin_catalog, framework
) -> None:
    plan = build_learning_path(
        "T1",
        gaps_on_thin,
        "multimedia",
        "jiangsu",
        thin_catalog,
        framework,
        chosen_points=chosen,
    )
    assert set(chosen) <= set(plan.targets)
    assert validate_plan(plan, "jiangsu", framework, "multimedia") == []


def test_search_respects_point_and_dimension_rules(thin_catalog, framework) -> None:
    policy = load_policy("national")
    pool = [
        it
        for it in thin_catalog.items
        if framework.point(next(iter(it.points))).environment == "multimedia"
    ]
    points = [c for c in framework.codes if c.startswith("A")]
    found = search_target_set(pool, points, {}, policy, framework, required=["A9"], hours_slack=4.0)
    assert found.codes is not None and "A9" in found.codes
    assert len(found.codes) >= policy.min_points
    dims = {framework.point(c).dimension for c in found.codes}
    assert len(dims) >= policy.min_dimensions


def test_no_set_names_the_rule_stage_and_environment(framework, make_catalog) -> None:
    thin = make_catalog(framework, course_kind="live")
    with pytest.raises(InfeasibleError) as caught:
        build_learning_path(
            "T1",
            dict.fromkeys(framework.codes, 0.3),
            "blended",
            "jiangsu",
            thin,
            framework,
            stage="小学",
        )
    first = caught.value.details["violations"][0]
    assert first["rule"] == "min_online_hours"
    assert "小学" in first["message_zh"] and "blended" in first["message_en"]
    assert "any target set" in caught.value.message


def test_regional_practice_kinds_are_offered_only_where_they_count(framework, catalog) -> None:
    """A 集中培训 item fills Chongqing practice hours; the national rules never offer it."""
    from competency_model.catalog import CatalogItem

    extra = [
        CatalogItem(
            item_id=f"TSK-9{n:03d}",
            title_zh=f"集中培训 {code}",
            points={code: 1.0},
            hours=6.0,
            kind="centralized_training",
            stages=["小学", "初中"],
            subjects=["通用"],
            environment="multimedia",
            level="进阶",
            artifacts=["培训记录"],
        )
        for n, code in enumerate(("A1", "A5", "A9"))
    ]
    richer = Catalog(list(catalog.items) + extra, name="hand+regional")
    mastery = dict.fromkeys(framework.codes, 0.9)
    mastery.update({"A1": 0.1, "A5": 0.1, "A9": 0.1})
    kinds = {}
    for policy in ("chongqing", "national"):
        plan = build_learning_path("T1", mastery, "multimedia", policy, richer, framework)
        assert validate_plan(plan, policy, framework, "multimedia") == []
        kinds[policy] = {item.kind for item in plan.items}
    assert "centralized_training" not in kinds["national"]
    assert "centralized_training" in kinds["chongqing"]


def test_a_chosen_point_no_task_can_develop_is_reported_not_dropped(framework, catalog) -> None:
    """Stumble: a 选点 without a practice task for the teacher's stage vanished from the plan."""
    without_a5_tasks = Catalog(
        [
            item
            for item in catalog.items
            if not ("A5" in item.points and item.kind in ("practice", "school_research"))
        ],
        name="no-A5-tasks",
    )
    mastery = dict.fromkeys(framework.codes, 0.3)
    plan = build_learning_path(
        "T1", mastery, "multimedia", "jiangsu", without_a5_tasks, framework, chosen_points=["A5"]
    )
    assert validate_plan(plan, "jiangsu", framework, "multimedia") == []
    assert "A5" not in plan.targets
    [left] = plan.chosen_points_left_out
    assert (left.point, left.reason) == ("A5", "no_practice_task")
    assert "A5" in left.message_zh and "A5" in left.message_en


def test_chosen_points_beyond_the_target_count_are_reported(framework, catalog) -> None:
    mastery = dict.fromkeys(framework.codes, 0.3)
    chosen = [c for c in framework.codes if c.startswith("A")][:7]
    plan = build_learning_path(
        "T1",
        mastery,
        "multimedia",
        "jiangsu",
        catalog,
        framework,
        chosen_points=chosen,
        n_targets=5,
    )
    left = {entry.point: entry.reason for entry in plan.chosen_points_left_out}
    assert set(left) == set(chosen) - set(plan.targets) and len(left) == 2
    assert set(left.values()) == {"target_count"}
    # a plan that keeps every chosen point says nothing
    assert (
        build_learning_path(
            "T1", mastery, "multimedia", "jiangsu", catalog, framework, chosen_points=["A1"]
        ).chosen_points_left_out
        == []
    )
