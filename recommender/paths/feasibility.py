"""Why a learning path cannot exist: input checks and explanations that name the rule and the fix.

Kept apart from the builder so that every refusal a teacher or administrator may see is worded
in one place: each one becomes a :class:`~competency_model.plan.Violation` (zh + en) inside an
:class:`~competency_model.errors.InfeasibleError`, the same shape ``validate_plan`` uses.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from competency_model.errors import InfeasibleError, NengliError
from competency_model.plan import Violation
from competency_model.policy import Policy
from recommender.paths.optimiser import PathProblem

__all__ = ["clean_mastery", "infeasible", "precheck", "violation"]


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
