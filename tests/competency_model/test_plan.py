"""The plan document: totals, evidence lists and the JSON shape."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from competency_model.framework import default_framework
from competency_model.plan import Plan, PlanItem, PlanTotals, compute_totals, required_evidence


def test_compute_totals_splits_by_kind() -> None:
    items = [
        PlanItem(id="CRS-0001", kind="online_video", hours=2.5, points=["A1"], week=1),
        PlanItem(id="CRS-0002", kind="live", hours=1.0, points=["A1"], week=1),
        PlanItem(id="TSK-0001", kind="practice", hours=3.0, points=["A1"], week=2),
        PlanItem(id="TSK-0002", kind="school_research", hours=2.0, points=["A1"], week=3),
    ]
    totals = compute_totals(items, ["online_video", "live"], ["practice", "school_research"])
    assert totals == PlanTotals(hours=8.5, practice_hours=5.0, online_hours=3.5)
    narrow = compute_totals(items, ["online_video"], ["practice", "school_research"])
    assert narrow.online_hours == 2.5 and narrow.hours == 8.5


def test_required_evidence_lists_required_artifacts_only() -> None:
    evidence = required_evidence(["A6", "B2"])
    assert evidence["A6"] == ["教学设计", "课堂实录片段", "教学反思"]
    optional = [a.name_zh for a in default_framework().point("B2").artifacts if not a.required]
    assert optional and not set(optional) & set(evidence["B2"])


def test_plan_json_round_trip_keeps_the_shape() -> None:
    plan = Plan(
        teacher_id="T0000001",
        policy="jiangsu",
        targets=["A1"],
        items=[
            PlanItem(
                id="CRS-0001",
                kind="online_video",
                hours=2,
                points=["A1"],
                week=1,
                reason="诊断薄弱",
            )
        ],
        totals=PlanTotals(hours=2, practice_hours=0, online_hours=2),
        evidence={"A1": ["学情分析方案"]},
    )
    data = plan.model_dump(mode="json")
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
    assert Plan.model_validate(data) == plan


@pytest.mark.parametrize("bad", [{"hours": 0}, {"week": 0}, {"id": ""}])
def test_plan_item_rejects_bad_values(bad: dict[str, object]) -> None:
    fields = {"id": "CRS-0001", "kind": "online_video", "hours": 1.0, "points": ["A1"], "week": 1}
    with pytest.raises(ValidationError):
        PlanItem(**{**fields, **bad})
