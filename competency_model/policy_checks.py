"""The individual policy rules behind :func:`~competency_model.policy.validate_selection` and
:func:`~competency_model.policy.validate_plan`.

Each rule appends :class:`~competency_model.plan.Violation` objects instead of stopping at the
first problem, so a school administrator sees everything that needs fixing at once.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import NamedTuple, Protocol

from competency_model.framework import (
    DIMENSION_LABELS_ZH,
    ENVIRONMENT_LABELS_ZH,
    Framework,
)
from competency_model.plan import Plan, Violation, compute_totals

__all__ = [
    "KNOWN_KINDS",
    "HourShortfall",
    "PolicyRules",
    "check_plan",
    "check_selection",
    "hour_shortfalls",
]

#: Item kinds the catalog defines (online: online_video, live; practice: practice, school_research).
KNOWN_KINDS: tuple[str, ...] = ("online_video", "live", "practice", "school_research")
_TOL = 1e-6


class PolicyRules(Protocol):
    """What the rules read of a :class:`~competency_model.policy.Policy`.

    Structural, so that this module needs no import of ``policy`` (which imports the rules):
    every ``Policy`` is a ``PolicyRules``.
    """

    @property
    def total_hours(self) -> float: ...
    @property
    def min_practice_hours(self) -> float: ...
    @property
    def min_practice_share(self) -> float: ...
    @property
    def min_online_hours(self) -> float: ...
    @property
    def cycle_years(self) -> int: ...
    @property
    def min_points(self) -> int: ...
    @property
    def min_dimensions(self) -> int: ...
    @property
    def max_weekly_hours(self) -> float: ...
    @property
    def environment_gating(self) -> dict[str, list[str]]: ...
    @property
    def online_kinds(self) -> list[str]: ...
    @property
    def practice_kinds(self) -> list[str]: ...


def check_selection(
    points: list[str], school_environment: str | None, policy: PolicyRules, fw: Framework
) -> list[Violation]:
    """Selection rules: known_points, duplicate_points, min_points, min_dimensions, environment_gating."""
    out: list[Violation] = []
    known = set(fw.codes)
    unknown = [c for c in points if c not in known]
    if unknown:
        out.append(
            Violation(
                rule="known_points",
                expected=f"codes of framework {fw.name}",
                actual=unknown,
                message_zh=f"未知的能力点：{'、'.join(unknown)}",
                message_en=f"unknown competency point(s): {', '.join(unknown)}",
            )
        )
    dupes = sorted(c for c, n in Counter(points).items() if n > 1)
    if dupes:
        out.append(
            Violation(
                rule="duplicate_points",
                expected="each point once",
                actual=dupes,
                message_zh=f"能力点重复选择：{'、'.join(dupes)}",
                message_en=f"point(s) chosen more than once: {', '.join(dupes)}",
            )
        )
    chosen = [c for c in dict.fromkeys(points) if c in known]
    if len(chosen) < policy.min_points:
        out.append(
            Violation(
                rule="min_points",
                expected=policy.min_points,
                actual=len(chosen),
                message_zh=f"至少需选择 {policy.min_points} 个能力点，当前 {len(chosen)} 个",
                message_en=f"choose at least {policy.min_points} points; {len(chosen)} chosen",
            )
        )
    dims = sorted({fw.point(c).dimension for c in chosen})
    if len(dims) < policy.min_dimensions:
        labels = "、".join(DIMENSION_LABELS_ZH[d] for d in dims) or "无"
        out.append(
            Violation(
                rule="min_dimensions",
                expected=policy.min_dimensions,
                actual=len(dims),
                message_zh=f"所选能力点需覆盖至少 {policy.min_dimensions} 个维度，当前仅覆盖 {labels}",
                message_en=(
                    f"chosen points must cover at least {policy.min_dimensions} dimensions; "
                    f"they cover {len(dims)} ({', '.join(dims) or 'none'})"
                ),
            )
        )
    if school_environment is not None:
        allowed = policy.environment_gating[school_environment]
        for code in chosen:
            env = fw.point(code).environment
            if env not in allowed:
                out.append(
                    Violation(
                        rule="environment_gating",
                        expected=allowed,
                        actual=env,
                        subject=code,
                        message_zh=(
                            f"{code} 属于{ENVIRONMENT_LABELS_ZH[env]}，学校为"
                            f"{ENVIRONMENT_LABELS_ZH[school_environment]}，不能选择"
                        ),
                        message_en=(
                            f"{code} belongs to the {env} environment, which a "
                            f"{school_environment} school cannot choose (allowed: {', '.join(allowed)})"
                        ),
                    )
                )
    return out


class HourShortfall(NamedTuple):
    """One hour rule that a set of hours does not meet (labels for the caller's message)."""

    rule: str
    expected: float
    actual: float
    label_zh: str
    label_en: str


def hour_shortfalls(
    hours: float, practice_hours: float, online_hours: float, policy: PolicyRules
) -> list[HourShortfall]:
    """The policy's hour rules (total, practice, online, practice share) that these hours miss.

    Shared by plan validation (hours planned) and the assessment process status (hours done), so
    both read the rules the same way; each words its own message. A share is reported as a
    fraction rounded to 4 places.
    """
    share = practice_hours / hours if hours > 0 else 0.0
    checks = [
        HourShortfall("total_hours", policy.total_hours, hours, "总学时", "total hours"),
        HourShortfall(
            "min_practice_hours",
            policy.min_practice_hours,
            practice_hours,
            "实践学时",
            "practice hours",
        ),
        HourShortfall(
            "min_online_hours", policy.min_online_hours, online_hours, "线上学时", "online hours"
        ),
        HourShortfall(
            "min_practice_share",
            policy.min_practice_share,
            round(share, 4),
            "实践学时占比",
            "practice share",
        ),
    ]
    return [c for c in checks if c.actual + _TOL < c.expected]


def _hour_rules(plan: Plan, policy: PolicyRules) -> list[Violation]:
    out: list[Violation] = []
    totals = compute_totals(plan.items, policy.online_kinds, policy.practice_kinds)
    for gap in hour_shortfalls(totals.hours, totals.practice_hours, totals.online_hours, policy):
        if gap.rule == "min_practice_share":
            zh = f"实践学时占比不少于 {gap.expected:.0%}，计划为 {gap.actual:.0%}"
            en = (
                f"practice must be at least {gap.expected:.0%} of the hours; "
                f"the plan has {gap.actual:.0%}"
            )
        else:
            zh = f"{gap.label_zh}不少于 {gap.expected:g}，计划仅 {gap.actual:g}"
            en = f"{gap.label_en} must be at least {gap.expected:g}; the plan has {gap.actual:g}"
        out.append(
            Violation(
                rule=gap.rule,
                expected=gap.expected,
                actual=gap.actual,
                message_zh=zh,
                message_en=en,
            )
        )
    declared = plan.totals
    for field in ("hours", "practice_hours", "online_hours"):
        want, got = getattr(totals, field), getattr(declared, field)
        if abs(want - got) > 1e-4:
            out.append(
                Violation(
                    rule="totals_consistent",
                    expected=want,
                    actual=got,
                    subject=field,
                    message_zh=f"totals.{field} 与各项合计不一致：应为 {want:g}，写为 {got:g}",
                    message_en=f"totals.{field} is {got:g} but the items add up to {want:g}",
                )
            )
    return out


def _item_rules(plan: Plan, policy: PolicyRules, fw: Framework) -> list[Violation]:
    out: list[Violation] = []
    known = set(fw.codes)
    targets = set(plan.targets)
    kinds = set(KNOWN_KINDS) | set(policy.online_kinds) | set(policy.practice_kinds)
    for item_id, n in Counter(i.id for i in plan.items).items():
        if n > 1:
            out.append(
                Violation(
                    rule="unique_item_ids",
                    expected=1,
                    actual=n,
                    subject=item_id,
                    message_zh=f"条目 {item_id} 出现了 {n} 次",
                    message_en=f"item {item_id} appears {n} times",
                )
            )
    last_week = policy.cycle_years * 52
    for item in plan.items:
        if item.kind not in kinds:
            out.append(
                Violation(
                    rule="item_kind",
                    expected=sorted(kinds),
                    actual=item.kind,
                    subject=item.id,
                    message_zh=f"条目 {item.id} 的类型 {item.kind} 未知",
                    message_en=f"item {item.id} has unknown kind {item.kind!r}",
                )
            )
        unknown = [c for c in item.points if c not in known]
        if unknown:
            out.append(
                Violation(
                    rule="known_points",
                    expected=f"codes of framework {fw.name}",
                    actual=unknown,
                    subject=item.id,
                    message_zh=f"条目 {item.id} 引用了未知能力点 {'、'.join(unknown)}",
                    message_en=f"item {item.id} refers to unknown point(s) {', '.join(unknown)}",
                )
            )
        off = [c for c in item.points if c in known and c not in targets]
        if off or not item.points:
            out.append(
                Violation(
                    rule="items_on_targets",
                    expected=sorted(targets),
                    actual=item.points,
                    subject=item.id,
                    message_zh=f"条目 {item.id} 必须只针对所选能力点，却涉及 {'、'.join(off) or '无能力点'}",
                    message_en=(
                        f"item {item.id} must serve chosen points only; it covers "
                        f"{', '.join(off) or 'no point'}"
                    ),
                )
            )
        if item.week > last_week:
            out.append(
                Violation(
                    rule="within_cycle",
                    expected=last_week,
                    actual=item.week,
                    subject=item.id,
                    message_zh=f"条目 {item.id} 安排在第 {item.week} 周，超出 {policy.cycle_years} 年周期",
                    message_en=(
                        f"item {item.id} is in week {item.week}, beyond the "
                        f"{policy.cycle_years}-year cycle ({last_week} weeks)"
                    ),
                )
            )
    return out


def _schedule_rules(plan: Plan, policy: PolicyRules, fw: Framework) -> list[Violation]:
    out: list[Violation] = []
    first_week: dict[str, int] = {}
    load: dict[int, float] = defaultdict(float)
    for item in plan.items:
        load[item.week] += item.hours
        for c in item.points:
            first_week[c] = min(item.week, first_week.get(c, item.week))
    known = set(fw.codes)
    for code in dict.fromkeys(plan.targets):
        if code in known and code not in first_week:
            out.append(
                Violation(
                    rule="target_coverage",
                    expected="at least one item",
                    actual=0,
                    subject=code,
                    message_zh=f"所选能力点 {code} 没有安排任何课程或实践",
                    message_en=f"chosen point {code} has no course or practice item",
                )
            )
    for e in fw.edges:
        if e.kind != "prerequisite" or e.source not in first_week or e.target not in first_week:
            continue
        if first_week[e.source] > first_week[e.target]:
            out.append(
                Violation(
                    rule="prerequisite_order",
                    expected=f"{e.source} no later than week {first_week[e.target]}",
                    actual=f"{e.source} starts in week {first_week[e.source]}",
                    subject=f"{e.source}->{e.target}",
                    message_zh=(
                        f"{e.source} 是 {e.target} 的前置能力点，应不晚于第 "
                        f"{first_week[e.target]} 周开始，计划为第 {first_week[e.source]} 周"
                    ),
                    message_en=(
                        f"{e.source} is a prerequisite of {e.target} and should start by week "
                        f"{first_week[e.target]}, not week {first_week[e.source]}"
                    ),
                )
            )
    for week in sorted(load):
        if load[week] > policy.max_weekly_hours + _TOL:
            out.append(
                Violation(
                    rule="weekly_load",
                    expected=policy.max_weekly_hours,
                    actual=round(load[week], 6),
                    subject=f"week {week}",
                    message_zh=f"第 {week} 周安排 {load[week]:g} 学时，超过每周上限 {policy.max_weekly_hours:g}",
                    message_en=(
                        f"week {week} has {load[week]:g} hours, above the weekly limit "
                        f"{policy.max_weekly_hours:g}"
                    ),
                )
            )
    return out


def _evidence_rules(plan: Plan, fw: Framework) -> list[Violation]:
    out: list[Violation] = []
    known = set(fw.codes)
    for code in plan.evidence:
        if code not in plan.targets:
            out.append(
                Violation(
                    rule="evidence",
                    expected=sorted(set(plan.targets)),
                    actual=code,
                    subject=code,
                    message_zh=f"证据清单中的 {code} 不是所选能力点",
                    message_en=f"evidence is listed for {code}, which is not a chosen point",
                )
            )
    for code in dict.fromkeys(plan.targets):
        if code not in known:
            continue
        needed = [a.name_zh for a in fw.point(code).artifacts if a.required]
        missing = [a for a in needed if a not in plan.evidence.get(code, [])]
        if missing:
            out.append(
                Violation(
                    rule="evidence",
                    expected=needed,
                    actual=plan.evidence.get(code, []),
                    subject=code,
                    message_zh=f"{code} 缺少必交证据：{'、'.join(missing)}",
                    message_en=f"{code} lacks required evidence: {', '.join(missing)}",
                )
            )
    return out


def check_plan(plan: Plan, policy: PolicyRules, fw: Framework) -> list[Violation]:
    """Plan rules (hours, items, schedule, totals, evidence); selection rules are separate."""
    return (
        _hour_rules(plan, policy)
        + _item_rules(plan, policy, fw)
        + _schedule_rules(plan, policy, fw)
        + _evidence_rules(plan, fw)
    )
