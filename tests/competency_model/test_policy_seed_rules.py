"""Issue 18: every seed rule is encoded in the policy files with its quoted sentence and section."""

from __future__ import annotations

import pytest

from competency_model.catalog import CatalogItem
from competency_model.plan import Plan, PlanItem, compute_totals
from competency_model.policy import Policy, load_policy


@pytest.mark.parametrize(
    ("policy", "field", "section", "quote_part"),
    [
        ("jiangsu", "practice_kinds", "§三(六)", "在线教学资源制作、在线教学实施"),
        ("chongqing", "practice_kinds", "§一(一)", "集中培训、校本研修和应用考核"),
        ("chongqing", "cycle_credit_required", "§三(一)", "周期学分审核视为不合格"),
    ],
)
def test_seed_rule_carries_its_sentence_and_section(policy, field, section, quote_part) -> None:
    entry = load_policy(policy).provenance[field]
    assert entry.status == "official"
    assert entry.section == section
    assert quote_part in entry.quote
    assert entry.sources


def test_regional_practice_kinds_count_only_where_the_policy_says() -> None:
    assert "online_production" in load_policy("jiangsu").practice_kinds
    chongqing = load_policy("chongqing")
    assert {"centralized_training", "application_assessment", "school_research"} <= set(
        chongqing.practice_kinds
    )
    assert chongqing.cycle_credit_required and not load_policy("jiangsu").cycle_credit_required
    national = load_policy("national")
    assert not {"online_production", "centralized_training"} & set(national.practice_kinds)


@pytest.mark.parametrize(
    ("policy", "kind", "practice"),
    [
        ("jiangsu", "online_production", 4.0),
        ("chongqing", "centralized_training", 4.0),
        ("chongqing", "application_assessment", 4.0),
        ("national", "centralized_training", 0.0),
    ],
)
def test_hour_rules_count_the_regional_kinds(policy, kind, practice) -> None:
    pol = load_policy(policy)
    items = [PlanItem(id="TSK-9001", kind=kind, hours=4.0, points=["A1"], week=1, reason="")]
    totals = compute_totals(items, pol.online_kinds, pol.practice_kinds)
    assert totals.practice_hours == practice
    plan = Plan(teacher_id="T", policy=policy, targets=["A1"], items=items, totals=totals)
    assert plan.totals.hours == 4.0


def test_catalog_accepts_the_regional_kinds() -> None:
    item = CatalogItem(
        item_id="TSK-9001",
        title_zh="集中培训：信息技术应用能力专题",
        points={"A1": 1.0},
        hours=4.0,
        kind="centralized_training",
        stages=["小学"],
        subjects=["通用"],
        environment="multimedia",
        level="入门",
        artifacts=["培训记录"],
    )
    assert not item.is_online


def test_policy_refuses_an_unknown_kind() -> None:
    data = load_policy("national").model_dump()
    data["practice_kinds"] = ["practice", "field_trip"]
    with pytest.raises(ValueError, match="field_trip"):
        Policy.model_validate(data)
