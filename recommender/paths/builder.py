"""Build a teacher's policy-compliant learning plan: targets → item selection → weeks → evidence.

:func:`build_learning_path` is the one entry point the CLI and the service share. It never
returns an invalid plan: the finished plan is checked with
:func:`competency_model.policy.validate_plan`, and any request that cannot be met raises
:class:`~competency_model.errors.InfeasibleError` whose ``details['violations']`` lists every
unmet rule with what would fix it (more catalog items for a point, a richer environment, a
larger hour slack …).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from competency_model.catalog import (
    BASE_PRACTICE_KINDS,
    ONLINE_KINDS,
    Catalog,
    CatalogItem,
    environment_rank,
)
from competency_model.errors import InfeasibleError
from competency_model.framework import Framework, normalize_environment
from competency_model.graph import CompetencyGraph
from competency_model.plan import LeftOutPoint, Plan, PlanItem, compute_totals
from competency_model.policy import Policy, load_policy, validate_plan
from recommender.paths.evidence import evidence_for
from recommender.paths.feasibility import (
    clean_mastery,
    explain_no_target_set,
    infeasible,
    precheck,
    violation,
)
from recommender.paths.gain import GainModel
from recommender.paths.optimiser import PathProblem, Selection, solve_greedy, solve_milp
from recommender.paths.schedule import ScheduledItem, schedule_items
from recommender.paths.target_search import search_target_set
from recommender.paths.targets import (
    DEFAULT_MASTERY,
    TargetChoice,
    choose_targets,
    explain_targets,
)

__all__ = ["PreparedPath", "build_learning_path", "candidate_pool", "prepare_path"]

Method = Literal["milp", "greedy"]


@dataclass(frozen=True)
class PreparedPath:
    """Everything decided before item selection: the targets, candidates and the MILP data."""

    targets: TargetChoice
    candidates: list[CatalogItem]
    problem: PathProblem
    policy: Policy
    school_environment: str
    #: Points some practice task the teacher can take develops enough to target them.
    coverable: frozenset[str] = frozenset()


def _candidates(
    catalog: Catalog,
    school_environment: str,
    allowed_points: set[str],
    policy: Policy,
    stage: str | None,
    subject: str | None,
) -> list[CatalogItem]:
    """Catalog items the teacher can take: environment, gating, stage/subject, weekly limit."""
    rank = environment_rank(school_environment)
    # base kinds the policy counts neither as online nor practice (Jiangsu: live) still earn
    # 学时; a regional practice kind (集中培训 …) is only offered where the policy counts it
    kinds = set(policy.online_kinds) | set(policy.practice_kinds) | set(ONLINE_KINDS)
    kinds |= set(BASE_PRACTICE_KINDS)
    found = []
    for item in catalog.items:
        if environment_rank(item.environment) > rank or item.kind not in kinds:
            continue
        if not set(item.points) <= allowed_points:
            continue
        if item.hours > policy.max_weekly_hours + 1e-9:
            continue  # one item is done within one week (weekly_load rule)
        if stage is not None and stage not in item.stages:
            continue
        if subject is not None and "通用" not in item.subjects and subject not in item.subjects:
            continue
        found.append(item)
    return found


def candidate_pool(
    catalog: Catalog,
    school_environment: str,
    policy: Policy,
    graph: CompetencyGraph,
    stage: str | None,
    subject: str | None,
    *,
    min_target_weight: float = 0.5,
) -> tuple[list[CatalogItem], set[str]]:
    """The items a teacher can take and the points among them that a practice task develops.

    A point is *coverable* when some practice task puts at least ``min_target_weight`` on it:
    only such points can be targets (every target needs a practice task).
    """
    env = normalize_environment(school_environment)
    allowed = set(graph.feasible_points(env, gating=policy.environment_gating))
    pool = _candidates(catalog, env, allowed, policy, stage, subject)
    practice_kinds = set(policy.practice_kinds)
    coverable = {
        code
        for item in pool
        if item.kind in practice_kinds
        for code, weight in item.points.items()
        if weight >= min_target_weight - 1e-9
    }
    return pool, coverable


def prepare_path(
    mastery: Mapping[str, float],
    school_environment: str,
    policy: Policy | str | Path,
    catalog: Catalog,
    framework: Framework,
    chosen_points: Collection[str] = (),
    completed: Collection[str] = (),
    *,
    stage: str | None = None,
    subject: str | None = None,
    graph: CompetencyGraph | None = None,
    n_targets: int | None = None,
    hours_slack: float | None = None,
    gain_model: GainModel | None = None,
    min_target_weight: float = 0.5,
    fixed_targets: Sequence[str] | None = None,
) -> PreparedPath:
    """Choose targets and build the selection problem (shared by the builder and the benchmarks).

    ``fixed_targets`` skips the gap-based choice and uses the given set (from
    :func:`~recommender.paths.target_search.search_target_set`).

    Raises
    ------
    InfeasibleError
        When no target set satisfies the point-selection rules with this catalog (the hour
        rules are checked later, by the builder).
    """
    pol = policy if isinstance(policy, Policy) else load_policy(policy)
    env = normalize_environment(school_environment)
    graph = graph if graph is not None else CompetencyGraph(framework)
    gains = gain_model if gain_model is not None else GainModel()
    mastery = clean_mastery(mastery)
    pool, coverable = candidate_pool(
        catalog, env, pol, graph, stage, subject, min_target_weight=min_target_weight
    )
    practice_kinds = set(pol.practice_kinds)
    if fixed_targets is not None:
        # a set found by the target search: it already satisfies the selection rules
        choice = explain_targets(fixed_targets, mastery, framework, chosen_points)
    else:
        choice = choose_targets(
            mastery,
            env,
            pol,
            framework,
            graph=graph,
            chosen_points=chosen_points,
            coverable=coverable,
            n_targets=n_targets,
        )
    targets = choice.codes
    # an item enters only when most of its weight is on the targets: the plan lists the
    # targets it serves (policy rule items_on_targets) and its side effects stay minor
    target_set = set(targets)
    candidates = [
        item
        for item in pool
        if sum(w for c, w in item.points.items() if c in target_set) >= min_target_weight - 1e-9
    ]
    done = set(completed)
    if hours_slack is None:
        hours_slack = max((item.hours for item in candidates), default=0.0)
    fixed = np.array([item.item_id in done for item in candidates], dtype=bool)
    is_practice = np.array([item.kind in practice_kinds for item in candidates], dtype=bool)
    is_online = np.array([item.kind in pol.online_kinds for item in candidates], dtype=bool)
    hours = np.array([item.hours for item in candidates], dtype=np.float64)
    column = {code: j for j, code in enumerate(targets)}
    gain = np.zeros((len(candidates), len(targets)))
    covers = np.zeros((len(candidates), len(targets)), dtype=bool)
    for i, item in enumerate(candidates):
        for code in item.points:
            if code in column:
                covers[i, column[code]] = True
        if item.item_id in done:
            continue  # already reflected in the diagnosed mastery: hours count, gain does not
        per_point = gains.item_gain(
            bool(is_practice[i]), item.hours, item.level, item.points, mastery, DEFAULT_MASTERY
        )
        for code, value in per_point.items():
            if code in column:
                gain[i, column[code]] = value
    gaps = np.array([choice.gaps[c] for c in targets])
    chosen_set = set(chosen_points)
    importance = gaps * np.array(
        [gains.chosen_point_bonus if c in chosen_set else 1.0 for c in targets]
    )
    problem = PathProblem(
        item_ids=[item.item_id for item in candidates],
        kinds=[item.kind for item in candidates],
        hours=hours,
        is_online=is_online,
        is_practice=is_practice,
        gain=gain,
        covers=covers,
        gaps=np.maximum(gaps, 0.0),
        importance=np.maximum(importance, 1e-3),
        targets=list(targets),
        min_total_hours=pol.total_hours,
        # hours already completed may exceed the total: the plan then only adds coverage
        max_total_hours=max(pol.total_hours, float(hours[fixed].sum())) + hours_slack,
        min_practice_hours=pol.min_practice_hours,
        min_practice_share=pol.min_practice_share,
        min_online_hours=pol.min_online_hours,
        fixed=fixed,
    )
    return PreparedPath(choice, candidates, problem, pol, env, frozenset(coverable))


def _reason(
    item: CatalogItem, targets: Sequence[str], raw_gain: Mapping[str, float], done: bool
) -> str:
    weights = "、".join(f"{c}({item.points[c]:.0%})" for c in targets if c in item.points)
    kind = "实践任务" if not item.is_online else "线上课程"
    text = f"{kind}，发展 {weights}"
    gains = "，".join(f"{c} +{g:.2f}" for c, g in raw_gain.items() if g > 0)
    if gains:
        text += f"；预期提升 {gains}"
    if item.artifacts:
        text += f"；产出证据：{'、'.join(item.artifacts)}"
    if done:
        text = "已完成（计入本周期学时）；" + text
    return text


def _solve(prepared: PreparedPath, method: Method) -> Selection:
    """Precheck the necessary conditions, then select items; raise when nothing is compliant."""
    problem = prepared.problem
    precheck(problem, prepared.policy, prepared.school_environment)
    selection = solve_milp(problem) if method == "milp" else solve_greedy(problem)
    if selection.feasible:
        return selection
    raise infeasible(
        [
            violation(
                "combination",
                "a selection meeting every rule at once",
                selection.status,
                "现有条目无法同时满足全部规则（覆盖每个能力点、学时下限与上限）；"
                "请增加总学时浮动（hours_slack）、减少目标能力点或补充短学时条目",
                f"no subset of the {problem.n_items} candidate items meets every rule at "
                f"once (cover each of {problem.targets} with a practice task and keep "
                f"{problem.min_total_hours:g}–{problem.max_total_hours:g} h); raise "
                "hours_slack, target fewer points, or add shorter items to the catalog",
            )
        ],
        "no compliant plan exists",
    )


#: Target sets the search may propose before giving up (each refused set is cut off).
_SEARCH_ATTEMPTS = 4


def _select(
    mastery: Mapping[str, float],
    school_environment: str,
    policy: Policy,
    catalog: Catalog,
    framework: Framework,
    chosen_points: Collection[str],
    completed: Collection[str],
    *,
    n_targets: int | None,
    method: Method,
    stage: str | None,
    subject: str | None,
    graph: CompetencyGraph,
    **options: Any,
) -> tuple[PreparedPath, Selection]:
    """Prepare and solve the largest-gap target set; when the catalog cannot serve it (and no
    ``n_targets`` was asked for), search the other target sets that satisfy the point and
    dimension rules and keep the school's chosen points (:mod:`.target_search`).

    A target-rule failure of the first set (min_points, gating …) is final: no other set of
    the same pool can do better. When no set works, the error names the rule that fails for
    this stage and environment and what would fix it (:func:`.feasibility.explain_no_target_set`).
    """

    def prepare(count: int | None, fixed: Sequence[str] | None = None) -> PreparedPath:
        return prepare_path(
            mastery,
            school_environment,
            policy,
            catalog,
            framework,
            chosen_points,
            completed,
            stage=stage,
            subject=subject,
            graph=graph,
            n_targets=count,
            fixed_targets=fixed,
            **options,
        )

    if n_targets is not None:
        prepared = prepare(n_targets)
        return prepared, _solve(prepared, method)
    prepared = prepare(max(policy.min_points, policy.min_dimensions, 3))
    try:
        return prepared, _solve(prepared, method)
    except InfeasibleError as error:
        first_error = error
    env = prepared.school_environment
    pool, coverable = candidate_pool(catalog, env, policy, graph, stage, subject)
    allowed = graph.feasible_points(env, gating=policy.environment_gating)
    points = [c for c in allowed if c in coverable]
    required = [c for c in dict.fromkeys(chosen_points) if c in coverable]
    clean = clean_mastery(mastery)
    gaps = {c: 1.0 - float(clean.get(c, DEFAULT_MASTERY)) for c in points}
    slack = options.get("hours_slack")
    slack = slack if slack is not None else max((it.hours for it in pool), default=0.0)
    tried: list[list[str]] = [list(prepared.targets.codes)]
    for _ in range(_SEARCH_ATTEMPTS):
        found = search_target_set(
            pool,
            points,
            gaps,
            policy,
            framework,
            required=required,
            excluded_sets=tried,
            hours_slack=slack,
        )
        if found.codes is None:
            break
        candidate = prepare(None, found.codes)
        try:
            return candidate, _solve(candidate, method)
        except InfeasibleError:
            tried.append(found.codes)  # e.g. completed items or the greedy: try the next set
    raise explain_no_target_set(
        first_error,
        pool,
        points,
        required,
        gaps,
        policy,
        framework,
        env,
        stage=stage,
        hours_slack=slack,
    )


def left_out_points(
    chosen_points: Collection[str],
    targets: Collection[str],
    coverable: Collection[str],
    *,
    stage: str | None,
    subject: str | None,
) -> list[LeftOutPoint]:
    """The school's chosen points the plan does not target, each with the reason (zh + en)."""
    who = f"{stage or ''}{subject or ''}教师" if stage or subject else "该教师"
    who_en = " ".join(x for x in (stage, subject) if x) or "this"
    left: list[LeftOutPoint] = []
    for code in dict.fromkeys(chosen_points):
        if code in targets:
            continue
        if code not in coverable:
            left.append(
                LeftOutPoint(
                    point=code,
                    reason="no_practice_task",
                    message_zh=(
                        f"学校选定的能力点 {code} 未纳入本计划：没有{who}可做、在 {code} 上权重"
                        "不低于 0.5 的实践任务。请在课程目录中为该学段、学科和环境补充这类任务。"
                    ),
                    message_en=(
                        f"The school's chosen point {code} is not in this plan: no practice task "
                        f"a {who_en} teacher can take puts a weight of at least 0.5 on it. Add "
                        "such a task for this stage, subject and environment to the catalog."
                    ),
                )
            )
        else:
            left.append(
                LeftOutPoint(
                    point=code,
                    reason="target_count",
                    message_zh=(
                        f"学校选定的能力点 {code} 未纳入本计划：本计划的目标能力点"
                        f"（{'、'.join(targets)}）已选满，未能同时纳入 {code}。"
                    ),
                    message_en=(
                        f"The school's chosen point {code} is not in this plan: its targets "
                        f"({', '.join(targets)}) are full and {code} could not be added."
                    ),
                )
            )
    return left


