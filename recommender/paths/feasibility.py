"""Why a learning path cannot exist: input checks and explanations that name the rule and the fix.

Kept apart from the builder so that every refusal a teacher or administrator may see is worded
in one place: each one becomes a :class:`~competency_model.plan.Violation` (zh + en) inside an
:class:`~competency_model.errors.InfeasibleError`, the same shape ``validate_plan`` uses.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from competency_model.catalog import CatalogItem
from competency_model.errors import InfeasibleError, NengliError
from competency_model.framework import DIMENSION_LABELS_ZH, ENVIRONMENT_LABELS_ZH, Framework
from competency_model.plan import Violation
from competency_model.policy import Policy
from recommender.paths.optimiser import PathProblem
from recommender.paths.target_search import search_target_set

__all__ = ["clean_mastery", "explain_no_target_set", "infeasible", "precheck", "violation"]


def violation(rule: str, expected: Any, actual: Any, zh: str, en: str) -> Violation:
    """A :class:`Violation` from positional parts (keeps the call sites short)."""
    return Violation(rule=rule, expected=expected, actual=actual, message_zh=zh, message_en=en)


def infeasible(violations: list[Violation], headline: str) -> InfeasibleError:
    """An :class:`InfeasibleError` listing every violation in the message and the details."""
    text = "; ".join(v.message_en for v in violations)
    return InfeasibleError(
        f"{headline}: {text}",
        details={"violations": [v.model_dump(mode="json") for v in violations]},
    )


def clean_mastery(mastery: Mapping[str, float]) -> dict[str, float]:
    """Mastery with unknown (NaN) values dropped; values outside [0, 1] are refused."""
    clean: dict[str, float] = {}
    for code, value in mastery.items():
        number = float(value)
        if math.isnan(number):
            continue  # no evidence: targets.DEFAULT_MASTERY applies
        if not 0.0 <= number <= 1.0:
            raise NengliError(
                f"mastery of {code} is {number}; mastery probabilities must lie in [0, 1]"
            )
        clean[code] = number
    return clean


def precheck(problem: PathProblem, policy: Policy, env: str) -> None:
    """Name every necessary condition the candidates already fail, before calling a solver."""
    found: list[Violation] = []
    where = f"the catalog items a {env} school can use for targets {problem.targets}"
    for j, code in enumerate(problem.targets):
        if not (problem.covers[:, j] & problem.is_practice).any():
            found.append(
                violation(
                    "practice_coverage",
                    ">=1 practice task",
                    0,
                    f"{code} 没有可用的实践任务；请在课程目录中为 {code} 增加实践任务",
                    f"{code} has no usable practice task; add a practice task for {code} "
                    "to the catalog",
                )
            )
    pools = [
        ("total_hours", problem.hours.sum(), policy.total_hours, "总学时"),
        (
            "min_online_hours",
            problem.hours[problem.is_online].sum(),
            policy.min_online_hours,
            "线上学时",
        ),
        (
            "min_practice_hours",
            problem.hours[problem.is_practice].sum(),
            max(policy.min_practice_hours, policy.min_practice_share * policy.total_hours),
            "实践学时",
        ),
    ]
    for rule, available, needed, zh in pools:
        if available + 1e-9 < needed:
            found.append(
                violation(
                    rule,
                    needed,
                    float(available),
                    f"可用条目仅提供 {available:g} {zh}，政策要求 {needed:g}；请补充课程目录或升级学校环境",
                    f"{where} offer only {available:g} h towards {rule} but the policy needs "
                    f"{needed:g}; add such items to the catalog (or upgrade the environment)",
                )
            )
    if found:
        raise infeasible(found, "no compliant plan exists")


def _where(env: str, stage: str | None) -> tuple[str, str]:
    zh = f"{stage or '全部学段'}·{ENVIRONMENT_LABELS_ZH.get(env, env)}"
    en = f"stage {stage or 'any'}, {env} environment"
    return zh, en


def pool_shortfalls(
    pool: Sequence[CatalogItem],
    points: Sequence[str],
    policy: Policy,
    framework: Framework,
    env: str,
    stage: str | None,
) -> list[Violation]:
    """Rules the whole usable pool already fails, whatever the targets (hours, points, dimensions).

    ``points`` are the allowed points that some practice task develops; the hours counted are
    those of items lying on such points.
    """
    zh_where, en_where = _where(env, stage)
    on_points = [it for it in pool if any(c in set(points) for c in it.points)]
    found: list[Violation] = []
    dimensions = {framework.point(c).dimension for c in points}
    if len(points) < policy.min_points:
        found.append(
            violation(
                "min_points",
                policy.min_points,
                len(points),
                f"{zh_where}：只有 {len(points)} 个能力点有可用实践任务，政策要求至少 "
                f"{policy.min_points} 个；请为更多能力点补充该学段的实践任务",
                f"{en_where}: only {len(points)} points have a usable practice task but the "
                f"policy needs {policy.min_points}; add practice tasks for this stage on more points",
            )
        )
    if len(dimensions) < policy.min_dimensions:
        missing = [DIMENSION_LABELS_ZH[d] for d in DIMENSION_LABELS_ZH if d not in dimensions]
        found.append(
            violation(
                "min_dimensions",
                policy.min_dimensions,
                len(dimensions),
                f"{zh_where}：可用能力点只覆盖 {len(dimensions)} 个维度；请补充"
                f"{'、'.join(missing)}维度的实践任务",
                f"{en_where}: usable points cover {len(dimensions)} dimensions, the policy needs "
                f"{policy.min_dimensions}; add practice tasks in the missing dimensions",
            )
        )
    practice_needed = max(policy.min_practice_hours, policy.min_practice_share * policy.total_hours)
    pools = [
        ("total_hours", sum(it.hours for it in on_points), policy.total_hours, "总学时"),
        (
            "min_online_hours",
            sum(it.hours for it in on_points if it.kind in policy.online_kinds),
            policy.min_online_hours,
            "线上学时",
        ),
        (
            "min_practice_hours",
            sum(it.hours for it in on_points if it.kind in policy.practice_kinds),
            practice_needed,
            "实践学时",
        ),
    ]
    for rule, available, needed, zh in pools:
        if available + 1e-9 < needed:
            found.append(
                violation(
                    rule,
                    needed,
                    float(available),
                    f"{zh_where}：可用条目仅提供 {available:g} {zh}，政策要求 {needed:g}；"
                    "请为该学段与环境补充此类条目，或升级学校环境",
                    f"{en_where}: usable items offer only {available:g} h towards {rule} but the "
                    f"policy needs {needed:g}; add such items for this stage and environment "
                    "(or upgrade the environment)",
                )
            )
    return found


def explain_no_target_set(
    first_error: InfeasibleError,
    pool: Sequence[CatalogItem],
    points: Sequence[str],
    required: Sequence[str],
    gaps: Mapping[str, float],
    policy: Policy,
    framework: Framework,
    env: str,
    *,
    stage: str | None,
    hours_slack: float,
) -> InfeasibleError:
    """Why no target set works: the school's chosen points, a pool-wide shortfall, or the mix.

    The first target set's own violations are kept after the explanation, so nothing the
    solver found is hidden.
    """
    zh_where, en_where = _where(env, stage)
    found = pool_shortfalls(pool, points, policy, framework, env, stage)
    if not found and required:
        free = search_target_set(
            pool, points, gaps, policy, framework, hours_slack=hours_slack
        ).codes
        if free is not None:
            found.append(
                violation(
                    "chosen_points",
                    f"a compliant set containing {list(required)}",
                    f"only sets without some of them, e.g. {free}",
                    f"{zh_where}：学校所选能力点 {'、'.join(required)} 与现有条目无法组成合规计划"
                    f"（不含它们的 {'、'.join(free)} 可以）；请为所选能力点补充条目，或调整学校选点",
                    f"{en_where}: the school's chosen points {list(required)} cannot be part of a "
                    f"compliant plan with these items (a set without them, {free}, can); add "
                    "items on the chosen points or change the school's selection",
                )
            )
    if not found:
        found.append(
            violation(
                "combination",
                "a target set whose items meet every rule at once",
                "none",
                f"{zh_where}：没有任何满足选点与维度规则的能力点组合能同时满足全部学时规则；"
                "请补充短学时的线上课程与实践任务，或增加总学时浮动",
                f"{en_where}: no target set satisfying the point and dimension rules admits "
                "items meeting every hour rule at once; add shorter online courses and practice "
                "tasks, or raise hours_slack",
            )
        )
    first = [Violation.model_validate(v) for v in first_error.details.get("violations", [])]
    return infeasible(found + first, "no compliant plan exists for any target set")
