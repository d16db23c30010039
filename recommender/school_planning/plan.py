"""一校一策: a school's target points, per-教研组 emphasis, expected gain, courses and research.

From all teachers' mastery and the school's environment we propose the points the whole school
works on (整校推进): those with the largest *school-wide* need — the mean shortfall below the
mastery threshold, so a point where a few teachers are far behind and one where everyone is a
little behind both count — restricted to the points the environment allows and the catalog can
support, covering as many of the four dimensions as the policy (and the environment) permit.
Where a 教研组 is large enough and its own worst gap differs from the school's, it gets that point
as an extra emphasis. The expected improvement is the gain model of the learning paths applied
to an even share of the policy hours per point.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from competency_model.catalog import Catalog, CatalogItem, environment_rank
from competency_model.errors import InfeasibleError, NotFoundError
from competency_model.framework import DIMENSION_LABELS_ZH, DIMENSIONS, Framework
from competency_model.graph import CompetencyGraph
from competency_model.policy import Policy
from recommender.paths.gain import GainModel
from recommender.paths.optimiser import credited_gain
from recommender.paths.targets import TargetChoice, choose_targets
from recommender.school_planning.mastery import attach_teachers

__all__ = ["SchoolPlan", "plan_school", "plan_schools", "point_need"]


@dataclass
class SchoolPlan:
    """The proposal for one school (JSON-ready through :meth:`to_dict`)."""

    school_id: str
    environment: str
    policy: str
    n_teachers: int
    targets: list[str]
    mean_mastery: dict[str, float]
    need: dict[str, float]
    expected_improvement: dict[str, float]
    group_targets: dict[str, list[str]]
    courses: dict[str, list[str]]
    research_activities: dict[str, list[str]]
    dimension_coverage: dict[str, list[str]]
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        """Plain dict for ``--json`` and the API."""
        return asdict(self)


def _nanmean(values: np.ndarray) -> np.ndarray:
    """Column means ignoring NaN (NaN for an all-NaN column), without numpy's warning."""
    present = ~np.isnan(values)
    counts = present.sum(axis=0)
    sums = np.where(present, values, 0.0).sum(axis=0)
    return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


def _need(values: np.ndarray, threshold: float) -> np.ndarray:
    return np.nan_to_num(_nanmean(np.clip(threshold - values, 0.0, None)), nan=0.0)


def point_need(mastery: pd.DataFrame, codes: Sequence[str], threshold: float) -> pd.Series:
    """Mean shortfall below ``threshold`` per point (0 when every teacher reaches it)."""
    values = mastery[list(codes)].to_numpy(dtype=np.float64)
    return pd.Series(_need(values, threshold), index=list(codes))


@lru_cache(maxsize=4096)
def _items_for(
    catalog: Catalog,
    code: str,
    environment: str,
    kinds: tuple[str, ...],
    limit: int,
    stage: str | None = None,
) -> list[CatalogItem]:
    rank = environment_rank(environment)
    found = [
        item
        for item in catalog.items
        if code in item.points and item.kind in kinds and environment_rank(item.environment) <= rank
    ]
    # the school's main stage first, then items mostly about this point, then subject-general
    # (通用) before subject-specific
    found.sort(
        key=lambda it: (
            stage is not None and stage not in it.stages,
            -it.points[code],
            "通用" not in it.subjects,
            it.item_id,
        )
    )
    return found[:limit]


@lru_cache(maxsize=64)
def _coverable(catalog: Catalog, environment: str) -> frozenset[str]:
    """Points with a practice task (mostly about that point) usable in this environment."""
    rank = environment_rank(environment)
    return frozenset(
        c
        for item in catalog.tasks
        for c, w in item.points.items()
        if w >= 0.5 and environment_rank(item.environment) <= rank
    )


def _expected_gain(values: np.ndarray, hours_per_point: float, gains: GainModel) -> float:
    """Mean credited gain when each teacher spends ``hours_per_point`` half online, half practice."""
    raw = hours_per_point / 2 * (gains.online_rate + gains.practice_rate)
    gaps = 1.0 - values[~np.isnan(values)]
    if not len(gaps):
        return 0.0
    return float(np.mean(credited_gain(np.full(len(gaps), raw), gaps)))


