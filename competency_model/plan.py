"""The learning-plan document shared by the path builder, the policy checks, the API and the CLI.

JSON shape::

    {"teacher_id": "T0000001", "policy": "jiangsu", "targets": ["A1", "A3", "B6"],
     "items": [{"id": "CRS-0001", "kind": "online_video", "hours": 2.0, "points": ["A1"],
                "week": 1, "reason": "…"}],
     "totals": {"hours": 50.0, "practice_hours": 25.0, "online_hours": 25.0},
     "evidence": {"A1": ["学情分析方案", "学情分析报告"]},
     "violations": [],
     "chosen_points_left_out": [{"point": "A5", "reason": "no_practice_task", …}]}
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from competency_model.framework import Framework, default_framework

__all__ = [
    "LeftOutPoint",
    "Plan",
    "PlanItem",
    "PlanTotals",
    "Violation",
    "compute_totals",
    "required_evidence",
]


class Violation(BaseModel):
    """One broken rule, as data: which rule, what it expects, what it got, and why (zh + en).

    ``subject`` optionally names the item, point or week the violation is about.
    """

    model_config = ConfigDict(extra="forbid")

    rule: str
    expected: Any
    actual: Any
    message_zh: str
    message_en: str
    subject: str | None = None


class PlanItem(BaseModel):
    """One course or practice task placed in a given week of the plan."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)
    kind: str = Field(min_length=1)
    hours: float = Field(gt=0)
    points: list[str] = Field(default_factory=list)
    week: int = Field(ge=1)
    reason: str = ""


class PlanTotals(BaseModel):
    """Hours per category; must equal what the items add up to under the plan's policy."""

    model_config = ConfigDict(extra="forbid")

    hours: float = Field(ge=0)
    practice_hours: float = Field(ge=0)
    online_hours: float = Field(ge=0)


class LeftOutPoint(BaseModel):
    """A point the school chose (选点, 一校一策) that this teacher's plan does not target, and why.

    A plan is still valid without it (the point rules are met by other points), but the school
    asked for it, so leaving it out must be said, never done silently: ``no_practice_task``
    means no practice task the teacher can take (stage, subject, environment) develops the point
    enough to target it — the catalog lacks one; ``target_count`` means the plan's targets were
    full (other chosen points with larger gaps, or the target set the catalog could serve).
    """

    model_config = ConfigDict(extra="forbid")

    point: str
    reason: Literal["no_practice_task", "target_count"]
    message_zh: str
    message_en: str


class Plan(BaseModel):
    """A teacher's learning plan for one policy cycle."""

    model_config = ConfigDict(extra="forbid")

    teacher_id: str
    policy: str
    targets: list[str] = Field(default_factory=list)
    items: list[PlanItem] = Field(default_factory=list)
    totals: PlanTotals
    evidence: dict[str, list[str]] = Field(default_factory=dict)
    violations: list[Violation] = Field(default_factory=list)
    chosen_points_left_out: list[LeftOutPoint] = Field(default_factory=list)


def compute_totals(
    items: Iterable[PlanItem], online_kinds: Sequence[str], practice_kinds: Sequence[str]
) -> PlanTotals:
    """Add up item hours into total, practice and online hours (rounded to 1e-6).

    Kinds outside both lists count toward the total only.
    """
    items = list(items)
    total = sum(i.hours for i in items)
    practice = sum(i.hours for i in items if i.kind in practice_kinds)
    online = sum(i.hours for i in items if i.kind in online_kinds)
    return PlanTotals(
        hours=round(total, 6), practice_hours=round(practice, 6), online_hours=round(online, 6)
    )


def required_evidence(
    codes: Iterable[str], framework: Framework | None = None
) -> dict[str, list[str]]:
    """The evidence a plan must list: each target's required artifact names (zh), in order."""
    fw = framework if framework is not None else default_framework()
    return {code: [a.name_zh for a in fw.point(code).artifacts if a.required] for code in codes}
