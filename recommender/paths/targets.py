"""Choose a teacher's target points for one cycle: the gaps that matter, within the rules.

A target set must satisfy the policy's point-selection rule (at least ``min_points`` points
covering at least ``min_dimensions`` of the four dimensions), stay inside the points the school
environment unlocks, honour the school's own selection (一校一策 ``chosen_points``) when it has
one, and — so that a plan can exist at all — only use points the catalog can actually develop.
Within those rules the largest diagnosed gaps win, because that is where study time buys the
most expected mastery.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from competency_model.errors import InfeasibleError, NotFoundError
from competency_model.framework import DIMENSION_LABELS_ZH, Framework
from competency_model.graph import CompetencyGraph
from competency_model.plan import Violation
from competency_model.policy import Policy
from recommender.diagnosis.levels import LEVEL_LABELS, mastery_level

__all__ = [
    "DEFAULT_MASTERY",
    "TargetChoice",
    "choose_targets",
    "explain_targets",
    "feasible_codes",
]

#: Mastery assumed for a point the diagnosis says nothing about: maximal uncertainty.
DEFAULT_MASTERY = 0.5


@dataclass(frozen=True)
class TargetChoice:
    """Chosen target codes (framework order) with the gap and the reason for each."""

    codes: list[str]
    gaps: dict[str, float]
    reasons: dict[str, str] = field(default_factory=dict)


def feasible_codes(
    school_environment: str, policy: Policy, framework: Framework, graph: CompetencyGraph | None
) -> list[str]:
    """Points the school environment unlocks under the policy's gating (all when gating is off)."""
    graph = graph if graph is not None else CompetencyGraph(framework)
    gating = getattr(policy, "environment_gating", None)
    if gating is False:
        return list(framework.codes)
    if isinstance(gating, Mapping):
        return graph.feasible_points(school_environment, gating=gating)
    return graph.feasible_points(school_environment)


def _check_codes(codes: Iterable[str], framework: Framework, what: str) -> list[str]:
    known = set(framework.codes)
    result = list(dict.fromkeys(codes))
    unknown = [c for c in result if c not in known]
    if unknown:
        raise NotFoundError(
            f"{what} {unknown} not in framework {framework.name!r}; use codes such as "
            f"{', '.join(framework.codes[:3])}",
            details={"codes": unknown},
        )
    return result


def _refuse(
    rule: str, expected: Any, actual: Any, message_en: str, message_zh: str
) -> InfeasibleError:
    """An InfeasibleError carrying the rule both flat and as a Violation (like the builder's)."""
    violation = Violation(
        rule=rule, expected=expected, actual=actual, message_zh=message_zh, message_en=message_en
    )
    return InfeasibleError(
        message_en,
        details={
            "rule": rule,
            "expected": expected,
            "actual": actual,
            "violations": [violation.model_dump(mode="json")],
        },
    )