def plan_school(
    school_id: str,
    schools: pd.DataFrame,
    teacher_mastery: pd.DataFrame,
    policy: Policy,
    catalog: Catalog,
    framework: Framework,
    *,
    graph: CompetencyGraph | None = None,
    threshold: float = 0.6,
    n_targets: int | None = None,
    group_min_teachers: int = 5,
    gain_model: GainModel | None = None,
) -> SchoolPlan:
    """Propose one school's plan.

    Parameters
    ----------
    school_id
        The school (must be in ``schools``).
    schools
        The province's ``schools`` table (environment is read from it).
    teacher_mastery
        :func:`~recommender.school_planning.mastery.attach_teachers` output for (at least) this
        school's teachers: ``school_id``, ``research_group`` and one column per point.
    policy, catalog, framework
        Rules, catalog and framework; targets use the policy's point rule with all four
        dimensions asked for when the environment allows.
    threshold
        Mastery a teacher should reach on a point; need = mean shortfall below it.
    n_targets
        School targets (default ``max(policy.min_points, 4)``).
    group_min_teachers
        A 教研组 smaller than this follows the school plan without its own emphasis.
    """
    row = schools.loc[schools["school_id"].astype(str) == str(school_id)]
    if row.empty:
        raise NotFoundError(f"school {school_id!r} is not in the schools table")
    environment = str(row["environment"].iloc[0])
    members = teacher_mastery.loc[teacher_mastery["school_id"].astype(str) == str(school_id)]
    if members.empty:
        raise NotFoundError(
            f"school {school_id!r} has no diagnosed teachers; run the diagnosis first"
        )
    graph = graph if graph is not None else CompetencyGraph(framework)
    gains = gain_model if gain_model is not None else GainModel()
    codes = framework.codes
    values = members[list(codes)].to_numpy(dtype=np.float64)  # one copy, reused below
    column = {c: j for j, c in enumerate(codes)}
    need = pd.Series(_need(values, threshold), index=list(codes))
    coverable = _coverable(catalog, environment)
    wanted = n_targets if n_targets is not None else max(policy.min_points, 4)
    school_policy = policy.model_copy(update={"min_dimensions": len(DIMENSIONS)})
    notes: list[str] = []
    school_mastery = {c: 1.0 - float(need[c]) for c in codes}

    def choose(rules: Policy) -> TargetChoice:
        return choose_targets(
            school_mastery,
            environment,
            rules,
            framework,
            graph=graph,
            coverable=coverable,
            n_targets=wanted,
        )

    try:
        choice = choose(school_policy)
    except InfeasibleError:  # fewer than four dimensions available: use the policy's own rule
        notes.append("环境或课程目录不足以覆盖全部四个维度，按政策最低维度要求选点")
        choice = choose(policy)
    targets = choice.codes
    hours_per_point = policy.total_hours / max(len(targets), 1)
    improvement = {
        c: round(_expected_gain(values[:, column[c]], hours_per_point, gains), 4) for c in targets
    }
    allowed = set(graph.feasible_points(environment, gating=policy.environment_gating)) & set(
        coverable
    )
    group_targets: dict[str, list[str]] = {}
    groups = members["research_group"].astype(str).to_numpy()
    for group in sorted(set(groups)):
        rows = groups == group
        if rows.sum() < group_min_teachers:
            continue
        group_need = dict(zip(codes, _need(values[rows], threshold), strict=True))
        ranked = sorted(targets, key=lambda c: -group_need[c])[:2]
        extra = max(allowed - set(targets), key=lambda c: group_need[c], default=None)
        if extra is not None and group_need[extra] > group_need[ranked[0]] + 0.05:
            ranked.append(extra)  # the group's own worst gap clearly exceeds the school's
        group_targets[str(group)] = ranked
    coverage = {d: [c for c in targets if framework.point(c).dimension == d] for d in DIMENSIONS}
    online, practice = tuple(policy.online_kinds), tuple(policy.practice_kinds)
    stage = str(members["stage"].mode().iloc[0]) if "stage" in members else None
    missing = [DIMENSION_LABELS_ZH[d] for d, found in coverage.items() if not found]
    if missing:
        notes.append(f"未覆盖维度：{'、'.join(missing)}")
    return SchoolPlan(
        school_id=str(school_id),
        environment=environment,
        policy=policy.name,
        n_teachers=len(members),
        targets=targets,
        mean_mastery={c: round(float(m), 4) for c, m in zip(codes, _nanmean(values), strict=True)},
        need={c: round(float(need[c]), 4) for c in targets},
        expected_improvement=improvement,
        group_targets=group_targets,
        courses={
            c: [i.item_id for i in _items_for(catalog, c, environment, online, 3, stage)]
            for c in targets
        },
        research_activities={
            c: [
                i.item_id
                for i in _items_for(catalog, c, environment, ("school_research",), 2, stage)
            ]
            or [i.item_id for i in _items_for(catalog, c, environment, practice, 2, stage)]
            for c in targets
        },
        dimension_coverage=coverage,
        notes=notes,
    )


def plan_schools(
    schools: pd.DataFrame,
    teachers: pd.DataFrame,
    mastery: pd.DataFrame,
    policy: Policy,
    catalog: Catalog,
    framework: Framework,
    school_ids: Sequence[str] | None = None,
    **options: Any,
) -> list[SchoolPlan]:
    """Plans for many schools (default: all), sharing one graph and one teacher join."""
    graph = CompetencyGraph(framework)
    joined = attach_teachers(mastery, teachers)
    table = schools.assign(school_id=schools["school_id"].astype(str))
    ids = list(table["school_id"]) if school_ids is None else [str(s) for s in school_ids]
    joined["school_id"] = joined["school_id"].astype(str)
    by_school = dict(tuple(joined.groupby("school_id", sort=False)))
    rows = dict(tuple(table.groupby("school_id", sort=False)))
    plans = []
    for school_id in ids:
        if school_id not in by_school or school_id not in rows:
            continue  # a school without diagnosed teachers gets no plan
        plans.append(
            plan_school(
                school_id,
                rows[school_id],
                by_school[school_id],
                policy,
                catalog,
                framework,
                graph=graph,
                **options,
            )
        )
    return plans