def build_learning_path(
    teacher_id: str,
    mastery: Mapping[str, float],
    school_environment: str,
    policy: Policy | str | Path,
    catalog: Catalog,
    framework: Framework,
    chosen_points: Collection[str] = (),
    completed: Collection[str] = (),
    *,
    stage: str | None = None,
    subject: str | None = None,
    graph: CompetencyGraph | None = None,
    n_targets: int | None = None,
    hours_slack: float | None = None,
    method: Method = "milp",
    gain_model: GainModel | None = None,
) -> Plan:
    """Build and validate one teacher's learning plan for a policy cycle.

    Parameters
    ----------
    teacher_id
        Copied into the plan.
    mastery
        Diagnosed mastery probability per point (e.g. from ``DiagnosisModel.diagnose``).
    school_environment
        ``multimedia`` / ``blended`` / ``smart`` (or A/B/C).
    policy
        A :class:`Policy` or a policy name/path (``"jiangsu"``).
    catalog, framework
        Course/practice catalog and competency framework.
    chosen_points
        The school's selected points (一校一策), preferred as targets.
    completed
        Catalog ids already completed this cycle; they stay in the plan (their hours count)
        and are not re-recommended.
    stage, subject
        Restrict items to the teacher's stage and subject (``通用`` items always fit).
    n_targets
        Number of target points (default ``max(min_points, 3)``).
    hours_slack
        Hours the plan may exceed the policy total by (default: the longest candidate item).
    method
        ``"milp"`` (HiGHS, default) or ``"greedy"`` (the bounded heuristic).

    Returns
    -------
    Plan
        With ``violations == []`` — always; otherwise an error is raised.

    Raises
    ------
    InfeasibleError
        ``details['violations']`` names each unmet rule and the fix.
    """
    pol = policy if isinstance(policy, Policy) else load_policy(policy)
    graph = graph if graph is not None else CompetencyGraph(framework)
    prepared, selection = _select(
        mastery,
        school_environment,
        pol,
        catalog,
        framework,
        chosen_points,
        completed,
        stage=stage,
        subject=subject,
        graph=graph,
        n_targets=n_targets,
        hours_slack=hours_slack,
        gain_model=gain_model,
        method=method,
    )
    problem = prepared.problem
    done = set(completed)
    chosen_items = [
        item for item, keep in zip(prepared.candidates, selection.chosen, strict=True) if keep
    ]
    targets = prepared.targets.codes
    scheduled = schedule_items(
        [
            ScheduledItem(
                item_id=item.item_id,
                kind=item.kind,
                hours=item.hours,
                points=tuple(c for c in targets if c in item.points),
                primary=max((c for c in targets if c in item.points), key=lambda c: item.points[c]),
                level=item.level,
                is_online=item.kind in pol.online_kinds,
                done=item.item_id in done,
            )
            for item in chosen_items
        ],
        targets,
        graph,
        pol.max_weekly_hours,
        max_weeks=pol.cycle_years * 52,
    )
    by_id = {item.item_id: (i, item) for i, item in enumerate(prepared.candidates)}
    items = []
    for entry in scheduled:
        index, item = by_id[entry.item_id]
        raw = {c: float(problem.gain[index, j]) for j, c in enumerate(targets)}
        items.append(
            PlanItem(
                id=item.item_id,
                kind=item.kind,
                hours=item.hours,
                points=list(entry.points),
                week=entry.week,
                reason=_reason(item, targets, raw, item.item_id in done),
            )
        )
    task_artifacts: dict[str, list[str]] = {}
    for item in chosen_items:
        if item.kind in pol.practice_kinds:
            main = max((c for c in targets if c in item.points), key=lambda c: item.points[c])
            task_artifacts.setdefault(main, []).extend(item.artifacts)
    plan = Plan(
        teacher_id=teacher_id,
        policy=pol.name,
        targets=list(targets),
        items=items,
        totals=compute_totals(items, pol.online_kinds, pol.practice_kinds),
        evidence=evidence_for(targets, framework, task_artifacts),
        violations=[],
        chosen_points_left_out=left_out_points(
            chosen_points, targets, prepared.coverable, stage=stage, subject=subject
        ),
    )
    violations = validate_plan(plan, pol, framework, prepared.school_environment)
    if violations:
        raise infeasible(violations, "the built plan breaks the policy (not returned)")
    return plan