def choose_targets(
    mastery: Mapping[str, float],
    school_environment: str,
    policy: Policy,
    framework: Framework,
    *,
    graph: CompetencyGraph | None = None,
    chosen_points: Collection[str] = (),
    coverable: Collection[str] | None = None,
    n_targets: int | None = None,
) -> TargetChoice:
    """Pick the target points of a learning path.

    Parameters
    ----------
    mastery
        Diagnosed mastery probability per point code (missing points count as
        :data:`DEFAULT_MASTERY`).
    school_environment
        The school's environment; gates the points through ``policy.environment_gating``.
    policy
        A :class:`competency_model.policy.Policy` (``min_points``, ``min_dimensions``,
        ``environment_gating`` are read).
    framework
        The competency framework.
    graph
        Optional prebuilt graph (saves rebuilding it per teacher).
    chosen_points
        The school's selection; preferred over any other point, largest gap first.
    coverable
        Points the candidate catalog can develop *and* practise; others are never targets.
    n_targets
        How many points to target; default ``max(policy.min_points, 3)``.

    Raises
    ------
    InfeasibleError
        When the allowed, coverable points cannot meet ``min_points`` or ``min_dimensions``,
        or a chosen point is not allowed in the school environment; the message names the rule
        and the fix.
    """
    min_points = int(getattr(policy, "min_points", 1) or 1)
    min_dimensions = int(getattr(policy, "min_dimensions", 1) or 1)
    wanted = max(min_points, n_targets if n_targets is not None else 3, min_dimensions)
    feasible = feasible_codes(school_environment, policy, framework, graph)
    chosen = _check_codes(chosen_points, framework, "chosen point(s)")
    not_allowed = [c for c in chosen if c not in feasible]
    if not_allowed:
        raise _refuse(
            "environment_gating",
            feasible,
            not_allowed,
            f"school chose {not_allowed}, which its {school_environment!r} environment does not "
            "unlock; remove them from chosen_points or record the richer environment",
            f"学校所选能力点 {'、'.join(not_allowed)} 超出其教学环境；请调整选点或更新学校环境",
        )
    pool = [c for c in feasible if coverable is None or c in set(coverable)]
    dropped = [c for c in feasible if c not in pool]
    fix_catalog = (
        f"add online courses and practice tasks for {dropped[:6]} to the catalog"
        if dropped
        else "add points to the framework or relax the policy"
    )
    if len(pool) < min_points:
        raise _refuse(
            "min_points",
            min_points,
            len(pool),
            f"policy {getattr(policy, 'name', '?')!r} needs at least {min_points} points but the "
            f"{school_environment!r} environment and the catalog allow only {len(pool)} "
            f"({pool}); {fix_catalog}, or upgrade the school environment",
            f"政策要求至少 {min_points} 个能力点，但学校环境与课程目录只支持 {len(pool)} 个；"
            "请为这些能力点补充线上课程和实践任务，或升级学校环境",
        )
    dimension_of = {c: framework.point(c).dimension for c in pool}
    if len(set(dimension_of.values())) < min_dimensions:
        raise _refuse(
            "min_dimensions",
            min_dimensions,
            len(set(dimension_of.values())),
            f"policy needs points in at least {min_dimensions} dimensions but the allowed, "
            f"coverable points {pool} span only {sorted(set(dimension_of.values()))}; "
            f"{fix_catalog}",
            f"政策要求覆盖至少 {min_dimensions} 个维度，可用能力点覆盖不足；请补充其他维度的课程与实践任务",
        )
    gaps = {c: 1.0 - float(mastery.get(c, DEFAULT_MASTERY)) for c in pool}
    chosen_set = set(chosen)
    # chosen points first, then larger gap, then framework order (deterministic)
    ranking = sorted(pool, key=lambda c: (c not in chosen_set, -gaps[c], framework.index(c)))
    picked: list[str] = []
    # first secure the dimension rule with the best point of each best-ranked dimension
    for code in ranking:
        if len({dimension_of[c] for c in picked}) >= min_dimensions:
            break
        if dimension_of[code] not in {dimension_of[c] for c in picked}:
            picked.append(code)
    for code in ranking:
        if len(picked) >= min(wanted, len(pool)):
            break
        if code not in picked:
            picked.append(code)
    return explain_targets(picked, mastery, framework, chosen_set)


def explain_targets(
    codes: Iterable[str],
    mastery: Mapping[str, float],
    framework: Framework,
    chosen_points: Collection[str] = (),
) -> TargetChoice:
    """A :class:`TargetChoice` for a given set (framework order), with gap and reason per point.

    Shared by :func:`choose_targets` and the target-set search, so a point's reason reads the
    same whichever way it was chosen.
    """
    wanted = set(codes)
    ordered = [c for c in framework.codes if c in wanted]
    chosen_set = set(chosen_points)
    gaps = {c: 1.0 - float(mastery.get(c, DEFAULT_MASTERY)) for c in ordered}
    reasons = {
        c: (
            ("学校选定能力点；" if c in chosen_set else "")
            + f"{DIMENSION_LABELS_ZH[framework.point(c).dimension]}维度，诊断差距 {gaps[c]:.2f}"
            + f"（{LEVEL_LABELS[mastery_level(1.0 - gaps[c])][0]}）"
        )
        for c in ordered
    }
    return TargetChoice(codes=ordered, gaps=gaps, reasons=reasons)
