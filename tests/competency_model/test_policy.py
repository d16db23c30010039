"""Regional policies and the selection/plan validators (Jiangsu and Chongqing cases)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from competency_model.errors import PolicyError
from competency_model.framework import default_framework
from competency_model.plan import Plan, PlanItem, compute_totals, required_evidence
from competency_model.policy import (
    RULE_FIELDS,
    available_policies,
    load_policy,
    validate_plan,
    validate_selection,
)


def make_plan(
    policy: str,
    targets: list[str],
    items: list[tuple[str, float, str]],
    *,
    first_week: int = 1,
) -> Plan:
    """A plan whose items (kind, hours, point) each take their own week, totals computed."""
    pol = load_policy(policy)
    plan_items = [
        PlanItem(id=f"IT-{i:04d}", kind=kind, hours=hours, points=[point], week=first_week + i)
        for i, (kind, hours, point) in enumerate(items)
    ]
    return Plan(
        teacher_id="T0000001",
        policy=policy,
        targets=targets,
        items=plan_items,
        totals=compute_totals(plan_items, pol.online_kinds, pol.practice_kinds),
        evidence=required_evidence(targets),
    )


TARGETS = ["A1", "A3", "A6"]  # three dimensions, all multimedia


def balanced(
    online_kind: str, online: list[float], practice: list[float]
) -> list[tuple[str, float, str]]:
    items = [(online_kind, h, TARGETS[i % 3]) for i, h in enumerate(online)]
    return items + [("practice", h, TARGETS[i % 3]) for i, h in enumerate(practice)]


def rules(violations: list[Any]) -> set[str]:
    return {v.rule for v in violations}


# --- policies -----------------------------------------------------------------------------------


def test_shipped_policies() -> None:
    assert {"national", "jiangsu", "chongqing"} <= set(available_policies())


@pytest.mark.parametrize(
    ("name", "field", "value", "status"),
    [
        ("jiangsu", "total_hours", 50, "official"),
        ("jiangsu", "min_practice_hours", 25, "official"),
        ("jiangsu", "min_online_hours", 25, "official"),
        ("jiangsu", "cycle_years", 5, "default"),
        ("chongqing", "min_practice_share", 0.5, "official"),
        ("chongqing", "cycle_years", 5, "official"),
        ("chongqing", "min_online_hours", 0, "default"),
        ("national", "min_points", 3, "default"),
        ("national", "min_dimensions", 3, "default"),
    ],
)
def test_policy_values_and_provenance(name: str, field: str, value: float, status: str) -> None:
    policy = load_policy(name)
    assert getattr(policy, field) == value
    assert policy.provenance[field].status == status


def test_jiangsu_rollout_is_20_40_40() -> None:
    rollout = load_policy("jiangsu").rollout
    assert [(s.year, s.share) for s in rollout] == [(2020, 0.2), (2021, 0.4), (2022, 0.4)]


@pytest.mark.parametrize("name", ["national", "jiangsu", "chongqing"])
def test_every_rule_has_provenance_and_defaults_are_not_official(name: str) -> None:
    policy = load_policy(name)
    assert set(RULE_FIELDS) <= set(policy.provenance)
    for field in ("min_points", "min_dimensions", "max_weekly_hours", "environment_gating"):
        assert not policy.is_official(field)


def test_unknown_policy_lists_the_available_ones() -> None:
    with pytest.raises(PolicyError, match="unknown policy 'hainan'.*jiangsu"):
        load_policy("hainan")


def test_policy_file_with_base_overrides_fields(tmp_path: Path) -> None:
    path = tmp_path / "district.json"
    path.write_text(
        json.dumps(
            {
                "base": "jiangsu",
                "name": "district",
                "min_points": 2,
                "provenance": {"min_points": {"status": "official", "sources": ["区文件"]}},
            }
        ),
        encoding="utf-8",
    )
    policy = load_policy(path)
    assert policy.min_points == 2 and policy.min_online_hours == 25
    assert policy.is_official("min_points")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"total_hours": -1}, "total_hours"),
        ({"min_online_hours": 40}, "min_practice_hours"),
        ({"environment_gating": {"multimedia": ["vr"]}}, "environment_gating"),
        ({"provenance": {}}, "provenance"),
    ],
)
def test_bad_policy_file_is_rejected(tmp_path: Path, change: dict[str, Any], field: str) -> None:
    data = load_policy("national").model_dump(mode="json")
    data.update(change)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(PolicyError, match=field):
        load_policy(path)


# --- selections ---------------------------------------------------------------------------------


@pytest.mark.parametrize("policy", ["jiangsu", "chongqing"])
def test_valid_selection_has_no_violations(policy: str) -> None:
    assert validate_selection(["A1", "A3", "A6"], "multimedia", policy) == []
    assert validate_selection(["B1", "B2", "C4", "A9"], "smart", policy) == []


@pytest.mark.parametrize(
    ("points", "environment", "expected"),
    [
        (["A1", "A3"], "multimedia", {"min_points", "min_dimensions"}),
        (["A2", "A3", "A4"], "multimedia", {"min_dimensions"}),
        (["A1", "A3", "B6"], "multimedia", {"environment_gating"}),
        (["A1", "A3", "C4"], "blended", {"environment_gating"}),
        (["A1", "A3", "A6", "Z9"], "smart", {"known_points"}),
        (["A1", "A3", "A6", "A6"], "smart", {"duplicate_points"}),
    ],
)
@pytest.mark.parametrize("policy", ["jiangsu", "chongqing"])
def test_invalid_selection_reports_each_rule(
    policy: str, points: list[str], environment: str, expected: set[str]
) -> None:
    violations = validate_selection(points, environment, policy)
    assert rules(violations) == expected
    assert all(v.message_zh and v.message_en for v in violations)


def test_violation_carries_expected_and_actual() -> None:
    (violation,) = validate_selection(["A1", "A3", "B6"], "A", "jiangsu")
    assert violation.expected == ["multimedia"]
    assert violation.actual == "blended" and violation.subject == "B6"


# --- plans --------------------------------------------------------------------------------------


def test_jiangsu_compliant_plan() -> None:
    plan = make_plan("jiangsu", TARGETS, balanced("online_video", [5] * 5, [5] * 5))
    assert validate_plan(plan, "jiangsu", school_environment="multimedia") == []


def test_jiangsu_does_not_count_live_sessions_toward_online_video_minimum() -> None:
    plan = make_plan(
        "jiangsu", TARGETS, balanced("online_video", [5] * 4, [5] * 5) + [("live", 5, "A1")]
    )
    violations = validate_plan(plan, "jiangsu")
    assert rules(violations) == {"min_online_hours"}
    (v,) = violations
    assert (v.expected, v.actual) == (25, 20)


def test_chongqing_accepts_live_sessions_as_online() -> None:
    plan = make_plan(
        "chongqing", TARGETS, balanced("online_video", [5] * 4, [5] * 5) + [("live", 5, "A1")]
    )
    assert validate_plan(plan, "chongqing", school_environment="A") == []


def test_chongqing_rejects_a_plan_with_too_little_practice() -> None:
    plan = make_plan("chongqing", TARGETS, balanced("online_video", [5] * 6, [5] * 4))
    assert rules(validate_plan(plan, "chongqing")) == {"min_practice_hours", "min_practice_share"}


@pytest.mark.parametrize("policy", ["jiangsu", "chongqing"])
def test_short_plan_fails_total_hours(policy: str) -> None:
    plan = make_plan(policy, TARGETS, balanced("online_video", [5] * 5, [5] * 4))
    assert "total_hours" in rules(validate_plan(plan, policy))


def test_weekly_load_limit() -> None:
    plan = make_plan("jiangsu", TARGETS, balanced("online_video", [5] * 5, [5] * 5))
    plan.items[1].week = plan.items[0].week
    violations = [v for v in validate_plan(plan, "jiangsu") if v.rule == "weekly_load"]
    assert len(violations) == 1 and violations[0].actual == 10 and violations[0].subject == "week 1"


def test_items_only_on_selected_targets() -> None:
    plan = make_plan("jiangsu", TARGETS, balanced("online_video", [5] * 5, [5] * 5))
    plan.items[0].points = ["A1", "A9"]
    violation = next(v for v in validate_plan(plan, "jiangsu") if v.rule == "items_on_targets")
    assert violation.subject == "IT-0000"


def test_prerequisite_order_by_week() -> None:
    targets = ["A10", "A11", "A12", "A1", "A3"]
    items = [
        ("online_video", 5, "A12"),  # week 1: A12 before its prerequisite A11
        ("online_video", 5, "A11"),
        ("online_video", 5, "A10"),
        ("online_video", 5, "A1"),
        ("online_video", 5, "A3"),
    ] + [("practice", 5, c) for c in targets]
    violations = validate_plan(make_plan("jiangsu", targets, items), "jiangsu")
    broken = {v.subject for v in violations if v.rule == "prerequisite_order"}
    assert broken == {"A11->A12", "A10->A11"}


def test_prerequisite_in_the_right_order_passes() -> None:
    targets = ["A10", "A11", "A12", "A1", "A3"]
    items = [("online_video", 5, c) for c in targets] + [("practice", 5, c) for c in targets]
    assert validate_plan(make_plan("jiangsu", targets, items), "jiangsu") == []


def test_inconsistent_totals_are_reported() -> None:
    plan = make_plan("jiangsu", TARGETS, balanced("online_video", [5] * 5, [5] * 5))
    plan.totals.hours = 60
    (violation,) = validate_plan(plan, "jiangsu")
    assert violation.rule == "totals_consistent" and violation.expected == 50


def test_uncovered_target_and_missing_evidence() -> None:
    targets = TARGETS + ["A9"]
    plan = make_plan("jiangsu", targets, balanced("online_video", [5] * 5, [5] * 5))
    plan.evidence.pop("A1")
    found = {(v.rule, v.subject) for v in validate_plan(plan, "jiangsu")}
    assert ("target_coverage", "A9") in found and ("evidence", "A1") in found


def test_selection_rules_apply_to_plan_targets() -> None:
    plan = make_plan(
        "jiangsu",
        ["A1", "B6", "C4"],
        [
            *[("online_video", 5, c) for c in ["A1", "B6", "C4", "A1", "B6"]],
            *[("practice", 5, c) for c in ["A1", "B6", "C4", "A1", "B6"]],
        ],
    )
    gating = [
        v
        for v in validate_plan(plan, "jiangsu", school_environment="blended")
        if v.rule == "environment_gating"
    ]
    assert [v.subject for v in gating] == ["C4"]


def test_unknown_kind_duplicate_id_and_cycle_overrun() -> None:
    plan = make_plan("chongqing", TARGETS, balanced("online_video", [5] * 5, [5] * 5))
    plan.items[0].kind = "book"
    plan.items[2].id = plan.items[1].id
    plan.items[3].week = 5 * 52 + 1
    found = rules(validate_plan(plan, "chongqing"))
    assert {"item_kind", "unique_item_ids", "within_cycle"} <= found


def test_plan_given_as_json_dict_is_validated() -> None:
    plan = make_plan("jiangsu", TARGETS, balanced("online_video", [5] * 5, [5] * 5))
    assert validate_plan(plan.model_dump(mode="json"), "jiangsu") == []


def test_malformed_plan_is_a_policy_error() -> None:
    with pytest.raises(PolicyError, match="totals"):
        validate_plan({"teacher_id": "T1", "policy": "jiangsu"}, "jiangsu")


def test_documented_district_policy_example_loads(tmp_path: Path) -> None:
    text = (Path(__file__).parents[2] / "docs" / "policies.md").read_text(encoding="utf-8")
    example = json.loads(text.split("```json\n")[2].split("```")[0])
    path = tmp_path / "yubei.json"
    path.write_text(json.dumps(example, ensure_ascii=False), encoding="utf-8")
    policy = load_policy(path)
    assert (policy.min_points, policy.min_practice_share) == (2, 0.5)
    assert validate_selection(["A1", "A3"], "multimedia", policy) == []


@settings(max_examples=200, deadline=None, derandomize=True)
@given(
    environment=st.sampled_from(["multimedia", "blended", "smart"]),
    policy=st.sampled_from(["jiangsu", "chongqing"]),
    subset=st.lists(st.sampled_from(default_framework().codes), unique=True, max_size=8),
)
def test_selection_violations_match_an_independent_count(
    environment: str, policy: str, subset: list[str]
) -> None:
    fw = default_framework()
    allowed = {"multimedia": {"A"}, "blended": {"A", "B"}, "smart": {"A", "B", "C"}}[environment]
    expected = set()
    if len(subset) < 3:
        expected.add("min_points")
    if len({fw.point(c).dimension for c in subset}) < 3:
        expected.add("min_dimensions")
    if any(c[0] not in allowed for c in subset):
        expected.add("environment_gating")
    assert rules(validate_selection(subset, environment, policy)) == expected
