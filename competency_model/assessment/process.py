"""Process assessment (过程性考核): 学时 by kind from learning events, and the cycle status.

Hours are credited when a catalog item is *completed* (one ``complete`` event per item counts
once, however often a platform replays it), split into online and practice hours by the
policy's ``online_kinds`` / ``practice_kinds`` — Jiangsu counts only self-selected online video
courses as online 学时, Chongqing also counts live sessions — and participation in school-based
research (校本研修, kind ``school_research``) is reported separately.

The cycle status compares that record (and, when given, the school's point results) with the
policy:

``complete``   every hour rule is met and every target point is rated 合格 or 优秀;
``at_risk``    something needs the school's attention now: the remaining hours no longer fit in
               the remaining weeks at the policy's weekly maximum, progress is well behind a
               steady pace, a point is rated 不合格, or the cycle has ended incomplete;
``on_track``   otherwise.

``missing`` lists every unmet requirement as a :class:`~competency_model.plan.Violation`.

This module takes plain records (no DataFrames, no catalog import): any object with
``item_id``, ``hours`` and ``kind`` — such as ``competency_model.catalog.CatalogItem`` — can be the
catalog entry.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from competency_model.plan import Violation, compute_totals
from competency_model.policy import Policy
from competency_model.policy_checks import hour_shortfalls

__all__ = [
    "CreditedItem",
    "CycleStatus",
    "LearningEvent",
    "ProcessRecord",
    "cycle_end",
    "cycle_status",
    "learning_hours",
]

_TOL = 1e-6


class CreditedItem(Protocol):
    """What the hours computation needs from a catalog entry."""

    @property
    def item_id(self) -> str: ...

    @property
    def hours(self) -> float: ...

    @property
    def kind(self) -> str: ...


class LearningEvent(BaseModel):
    """One learning event of the platform (the ``events`` table's columns)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    teacher_id: str
    item_id: str
    event: Literal["enrol", "progress", "complete", "rate"]
    value: float | None = None
    timestamp: datetime


class ProcessRecord(BaseModel):
    """A teacher's credited 学时 and school-based research participation."""

    model_config = ConfigDict(extra="forbid")

    teacher_id: str
    hours: float
    online_hours: float
    practice_hours: float
    school_research_sessions: int
    school_research_hours: float
    completed: list[str] = Field(default_factory=list)
    #: Completed item ids absent from the catalog (credited nothing; reported, not hidden).
    unknown_items: list[str] = Field(default_factory=list)


class CycleStatus(BaseModel):
    """Where a teacher stands in their cycle, with everything still missing."""

    model_config = ConfigDict(extra="forbid")

    teacher_id: str
    policy: str
    status: Literal["on_track", "at_risk", "complete"]
    as_of: date
    cycle_start: date
    cycle_end: date
    elapsed_share: float
    expected_hours_by_now: float
    process: ProcessRecord
    missing: list[Violation] = Field(default_factory=list)
    risks: list[str] = Field(default_factory=list)


def learning_hours(
    teacher_id: str,
    events: Iterable[LearningEvent | Mapping[str, object]],
    catalog: Mapping[str, CreditedItem],
    policy: Policy,
) -> ProcessRecord:
    """Credited hours of ``teacher_id`` from their ``complete`` events.

    Parameters
    ----------
    events
        Learning events (models or mappings with the ``events`` table's columns); other
        teachers' events are ignored.
    catalog
        Item id → catalog entry (``{i.item_id: i for i in catalog.items}``).
    policy
        Decides which kinds count as online and which as practice.
    """
    completed: list[str] = []
    for raw in events:
        event = raw if isinstance(raw, LearningEvent) else LearningEvent.model_validate(raw)
        if event.teacher_id == teacher_id and event.event == "complete":
            if event.item_id not in completed:
                completed.append(event.item_id)
    credited = [catalog[i] for i in completed if i in catalog]
    totals = compute_totals(credited, policy.online_kinds, policy.practice_kinds)  # type: ignore[arg-type]
    research = [c for c in credited if c.kind == "school_research"]
    return ProcessRecord(
        teacher_id=teacher_id,
        hours=totals.hours,
        online_hours=totals.online_hours,
        practice_hours=totals.practice_hours,
        school_research_sessions=len(research),
        school_research_hours=round(sum(c.hours for c in research), 6),
        completed=completed,
        unknown_items=[i for i in completed if i not in catalog],
    )


def cycle_end(cycle_start: date, policy: Policy) -> date:
    """The day the policy's cycle ends (``cycle_years`` after the start; 29 Feb → 28 Feb)."""
    year = cycle_start.year + policy.cycle_years
    day = min(cycle_start.day, 28) if cycle_start.month == 2 else cycle_start.day
    return cycle_start.replace(year=year, day=day)


def _hour_gaps(record: ProcessRecord, policy: Policy) -> list[Violation]:
    out = []
    for gap in hour_shortfalls(record.hours, record.practice_hours, record.online_hours, policy):
        if gap.rule == "min_practice_share":
            zh = f"实践学时占比需不少于 {gap.expected:.0%}，当前 {gap.actual:.0%}"
            en = (
                f"practice must be at least {gap.expected:.0%} of the hours; it is {gap.actual:.0%}"
            )
        else:
            missing = gap.expected - gap.actual
            zh = f"{gap.label_zh}需达到 {gap.expected:g}，已完成 {gap.actual:g}，还差 {missing:g}"
            en = f"{gap.label_en}: {gap.actual:g} of {gap.expected:g} done, {missing:g} to go"
        out.append(
            Violation(
                rule=gap.rule,
                expected=gap.expected,
                actual=gap.actual,
                subject=record.teacher_id,
                message_zh=zh,
                message_en=en,
            )
        )
    return out


def _point_gaps(
    teacher_id: str, point_results: Mapping[str, str], targets: Sequence[str], policy: Policy
) -> list[Violation]:
    out: list[Violation] = []
    failed = sorted(p for p, r in point_results.items() if r == "不合格")
    if failed:
        out.append(
            Violation(
                rule="failed_points",
                expected="合格 or 优秀",
                actual=failed,
                subject=teacher_id,
                message_zh=f"能力点 {'、'.join(failed)} 考核不合格，需补修后重新提交证据",
                message_en=f"point(s) {', '.join(failed)} rated 不合格; remedial study and new "
                "evidence are needed",
            )
        )
    passed = {p for p, r in point_results.items() if r in ("合格", "优秀")}
    wanted = list(targets) or None
    if wanted is not None:
        pending = [p for p in wanted if p not in passed and p not in failed]
        if pending:
            out.append(
                Violation(
                    rule="unassessed_points",
                    expected=wanted,
                    actual=sorted(passed),
                    subject=teacher_id,
                    message_zh=f"目标能力点 {'、'.join(pending)} 尚未通过考核",
                    message_en=f"target point(s) {', '.join(pending)} not yet assessed as passed",
                )
            )
    elif len(passed) < policy.min_points:
        out.append(
            Violation(
                rule="passed_points",
                expected=policy.min_points,
                actual=len(passed),
                subject=teacher_id,
                message_zh=f"需至少 {policy.min_points} 个能力点考核合格，当前 {len(passed)} 个",
                message_en=f"at least {policy.min_points} points must pass; {len(passed)} have",
            )
        )
    return out


def cycle_status(
    record: ProcessRecord,
    policy: Policy,
    *,
    cycle_start: date,
    as_of: date,
    point_results: Mapping[str, str] | None = None,
    targets: Sequence[str] = (),
    pace_tolerance: float = 0.5,
) -> CycleStatus:
    """The teacher's status in the cycle that began on ``cycle_start``, as of ``as_of``.

    Parameters
    ----------
    record
        From :func:`learning_hours`.
    point_results
        Point → the school's final rating (latest per point). ``None`` checks the hours only.
    targets
        The teacher's chosen points; without them, ``policy.min_points`` passed points count
        as enough.
    pace_tolerance
        A teacher is behind when their hours are below this share of the steady pace
        (``total_hours × elapsed share``); 0.5 flags those under half of it, early enough in a
        multi-year cycle for the school to step in.
    """
    if not 0.0 <= pace_tolerance <= 1.0:
        raise ValueError(f"pace_tolerance = {pace_tolerance}; use a share between 0 and 1")
    end = cycle_end(cycle_start, policy)
    span = (end - cycle_start).days
    elapsed = min(max((as_of - cycle_start).days / span, 0.0), 1.0)
    expected = policy.total_hours * elapsed
    missing = _hour_gaps(record, policy)
    if point_results is not None:
        missing += _point_gaps(record.teacher_id, point_results, targets, policy)
    risks: list[str] = []
    if missing:
        remaining_hours = max(policy.total_hours - record.hours, 0.0)
        remaining_weeks = max((end - as_of).days, 0) / 7.0
        if as_of >= end:
            risks.append("cycle_ended")
        elif remaining_hours > policy.max_weekly_hours * math.floor(remaining_weeks) + _TOL:
            risks.append("pace_infeasible")
        if record.hours + _TOL < pace_tolerance * expected:
            risks.append("behind_pace")
        if any(v.rule == "failed_points" for v in missing):
            risks.append("failed_points")
    status: Literal["on_track", "at_risk", "complete"] = (
        "complete" if not missing else "at_risk" if risks else "on_track"
    )
    return CycleStatus(
        teacher_id=record.teacher_id,
        policy=policy.name,
        status=status,
        as_of=as_of,
        cycle_start=cycle_start,
        cycle_end=end,
        elapsed_share=round(elapsed, 4),
        expected_hours_by_now=round(expected, 2),
        process=record,
        missing=missing,
        risks=risks,
    )
